#ifndef WHOKNOWS_ENGINE_EXPERTISE_RANK_H_
#define WHOKNOWS_ENGINE_EXPERTISE_RANK_H_

// ExpertiseRank (Zhang, Ackerman & Adamic, "Expertise networks in online
// communities", WWW 2007): PageRank over the people graph in which an asker
// points to each person who answered them (a thread's starter to each
// replier, for mail and chat). Answering people who themselves answer others
// earns more than answering newcomers.
//
// Global form (ExpertiseRank): one walk over every thread of a snapshot,
// query-independent. A history query ranks "as of" its own time, so the walk
// is over the edges before it: scores are kept for checkpoints at every
// 1/kCheckpoints of the edges (oldest first), made on first use; AsOf(t) is
// the newest checkpoint with no edge at or after t.
//
// Query-dependent form (LocalExpertiseRank): the same walk over the edges of
// the threads among a query's hits, each weighted by its hit mass: authority
// within the question's topic.

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

// One asker -> answerer edge of the people graph (person indices).
struct PeopleEdge {
  uint32_t from = 0, to = 0;
  double weight = 1;
};

// PageRank over `edges` among `n` nodes (damping 0.85, uniform teleport,
// dangling mass spread uniformly), scaled by n: 1 is the uniform score.
std::vector<double> WeightedPageRank(uint32_t n, std::span<const PeopleEdge> edges, int iterations = 40);

// The asker -> answerer pairs of thread t (the root's author to each other
// author of a Q&A answer, or of any reply in a conversation), once per
// answerer, with the time of their first answer; `keep(doc)` filters the
// answering documents. Empty when the thread has no start (an orphan answer).
template <typename Keep, typename Fn>
void ForEachAnswerEdge(const Snapshot& s, uint32_t t, size_t max_docs, Keep keep, Fn fn);

class ExpertiseRank {
 public:
  static constexpr size_t kCheckpoints = 32;
  static std::shared_ptr<const ExpertiseRank> Build(const Snapshot& snapshot);
  // The scores (WeightedPageRank, one per person) over the edges before t
  // (0 = all of them), at the newest checkpoint not after t.
  std::shared_ptr<const std::vector<float>> AsOf(int64_t t) const;
  size_t edges() const { return edges_.size(); }

 private:
  uint32_t persons_ = 0;
  std::vector<PeopleEdge> edges_;  // oldest first
  std::vector<int64_t> ts_;        // edges_' times
  mutable std::mutex mu_;
  mutable absl::flat_hash_map<size_t, std::shared_ptr<const std::vector<float>>> by_prefix_;
};

// The ExpertiseRank of `snapshot`, made on first use and kept while the
// snapshot lives (keyed by its address and sizes).
std::shared_ptr<const ExpertiseRank> ExpertiseRankOf(const Snapshot& snapshot);

// ---- template definition

template <typename Keep, typename Fn>
void ForEachAnswerEdge(const Snapshot& s, uint32_t t, size_t max_docs, Keep keep, Fn fn) {
  const uint32_t r = s.ThreadRoot(t);
  if (r >= s.num_docs()) return;
  const DocInfo& root = s.doc(r);
  if (root.kind == indexer::RecordKind::kAnswer || root.kind == indexer::RecordKind::kComment) return;
  const uint32_t asker = root.author;
  if (asker == kNone) return;
  const bool qa = root.kind == indexer::RecordKind::kQuestion;
  uint32_t seen_people[64];
  size_t n_seen = 0, seen = 0;
  for (uint32_t e : s.ThreadDocs(t)) {
    if (e == r) continue;
    if (++seen > max_docs) break;
    const DocInfo& d = s.doc(e);
    if (d.author == kNone || d.author == asker) continue;
    if (qa ? d.kind != indexer::RecordKind::kAnswer : d.kind == indexer::RecordKind::kComment) continue;
    if (!keep(e)) continue;
    bool dup = false;
    for (size_t i = 0; i < n_seen && !dup; ++i) dup = seen_people[i] == d.author;
    if (dup) continue;
    if (n_seen < 64) seen_people[n_seen++] = d.author;
    fn(asker, d.author, e);
  }
}

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_EXPERTISE_RANK_H_
