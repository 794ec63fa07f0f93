#ifndef WHOKNOWS_ENGINE_TOPIC_STRENGTH_H_
#define WHOKNOWS_ENGINE_TOPIC_STRENGTH_H_

// Person–topic strength: how much, how recently and in which role a person
// has worked on a topic, for every source (Q&A, mail, chat, posts). One score
// feeds `profile`, `topics`, connect reasons and the per-expert topics of
// `ask`; ranking features may use it too.
//
//   strength(p, t) = sum over p's visible documents d carrying t of
//                    RoleWeight(role(d)) * (floor + (1 - floor) * 2^(-age(d) / half_life_days))
//
// The floor keeps a long record visible: knowledge fades, it does not vanish
// (without it, one year of a 25-year mailing-list career outweighs the other
// 24 in a profile); a recent document still weighs up to 1 / floor times an
// old one.
// where a document carries the topics of its thread (Snapshot::DocTopics),
// and age(d) is measured from the newest document of d's community
// (Snapshot::community_max_timestamp; an archive that ended years ago is not
// all stale next to a live list) unless `now` is set. Roles:
//   answered   a Stack Exchange answer (accepted: times accepted_factor)
//   replied    a mail/chat/post message inside someone's thread
//   started    the first message of a mail/chat/post thread
//   commented  a Stack Exchange comment
//   asked      a Stack Exchange question
// Answering and replying show expertise; asking and starting show interest.
//
// Trend: documents in the last `window_days` before the reference time vs
// the window before: rising / declining when they differ by half and by at
// least two documents, steady otherwise, inactive when both are zero.
//
// Thread-safe (no shared scratch). Cost: O(documents of the person x topics
// per document), plus a sort of the person's topics.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

enum class TopicRole : uint8_t { kAnswered = 0, kReplied, kStarted, kCommented, kAsked };
inline constexpr size_t kNumTopicRoles = 5;
std::string_view TopicRoleName(TopicRole role);  // "answered", "replied", ...

enum class TopicTrend : uint8_t { kInactive = 0, kSteady, kRising, kDeclining };
std::string_view TopicTrendName(TopicTrend trend);  // "inactive", "steady", "rising", "declining"

struct TopicStrengthOptions {
  GroupBits group_mask = kAllGroups;
  double half_life_days = 365;
  double floor = 0.1;  // the least an old document weighs, as a share of a new one
  double w_answered = 1.0;
  double accepted_factor = 1.5;  // an accepted answer weighs w_answered times this
  double w_replied = 1.0;
  double w_started = 0.5;
  double w_commented = 0.5;
  double w_asked = 0.3;
  double window_days = 365;  // trend periods
  int64_t now = 0;           // reference time for decay and trend; 0 = each document's community's newest
  // TopicStrengthsOf reads at most the person's newest max_docs documents
  // (0 = all): a bound for per-query use, where decay makes older ones count little.
  size_t max_docs = 0;
};

struct PersonTopicStrength {
  uint32_t topic = kNone;
  double strength = 0;
  uint32_t docs = 0;
  std::array<uint32_t, kNumTopicRoles> by_role{};  // docs per TopicRole
  int64_t first_active = 0, last_active = 0;
  uint32_t recent = 0;    // docs in the last window
  uint32_t previous = 0;  // docs in the window before
  TopicTrend trend = TopicTrend::kInactive;
};

// The role of document d for its author.
TopicRole RoleOf(const Snapshot& s, uint32_t d);
// The weight of a role (an accepted answer: w_answered * accepted_factor).
double RoleWeight(const Snapshot& s, uint32_t d, const TopicStrengthOptions& o);
// recent vs previous -> trend (see above).
TopicTrend TrendOf(uint32_t recent, uint32_t previous);

// Every topic of person p over the documents visible under o.group_mask,
// strongest first (ties: more docs, then topic name). Empty for an unknown p.
std::vector<PersonTopicStrength> PersonTopicStrengths(const Snapshot& s, uint32_t p,
                                                      const TopicStrengthOptions& o = {});

// Strength of person p in each topic of `topics` (in that order; 0 when p
// has none). One pass over p's documents: for ranking features and for
// ordering a few topics. `topics` need not be sorted.
std::vector<double> TopicStrengthsOf(const Snapshot& s, uint32_t p, std::span<const uint32_t> topics,
                                     const TopicStrengthOptions& o = {});

// Strength of every (topic, person) pair over all visible documents:
// (topic, person, strength, docs), sorted by topic then strength descending.
// Opted-out people are left out. O(visible documents x topics per document).
struct TopicPersonStrength {
  uint32_t topic = kNone, person = kNone;
  double strength = 0;
  uint32_t docs = 0;
};
std::vector<TopicPersonStrength> AllTopicStrengths(const Snapshot& s, const TopicStrengthOptions& o = {});

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_TOPIC_STRENGTH_H_
