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
#include <span>
#include <vector>

#include "whoknows/engine/snapshot.h"
#include "whoknows/engine/topic_strength.h"

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

  // The explanation's topic order (RankExperts): each person's strength in
  // every topic of their newest kExplainTopicDocs documents, as
  // TopicStrengthsOf computes it with these options and max_docs. Precomputed
  // because a top expert on a 1M-post corpus has thousands of documents and
  // ten experts' scans cost more than the rest of the ranking.
  static constexpr size_t kExplainTopicDocs = 1000;
  // TopicStrengthsOf(snapshot, p, topics, o) into *out (bit-identical), or
  // false (and *out untouched) when o differs from the options this was built
  // with (other than group_mask), `mask` hides one of p's documents, or
  // `snapshot` is not the one this was built from: call TopicStrengthsOf then.
  bool TopicStrengths(const Snapshot& snapshot, uint32_t p, const TopicStrengthOptions& o,
                      std::span<const uint32_t> topics, std::vector<double>* out) const;
  static TopicStrengthOptions ExplainTopicOptions();

  size_t bytes() const;

 private:
  bool Covers(const Snapshot& s, uint32_t p, GroupBits mask) const;
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
  // Topic strengths: person p's (topic, strength) pairs, by topic, are
  // [topic_offset_[p], topic_offset_[p + 1]).
  std::vector<uint32_t> topic_offset_;
  std::vector<uint32_t> topic_;
  std::vector<double> strength_;
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_PERSON_ACTIVITY_H_
