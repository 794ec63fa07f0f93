#ifndef WHOKNOWS_ENGINE_RANK_INTERNAL_H_
#define WHOKNOWS_ENGINE_RANK_INTERNAL_H_

// Private helpers shared by rank.cc, connect.cc and profile.cc.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine::internal {

enum class Role : uint8_t { kAnswer, kAccepted, kQuestion, kAuthor, kMention, kThread };
const char* RoleName(Role r);

struct Contribution {
  uint32_t person;
  uint32_t doc;
  double amount;
  Role role;
};

// Per-thread scratch for voting (dense arrays, reset in O(touched)).
struct VoteScratch {
  std::vector<double> vote;           // per person
  std::vector<uint32_t> touched;      // persons with vote != 0
  std::vector<uint8_t> excluded;      // per person: 1 = never return
  std::vector<uint32_t> excluded_list;
  std::vector<Contribution> contributions;
  std::vector<std::pair<uint32_t, double>> hit_docs;  // (doc, normalised bm25 * decay)
  std::vector<std::pair<uint32_t, double>> roles;     // per-doc scratch (person, weight)
  std::vector<Role> role_kinds;
  void Prepare(uint32_t persons);
  void Reset();
};

// Filters shared by voting and evidence.
struct DocFilter {
  GroupBits mask = kAllGroups;
  int64_t from = 0, to = 0;
  std::vector<uint32_t> topics;  // sorted topic indices; empty = all
  bool topic_filter = false;     // topics were requested (even if none is known)
  bool InWindow(const Snapshot& s, uint32_t d) const {
    const int64_t t = s.doc(d).timestamp;
    return (from == 0 || t >= from) && (to == 0 || t < to);
  }
  bool Visible(const Snapshot& s, uint32_t d) const { return s.DocVisible(d, mask) && InWindow(s, d); }
  bool Passes(const Snapshot& s, uint32_t d) const;
};

DocFilter MakeFilter(const Snapshot& s, GroupBits mask, int64_t from, int64_t to, std::span<const std::string> topics);

// Model 2 voting into scratch->vote / contributions / hit_docs. Marks
// opted-out and excluded people in scratch->excluded (they get no votes).
void Vote(const Snapshot& s, std::span<const indexer::SearchHit> hits, const AskOptions& options,
          const DocFilter& filter, VoteScratch* scratch);

VoteScratch& ThreadVoteScratch();
PprWorkspace& ThreadPprWorkspace();

// Newest doc of person p that passes `filter`'s visibility and window (0 if none).
int64_t LastVisibleActivity(const Snapshot& s, uint32_t p, const DocFilter& filter);

}  // namespace whoknows::engine::internal

#endif  // WHOKNOWS_ENGINE_RANK_INTERNAL_H_
