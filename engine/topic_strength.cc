#include "whoknows/engine/topic_strength.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;

int64_t ReferenceTime(const Snapshot& s, const DocInfo& di, const TopicStrengthOptions& o) {
  return o.now != 0 ? o.now : s.community_max_timestamp(di.community);
}

// A topic document d has from its thread's root (a reply carries its
// thread's topics: engine/snapshot.cc) counts once per thread for a person, at
// the largest weight of their documents there: ten chat replies in one
// conversation about X are one conversation about X, not ten. A topic of the
// person's own text that the root lacks counts per document.
bool FromThreadRoot(const Snapshot& s, uint32_t d, uint32_t t) {
  const uint32_t r = s.ThreadRoot(s.doc(d).thread);
  if (r == d) return false;
  const auto rt = s.DocTopics(r);
  return std::find(rt.begin(), rt.end(), t) != rt.end();
}

// The strength document d adds to a topic t: w, or for a topic from the
// thread's root what w adds to the best weight counted in that thread so far.
class ThreadOnce {
 public:
  double Add(const Snapshot& s, uint32_t person, uint32_t d, uint32_t t, double w) {
    if (!FromThreadRoot(s, d, t)) return w;
    double& best = best_[std::make_tuple(s.doc(d).thread, person, t)];
    const double add = std::max(0.0, w - best);
    best = std::max(best, w);
    return add;
  }

 private:
  absl::flat_hash_map<std::tuple<uint32_t, uint32_t, uint32_t>, double> best_;  // (thread, person, topic)
};

// Adds document d (of the person) to entry e; `weight` is its strength.
void AddDoc(const Snapshot& s, uint32_t d, const TopicStrengthOptions& o, double weight, PersonTopicStrength* e) {
  const DocInfo& di = s.doc(d);
  e->strength += weight;
  ++e->docs;
  ++e->by_role[static_cast<size_t>(RoleOf(s, d))];
  if (e->first_active == 0 || di.timestamp < e->first_active) e->first_active = di.timestamp;
  e->last_active = std::max(e->last_active, di.timestamp);
  const int64_t ref = ReferenceTime(s, di, o);
  const auto window = static_cast<int64_t>(o.window_days * 86400);
  if (di.timestamp > ref - window) {
    ++e->recent;
  } else if (di.timestamp > ref - 2 * window) {
    ++e->previous;
  }
}

// Role weight times decay of document d.
double DocWeight(const Snapshot& s, uint32_t d, const TopicStrengthOptions& o) {
  const DocInfo& di = s.doc(d);
  const double decay = Decay(di.timestamp, ReferenceTime(s, di, o), o.half_life_days);
  return RoleWeight(s, d, o) * (o.floor + (1 - o.floor) * decay);
}

}  // namespace

std::string_view TopicRoleName(TopicRole role) {
  switch (role) {
    case TopicRole::kAnswered: return "answered";
    case TopicRole::kReplied: return "replied";
    case TopicRole::kStarted: return "started";
    case TopicRole::kCommented: return "commented";
    case TopicRole::kAsked: return "asked";
  }
  return "other";
}

std::string_view TopicTrendName(TopicTrend trend) {
  switch (trend) {
    case TopicTrend::kInactive: return "inactive";
    case TopicTrend::kSteady: return "steady";
    case TopicTrend::kRising: return "rising";
    case TopicTrend::kDeclining: return "declining";
  }
  return "steady";
}

TopicRole RoleOf(const Snapshot& s, uint32_t d) {
  const DocInfo& di = s.doc(d);
  switch (di.kind) {
    case RecordKind::kAnswer: return TopicRole::kAnswered;
    case RecordKind::kQuestion: return TopicRole::kAsked;
    case RecordKind::kComment: return TopicRole::kCommented;
    case RecordKind::kMail:
    case RecordKind::kChat:
    case RecordKind::kPost: break;
  }
  return s.ThreadRoot(di.thread) == d ? TopicRole::kStarted : TopicRole::kReplied;
}

double RoleWeight(const Snapshot& s, uint32_t d, const TopicStrengthOptions& o) {
  switch (RoleOf(s, d)) {
    case TopicRole::kAnswered: return s.doc(d).accepted ? o.w_answered * o.accepted_factor : o.w_answered;
    case TopicRole::kReplied: return o.w_replied;
    case TopicRole::kStarted: return o.w_started;
    case TopicRole::kCommented: return o.w_commented;
    case TopicRole::kAsked: return o.w_asked;
  }
  return 0;
}

