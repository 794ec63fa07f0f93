#include "whoknows/engine/person_activity.h"

#include <algorithm>

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

  // Topic strengths over each person's newest kExplainTopicDocs documents,
  // through TopicStrengthsOf itself so that the sums are the same.
  const TopicStrengthOptions so = ExplainTopicOptions();
  a->topic_offset_.resize(static_cast<size_t>(P) + 1, 0);
  std::vector<uint32_t> topics;
  for (uint32_t p = 0; p < P; ++p) {
    a->topic_offset_[p] = static_cast<uint32_t>(a->topic_.size());
    const auto docs = s.PersonDocs(p);
    topics.clear();
    for (size_t k = docs.size() > kExplainTopicDocs ? docs.size() - kExplainTopicDocs : 0; k < docs.size(); ++k) {
      for (uint32_t t : s.DocTopics(docs[k])) topics.push_back(t);
    }
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    const std::vector<double> strength = TopicStrengthsOf(s, p, topics, so);
    a->topic_.insert(a->topic_.end(), topics.begin(), topics.end());
    a->strength_.insert(a->strength_.end(), strength.begin(), strength.end());
  }
  a->topic_offset_[P] = static_cast<uint32_t>(a->topic_.size());
  a->topic_.shrink_to_fit();
  a->strength_.shrink_to_fit();
  return a;
}

TopicStrengthOptions PersonActivity::ExplainTopicOptions() {
  TopicStrengthOptions so;
  so.max_docs = kExplainTopicDocs;
  return so;
}

bool PersonActivity::Covers(const Snapshot& s, uint32_t p, GroupBits mask) const {
  if (s.num_docs() != num_docs_ || static_cast<size_t>(s.num_persons()) + 1 != offset_.size() || p >= groups_.size()) {
    return false;
  }
  return !hidden_[p] && (groups_[p] & ~mask) == 0 && s.PersonDocs(p).size() == offset_[p + 1] - offset_[p];
}

bool PersonActivity::TopicStrengths(const Snapshot& s, uint32_t p, const TopicStrengthOptions& o,
                                    std::span<const uint32_t> topics, std::vector<double>* out) const {
  const TopicStrengthOptions b = ExplainTopicOptions();
  const bool same = o.half_life_days == b.half_life_days && o.floor == b.floor && o.w_answered == b.w_answered &&
                    o.accepted_factor == b.accepted_factor && o.w_replied == b.w_replied &&
                    o.w_started == b.w_started && o.w_commented == b.w_commented && o.w_asked == b.w_asked &&
                    o.window_days == b.window_days && o.now == b.now && o.max_docs == b.max_docs;
  if (!same || topic_offset_.size() != offset_.size() || !Covers(s, p, o.group_mask)) return false;
  const uint32_t* first = topic_.data() + topic_offset_[p];
  const uint32_t* last = topic_.data() + topic_offset_[p + 1];
  out->assign(topics.size(), 0.0);
  for (size_t i = 0; i < topics.size(); ++i) {
    const uint32_t* it = std::lower_bound(first, last, topics[i]);
    if (it != last && *it == topics[i]) (*out)[i] = strength_[static_cast<size_t>(it - topic_.data())];
  }
  return true;
}

bool PersonActivity::Count(const Snapshot& s, uint32_t p, GroupBits mask, int64_t from, int64_t to,
                           int64_t recent_from, Counts* out) const {
  if (!Covers(s, p, mask)) return false;
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

size_t PersonActivity::bytes() const {
  return offset_.size() * sizeof(uint32_t) + prefix_.size() * sizeof(Prefix) + ts_.size() * sizeof(int64_t) +
         groups_.size() * sizeof(GroupBits) + hidden_.size() + topic_offset_.size() * sizeof(uint32_t) +
         topic_.size() * sizeof(uint32_t) + strength_.size() * sizeof(double);
}

}  // namespace whoknows::engine
