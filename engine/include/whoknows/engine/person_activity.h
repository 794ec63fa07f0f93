#ifndef WHOKNOWS_ENGINE_PERSON_ACTIVITY_H_
#define WHOKNOWS_ENGINE_PERSON_ACTIVITY_H_

// Per-person activity counts of one snapshot, precomputed once so that the
// ranking's prior / recent components cost O(log docs) per candidate instead
// of a scan of every document the candidate wrote (on a 1M-post corpus the
// most active people wrote tens of thousands).
//
// Prefix sums over Snapshot::PersonDocs (oldest first): for a time window the
// counts are two binary searches and a subtraction, so any `now`, from/to
// window and recent window is exact. Visibility is per document; when a
// caller's mask hides some document of a person, Count() says so and the
// caller scans that person instead.
//
// Thread-safe: immutable after Build. Tied to the snapshot it was built from
// (Count() takes it again and refuses another one's sizes).

#include <cstdint>
#include <memory>
#include <vector>

#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

class PersonActivity {
 public:
  // O(person docs) time, 24 bytes per (person, doc) plus 9 per person.
  static std::shared_ptr<const PersonActivity> Build(const Snapshot& snapshot);

  // What Score() counts per candidate: over p's documents with
  // from <= timestamp < to (to = 0: unbounded),
  //   activity  = answers + accepted answers + replies (docs with a parent that are not questions)
  //   recent    = the same over those with timestamp >= recent_from
  //   last      = newest such timestamp (0 if none)
  struct Counts {
    double activity = 0, recent = 0;
    double answers = 0, accepted = 0, questions = 0;
    int64_t last = 0;
  };
  // False (and *out untouched) when `mask` hides one of p's documents or
  // `snapshot` is not the one this was built from: scan p instead.
  bool Count(const Snapshot& snapshot, uint32_t p, GroupBits mask, int64_t from, int64_t to, int64_t recent_from,
             Counts* out) const;

  size_t bytes() const;

 private:
  // Prefix sums over the concatenation of every person's docs: entry i is
  // the sum over the first i (person, doc) pairs; person p's pairs are
  // [offset_[p], offset_[p + 1]).
  struct Prefix {
    uint32_t activity = 0, answers = 0, accepted = 0, questions = 0;
  };
  std::vector<uint32_t> offset_;
  std::vector<Prefix> prefix_;
  std::vector<int64_t> ts_;        // timestamps of the same pairs (prefix_ minus its leading 0)
  std::vector<GroupBits> groups_;  // per person: OR of its docs' group bits
  std::vector<uint8_t> hidden_;    // per person: 1 = has a doc visible to nobody (kNoGroup)
  uint32_t num_docs_ = 0;
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_PERSON_ACTIVITY_H_