TopicTrend TrendOf(uint32_t recent, uint32_t previous) {
  if (recent == 0 && previous == 0) return TopicTrend::kInactive;
  const double r = recent, p = previous;
  if (recent >= previous + 2 && r >= 1.5 * p) return TopicTrend::kRising;
  if (previous >= recent + 2 && p >= 1.5 * r) return TopicTrend::kDeclining;
  return TopicTrend::kSteady;
}

std::vector<PersonTopicStrength> PersonTopicStrengths(const Snapshot& s, uint32_t p, const TopicStrengthOptions& o) {
  std::vector<PersonTopicStrength> out;
  if (p >= s.num_persons()) return out;
  // Dense slots for the person's topics (a person has few; the map stays small).
  absl::flat_hash_map<uint32_t, uint32_t> slot;
  ThreadOnce once;
  for (uint32_t d : s.PersonDocs(p)) {
    if (!s.DocVisible(d, o.group_mask)) continue;
    const auto topics = s.DocTopics(d);
    if (topics.empty()) continue;
    const double w = DocWeight(s, d, o);
    for (uint32_t t : topics) {
      auto [it, inserted] = slot.try_emplace(t, static_cast<uint32_t>(out.size()));
      if (inserted) {
        out.emplace_back();
        out.back().topic = t;
      }
      AddDoc(s, d, o, once.Add(s, p, d, t, w), &out[it->second]);
    }
  }
  for (PersonTopicStrength& e : out) e.trend = TrendOf(e.recent, e.previous);
  std::sort(out.begin(), out.end(), [&](const PersonTopicStrength& a, const PersonTopicStrength& b) {
    if (a.strength != b.strength) return a.strength > b.strength;
    if (a.docs != b.docs) return a.docs > b.docs;
    return s.topic_name(a.topic) < s.topic_name(b.topic);
  });
  return out;
}

std::vector<double> TopicStrengthsOf(const Snapshot& s, uint32_t p, std::span<const uint32_t> topics,
                                     const TopicStrengthOptions& o) {
  std::vector<double> out(topics.size(), 0.0);
  if (p >= s.num_persons() || topics.empty()) return out;
  std::vector<std::pair<uint32_t, uint32_t>> sorted;  // (topic, position in `topics`)
  sorted.reserve(topics.size());
  for (size_t i = 0; i < topics.size(); ++i) sorted.emplace_back(topics[i], static_cast<uint32_t>(i));
  std::sort(sorted.begin(), sorted.end());
  const auto docs = s.PersonDocs(p);  // oldest first
  const size_t first = o.max_docs > 0 && docs.size() > o.max_docs ? docs.size() - o.max_docs : 0;
  ThreadOnce once;
  for (size_t i = first; i < docs.size(); ++i) {
    const uint32_t d = docs[i];
    if (!s.DocVisible(d, o.group_mask)) continue;
    double w = -1;  // computed on the first matching topic only
    for (uint32_t t : s.DocTopics(d)) {
      auto it = std::lower_bound(sorted.begin(), sorted.end(), std::make_pair(t, 0u));
      if (it == sorted.end() || it->first != t) continue;
      if (w < 0) w = DocWeight(s, d, o);
      const double add = once.Add(s, p, d, t, w);
      for (; it != sorted.end() && it->first == t; ++it) out[it->second] += add;
    }
  }
  return out;
}

std::vector<TopicPersonStrength> AllTopicStrengths(const Snapshot& s, const TopicStrengthOptions& o) {
  absl::flat_hash_map<uint64_t, std::pair<double, uint32_t>> acc;  // topic << 32 | person -> (strength, docs)
  ThreadOnce once;
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    const DocInfo& di = s.doc(d);
    if (di.author == kNone || s.person(di.author).opted_out || !s.DocVisible(d, o.group_mask)) continue;
    const auto topics = s.DocTopics(d);
    if (topics.empty()) continue;
    const double w = DocWeight(s, d, o);
    for (uint32_t t : topics) {
      auto& e = acc[(static_cast<uint64_t>(t) << 32) | di.author];
      e.first += once.Add(s, di.author, d, t, w);
      ++e.second;
    }
  }
  std::vector<TopicPersonStrength> out;
  out.reserve(acc.size());
  for (const auto& [key, e] : acc) {
    out.push_back({static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu), e.first, e.second});
  }
  std::sort(out.begin(), out.end(), [&](const TopicPersonStrength& a, const TopicPersonStrength& b) {
    if (a.topic != b.topic) return a.topic < b.topic;
    if (a.strength != b.strength) return a.strength > b.strength;
    return s.person(a.person).id < s.person(b.person).id;
  });
  return out;
}

}  // namespace whoknows::engine
