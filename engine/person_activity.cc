#include "whoknows/engine/person_activity.h"

#include <algorithm>
#include <utility>

namespace whoknows::engine {

std::shared_ptr<const PersonActivity> PersonActivity::Build(const Snapshot& s) {
  auto a = std::make_shared<PersonActivity>();
  const uint32_t P = s.num_persons();
  const uint32_t D = s.num_docs();
  a->num_docs_ = D;
  // One sequential pass over the doc table into two bytes per doc, so the
  // per-person pass below reads 2 MB at 1M docs instead of the whole table.
  enum : uint8_t { kAnswer = 1, kAccepted = 2, kQuestion = 4, kReply = 8 };
  std::vector<uint8_t> flags(D), group(D);
  for (uint32_t d = 0; d < D; ++d) {
    const DocInfo& di = s.doc(d);
    uint8_t f = 0;
    if (di.kind == indexer::RecordKind::kAnswer) {
      f = kAnswer | (di.accepted ? kAccepted : 0);
    } else if (di.kind == indexer::RecordKind::kQuestion) {
      f = kQuestion;
    } else if (di.parent != kNone) {
      f = kReply;
    }
    flags[d] = f;
    group[d] = di.group;
  }
  a->offset_.resize(static_cast<size_t>(P) + 1, 0);
  a->groups_.assign(P, 0);
  a->hidden_.assign(P, 0);
  size_t total = 0;
  for (uint32_t p = 0; p < P; ++p) total += s.PersonDocs(p).size();
  a->prefix_.resize(total + 1);
  a->ts_.resize(total);
  Prefix x;
  size_t i = 0;
  for (uint32_t p = 0; p < P; ++p) {
    a->offset_[p] = static_cast<uint32_t>(i);
    GroupBits g = 0;
    uint8_t hidden = 0;
    for (uint32_t d : s.PersonDocs(p)) {
      const uint8_t f = flags[d];
      x.activity += (f & kAnswer) ? 1u + ((f & kAccepted) ? 1u : 0u) : ((f & kReply) ? 1u : 0u);
      x.answers += (f & kAnswer) ? 1u : 0u;
      x.accepted += (f & kAccepted) ? 1u : 0u;
      x.questions += (f & kQuestion) ? 1u : 0u;
      a->ts_[i] = s.doc(d).timestamp;
      a->prefix_[++i] = x;
      if (group[d] == kNoGroup) {
        hidden = 1;
      } else {
        g |= GroupBits{1} << group[d];
      }
    }
    a->groups_[p] = g;
    a->hidden_[p] = hidden;
  }
  a->offset_[P] = static_cast<uint32_t>(i);

  // (topic, timestamp) pairs of every person's non-question docs, sorted per person.
  size_t pairs = 0;
  for (uint32_t p = 0; p < P; ++p) {
    for (uint32_t d : s.PersonDocs(p)) pairs += (flags[d] & kQuestion) ? 0 : s.DocTopics(d).size();
  }
  a->topic_offset_.resize(static_cast<size_t>(P) + 1, 0);
  a->topic_key_.reserve(pairs);
  a->topic_ts_.reserve(pairs);
  std::vector<std::pair<uint32_t, int64_t>> mine;
  for (uint32_t p = 0; p < P; ++p) {
    a->topic_offset_[p] = a->topic_key_.size();
    mine.clear();
    for (uint32_t d : s.PersonDocs(p)) {
      if (flags[d] & kQuestion) continue;
      for (uint32_t t : s.DocTopics(d)) mine.emplace_back(t, s.doc(d).timestamp);
    }
    std::sort(mine.begin(), mine.end());
    for (const auto& [t, ts] : mine) {
      a->topic_key_.push_back(t);
      a->topic_ts_.push_back(ts);
    }
  }
  a->topic_offset_[P] = a->topic_key_.size();

  // Explanations' topic strengths: TopicStrengthsOf over each person's topics.
  TopicStrengthOptions so;
  so.max_docs = kStrengthDocs;
  a->strength_offset_.resize(static_cast<size_t>(P) + 1, 0);
  std::vector<uint32_t> topics;
  for (uint32_t p = 0; p < P; ++p) {
    a->strength_offset_[p] = a->strength_topic_.size();
    const auto docs = s.PersonDocs(p);
    topics.clear();
    for (size_t i = docs.size() > kStrengthDocs ? docs.size() - kStrengthDocs : 0; i < docs.size(); ++i) {
      for (uint32_t t : s.DocTopics(docs[i])) topics.push_back(t);
    }
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    const std::vector<double> strength = TopicStrengthsOf(s, p, topics, so);
    a->strength_topic_.insert(a->strength_topic_.end(), topics.begin(), topics.end());
    a->strength_.insert(a->strength_.end(), strength.begin(), strength.end());
  }
  a->strength_offset_[P] = a->strength_topic_.size();
  return a;
}

bool PersonActivity::Usable(const Snapshot& s, uint32_t p, GroupBits mask) const {
  if (s.num_docs() != num_docs_ || static_cast<size_t>(s.num_persons()) + 1 != offset_.size() || p >= groups_.size()) {
    return false;
  }
  if (hidden_[p] || (groups_[p] & ~mask) != 0) return false;
  return s.PersonDocs(p).size() == offset_[p + 1] - offset_[p];
}

bool PersonActivity::Count(const Snapshot& s, uint32_t p, GroupBits mask, int64_t from, int64_t to,
                           int64_t recent_from, Counts* out) const {
  if (!Usable(s, p, mask)) return false;
  const size_t begin = offset_[p], n = offset_[p + 1] - begin;
  // p's timestamps, oldest first (contiguous: a binary search stays in a few cache lines).
  const int64_t* ts = ts_.data() + begin;
  auto first_at = [&](int64_t t) { return static_cast<size_t>(std::lower_bound(ts, ts + n, t) - ts); };
  // [lo, hi) is the window, [mid, hi) its recent part.
  const size_t lo = from == 0 ? 0 : first_at(from);
  const size_t hi = to == 0 ? n : first_at(to);
  Counts c;
  if (hi > lo) {
    const size_t mid = std::clamp(first_at(recent_from), lo, hi);
    const Prefix& a = prefix_[begin + lo];
    const Prefix& m = prefix_[begin + mid];
    const Prefix& b = prefix_[begin + hi];
    c.activity = b.activity - a.activity;
    c.recent = b.activity - m.activity;
    c.answers = b.answers - a.answers;
    c.accepted = b.accepted - a.accepted;
    c.questions = b.questions - a.questions;
    c.last = ts[hi - 1];
  }
  *out = c;
  return true;
}

bool PersonActivity::CountTopics(const Snapshot& s, uint32_t p, GroupBits mask, int64_t from, int64_t to,
                                 std::span<const uint32_t> topics, double* counts) const {
  if (!Usable(s, p, mask)) return false;
  const uint32_t* keys = topic_key_.data();
  const int64_t* ts = topic_ts_.data();
  const size_t begin = topic_offset_[p], end = topic_offset_[p + 1];
  for (size_t k = 0; k < topics.size(); ++k) {
    // p's pairs of this topic, oldest first, then the window within them.
    const uint32_t* lo = std::lower_bound(keys + begin, keys + end, topics[k]);
    const uint32_t* hi = std::upper_bound(lo, keys + end, topics[k]);
    const int64_t* a = ts + (lo - keys);
    const int64_t* b = ts + (hi - keys);
    const int64_t* first = from == 0 ? a : std::lower_bound(a, b, from);
    const int64_t* last = to == 0 ? b : std::lower_bound(first, b, to);
    counts[k] = static_cast<double>(last - first);
  }
  return true;
}

bool PersonActivity::TopicStrengths(const Snapshot& s, uint32_t p, const TopicStrengthOptions& o,
                                    std::span<const uint32_t> topics, std::vector<double>* out) const {
  const TopicStrengthOptions d;
  if (o.half_life_days != d.half_life_days || o.floor != d.floor || o.w_answered != d.w_answered ||
      o.accepted_factor != d.accepted_factor || o.w_replied != d.w_replied || o.w_started != d.w_started ||
      o.w_commented != d.w_commented || o.w_asked != d.w_asked || o.window_days != d.window_days || o.now != d.now ||
      o.max_docs != kStrengthDocs) {
    return false;
  }
  if (!Usable(s, p, o.group_mask)) return false;
  const uint32_t* keys = strength_topic_.data();
  const uint32_t* begin = keys + strength_offset_[p];
  const uint32_t* end = keys + strength_offset_[p + 1];
  out->assign(topics.size(), 0.0);
  for (size_t k = 0; k < topics.size(); ++k) {
    const uint32_t* it = std::lower_bound(begin, end, topics[k]);
    if (it != end && *it == topics[k]) (*out)[k] = strength_[static_cast<size_t>(it - keys)];
  }
  return true;
}

std::shared_ptr<const PersonActivity::AuthorCounts> PersonActivity::TopicAuthors(
    const Snapshot& snapshot, uint32_t topic, const std::function<AuthorCounts()>& build) const {
  if (snapshot.num_docs() != num_docs_ || snapshot.num_persons() + 1 != offset_.size()) return nullptr;
  {
    std::lock_guard<std::mutex> lock(topic_authors_mu_);
    auto it = topic_authors_.find(topic);
    if (it != topic_authors_.end()) return it->second;
  }
  auto made = std::make_shared<const AuthorCounts>(build());  // outside the lock; a racing builder's copy is equal
  std::lock_guard<std::mutex> lock(topic_authors_mu_);
  return topic_authors_.emplace(topic, std::move(made)).first->second;
}

size_t PersonActivity::bytes() const {
  return offset_.size() * sizeof(uint32_t) + prefix_.size() * sizeof(Prefix) + ts_.size() * sizeof(int64_t) +
         groups_.size() * sizeof(GroupBits) + hidden_.size() + topic_offset_.size() * sizeof(uint64_t) +
         topic_key_.size() * sizeof(uint32_t) + topic_ts_.size() * sizeof(int64_t) +
         strength_offset_.size() * sizeof(uint64_t) + strength_topic_.size() * sizeof(uint32_t) +
         strength_.size() * sizeof(double);
}

}  // namespace whoknows::engine
