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
// With a learned model (or w_topic > 0) the ranking also needs each
// candidate's person–topic counts (CountTopics), and the explanations each
// expert's topic strengths (TopicStrengths): both are kept here too.
//
// Thread-safe: immutable after Build. Tied to the snapshot it was built from
// (Count() takes it again and refuses another one's sizes).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "whoknows/engine/snapshot.h"
#include "whoknows/engine/topic_strength.h"

namespace whoknows::engine {

class PersonActivity {
 public:
  // O(person docs) time, 24 bytes per (person, doc), 12 per (person, non-question
  // doc, topic) plus 17 per person.
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

  // The person–topic counts of Score()'s `topic` component: for each topics[k],
  // the number of p's documents that are not questions, carry that topic and
  // have from <= timestamp < to (to = 0: unbounded), into counts[k] (a topic
  // a document lists twice counts twice, as in the scan). Two binary searches
  // per topic over p's (topic, timestamp) pairs. False (and counts untouched)
  // exactly when Count() is false.
  bool CountTopics(const Snapshot& snapshot, uint32_t p, GroupBits mask, int64_t from, int64_t to,
                   std::span<const uint32_t> topics, double* counts) const;

  // What RankExperts' explanations ask per expert: TopicStrengthsOf(snapshot,
  // p, topics, options) for the default options with options.max_docs =
  // kStrengthDocs and any group_mask, precomputed with TopicStrengthsOf itself
  // over each topic of p's newest kStrengthDocs documents (same sums, same
  // order). False (and *out untouched) when Count() would be false or the
  // options differ in anything but group_mask.
  static constexpr size_t kStrengthDocs = 1000;
  bool TopicStrengths(const Snapshot& snapshot, uint32_t p, const TopicStrengthOptions& options,
                      std::span<const uint32_t> topics, std::vector<double>* out) const;

  // RankExperts' topic candidates (engine/rank.cc) for a caller who sees every
  // document: per topic, the (author, documents) pairs that the scan of the
  // topic vertex's newest documents counts, made by `build` on the topic's first
  // use and kept with this snapshot's table (bounded by the snapshot's topic
  // edges). Null when `snapshot` is not the one this was built from. Thread-safe.
  using AuthorCounts = std::vector<std::pair<uint32_t, uint32_t>>;
  std::shared_ptr<const AuthorCounts> TopicAuthors(const Snapshot& snapshot, uint32_t topic,
                                                   const std::function<AuthorCounts()>& build) const;

  size_t bytes() const;

 private:
  mutable std::mutex topic_authors_mu_;
  mutable absl::flat_hash_map<uint32_t, std::shared_ptr<const AuthorCounts>> topic_authors_;

  // p's documents are all visible under `mask` and `snapshot` is the one this was built from.
  bool Usable(const Snapshot& snapshot, uint32_t p, GroupBits mask) const;
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
  // Per person: the (topic, timestamp) pairs of its non-question docs, sorted;
  // person p's are [topic_offset_[p], topic_offset_[p + 1]).
  std::vector<uint64_t> topic_offset_;
  std::vector<uint32_t> topic_key_;
  std::vector<int64_t> topic_ts_;
  // Per person: (topic, TopicStrengthsOf) of every topic of its newest
  // kStrengthDocs docs, sorted by topic; p's are [strength_offset_[p], strength_offset_[p + 1]).
  std::vector<uint64_t> strength_offset_;
  std::vector<uint32_t> strength_topic_;
  std::vector<double> strength_;
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_PERSON_ACTIVITY_H_
