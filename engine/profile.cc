#include "whoknows/engine/profile.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/engine/connect.h"

namespace whoknows::engine {
namespace {

int YearOf(int64_t t) {
  return static_cast<int>(absl::ToCivilYear(absl::FromUnixSeconds(t), absl::UTCTimeZone()).year());
}

}  // namespace

absl::StatusOr<PersonProfile> ProfileOf(const Snapshot& s, std::string_view person_id, const ProfileOptions& o) {
  const uint32_t p = s.FindPerson(person_id);
  if (p == kNone) return absl::NotFoundError(absl::StrFormat("profile: unknown person '%s'", person_id));
  if (s.person(p).opted_out) return absl::FailedPreconditionError(absl::StrFormat("profile: '%s' opted out", person_id));
  PersonProfile out;
  out.person = p;
  out.id = s.person(p).id;
  out.name = s.person(p).name;
  std::vector<uint32_t> docs, topics;
  for (uint32_t d : s.PersonDocs(p)) {
    if (!s.DocVisible(d, o.group_mask)) continue;
    docs.push_back(d);
    const DocInfo& di = s.doc(d);
    ++out.docs;
    if (di.kind == indexer::RecordKind::kAnswer) {
      ++out.answers;
      out.accepted += di.accepted;
    }
    out.questions += di.kind == indexer::RecordKind::kQuestion;
    if (out.first_active == 0) out.first_active = di.timestamp;
    out.last_active = di.timestamp;
    const int year = YearOf(di.timestamp);
    if (out.activity_per_year.empty() || out.activity_per_year.back().first != year) {
      out.activity_per_year.emplace_back(year, 0);
    }
    ++out.activity_per_year.back().second;
    for (uint32_t t : s.DocTopics(d)) topics.push_back(t);
  }
  std::sort(topics.begin(), topics.end());
  std::vector<std::pair<uint32_t, uint32_t>> tc;
  for (uint32_t t : topics) {
    if (!tc.empty() && tc.back().first == t) {
      ++tc.back().second;
    } else {
      tc.emplace_back(t, 1);
    }
  }
  std::sort(tc.begin(), tc.end(), [&](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && s.topic_name(a.first) < s.topic_name(b.first));
  });
  for (size_t i = 0; i < tc.size() && i < o.max_topics; ++i) {
    out.topics.emplace_back(s.topic_name(tc[i].first), static_cast<double>(tc[i].second) / out.docs);
  }
  std::sort(docs.begin(), docs.end(), [&](uint32_t a, uint32_t b) {
    const DocInfo& x = s.doc(a);
    const DocInfo& y = s.doc(b);
    const bool xa = x.accepted && x.kind == indexer::RecordKind::kAnswer;
    const bool ya = y.accepted && y.kind == indexer::RecordKind::kAnswer;
    if (xa != ya) return xa;
    if (x.score != y.score) return x.score > y.score;
    return x.timestamp > y.timestamp;
  });
  for (size_t i = 0; i < docs.size() && i < o.max_docs; ++i) out.top_docs.push_back(s.doc(docs[i]).docid);

  const Graph& g = s.contacts();
  std::vector<std::pair<std::string, double>> contacts;
  for (EdgeIndex e = g.row_begin(p); e < g.row_end(p); ++e) {
    const uint32_t z = g.target(e);
    if (!(g.mask(e) & o.group_mask) || s.person(z).opted_out) continue;
    contacts.emplace_back(s.person(z).id, g.weight(e));
  }
  std::sort(contacts.begin(), contacts.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  if (contacts.size() > o.max_contacts) contacts.resize(o.max_contacts);
  out.contacts = std::move(contacts);
  return out;
}

std::vector<TopicStat> TopicStats(const Snapshot& s, const TopicStatsOptions& o) {
  const uint32_t T = s.num_topics();
  std::vector<uint32_t> count(T, 0), recent(T, 0), previous(T, 0);
  const int64_t now = o.now != 0 ? o.now : s.max_timestamp();
  const auto window = static_cast<int64_t>(o.window_days * 86400);
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    if (!s.DocVisible(d, o.group_mask)) continue;
    const int64_t t = s.doc(d).timestamp;
    const bool is_recent = t > now - window && t <= now;
    const bool is_previous = t > now - 2 * window && t <= now - window;
    for (uint32_t topic : s.DocTopics(d)) {
      ++count[topic];
      recent[topic] += is_recent;
      previous[topic] += is_previous;
    }
  }
  std::vector<uint32_t> order;
  for (uint32_t t = 0; t < T; ++t) {
    if (count[t] > 0) order.push_back(t);
  }
  const size_t want = std::min(order.size(), o.k);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(want), order.end(),
                    [&](uint32_t a, uint32_t b) { return count[a] > count[b] || (count[a] == count[b] && a < b); });
  order.resize(want);
  // Top people for the chosen topics only: (topic slot, person) pairs.
  std::vector<uint32_t> slot(T, kNone);
  for (size_t i = 0; i < order.size(); ++i) slot[order[i]] = static_cast<uint32_t>(i);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    const DocInfo& di = s.doc(d);
    if (di.author == kNone || s.person(di.author).opted_out || !s.DocVisible(d, o.group_mask)) continue;
    for (uint32_t topic : s.DocTopics(d)) {
      if (slot[topic] != kNone) pairs.emplace_back(slot[topic], di.author);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<TopicStat> out(order.size());
  std::vector<std::pair<uint32_t, uint32_t>> people;  // (docs, person)
  for (size_t i = 0, j = 0; i < order.size(); ++i) {
    TopicStat& st = out[i];
    const uint32_t t = order[i];
    st.topic = s.topic_name(t);
    st.docs = count[t];
    st.recent = recent[t];
    st.previous = previous[t];
    st.trend = (static_cast<double>(st.recent) - st.previous) / std::max<uint32_t>(st.previous, 1);
    people.clear();
    for (; j < pairs.size() && pairs[j].first == i;) {
      size_t k = j;
      while (k < pairs.size() && pairs[k] == pairs[j]) ++k;
      people.emplace_back(static_cast<uint32_t>(k - j), pairs[j].second);
      j = k;
    }
    std::sort(people.begin(), people.end(), [&](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && s.person(a.second).id < s.person(b.second).id);
    });
    for (size_t k = 0; k < people.size() && k < o.people_per_topic; ++k) {
      st.top_people.emplace_back(s.person(people[k].second).id, people[k].first);
    }
  }
  return out;
}

}  // namespace whoknows::engine
