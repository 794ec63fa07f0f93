#ifndef WHOKNOWS_ENGINE_PROFILE_H_
#define WHOKNOWS_ENGINE_PROFILE_H_

// Person profiles and topic statistics, computed from the documents visible
// to the caller. Thread-safe (no shared scratch).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

struct ProfileOptions {
  GroupBits group_mask = kAllGroups;
  size_t max_topics = 10;
  size_t max_docs = 10;
  size_t max_contacts = 10;
};

struct PersonProfile {
  uint32_t person = kNone;
  std::string id;
  std::string name;
  uint32_t docs = 0, answers = 0, accepted = 0, questions = 0;  // visible docs
  int64_t first_active = 0, last_active = 0;
  std::vector<std::pair<std::string, double>> topics;  // strength = share of visible docs with the topic
  std::vector<uint32_t> top_docs;                      // docids: accepted answers, then by score, then newest
  std::vector<std::pair<std::string, double>> contacts;  // (person id, interactions), most first; no opted-out
  std::vector<std::pair<int, uint32_t>> activity_per_year;  // (UTC year, docs), ascending
};

// NotFound for an unknown person; FailedPrecondition for an opted-out one.
absl::StatusOr<PersonProfile> ProfileOf(const Snapshot& snapshot, std::string_view person_id,
                                        const ProfileOptions& options);

struct TopicStatsOptions {
  GroupBits group_mask = kAllGroups;
  size_t k = 20;                 // topics, by visible doc count
  size_t people_per_topic = 3;
  double window_days = 90;       // trend: the last window vs the one before
  int64_t now = 0;               // end of the recent window; 0 = newest doc
};

struct TopicStat {
  std::string topic;
  uint32_t docs = 0;
  std::vector<std::pair<std::string, uint32_t>> top_people;  // (person id, docs); no opted-out
  uint32_t recent = 0;    // docs in (now - window, now]
  uint32_t previous = 0;  // docs in (now - 2 window, now - window]
  double trend = 0;       // (recent - previous) / max(previous, 1)
};

std::vector<TopicStat> TopicStats(const Snapshot& snapshot, const TopicStatsOptions& options);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_PROFILE_H_
