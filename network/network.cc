#include "whoknows/network/network.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/status_macros.h"
#include "graph_algos.h"

namespace whoknows::network {
namespace {

using engine::DocInfo;
using engine::kNone;
using engine::Snapshot;
using indexer::RecordKind;

constexpr int64_t kDay = 86400;
constexpr double kMonthDays = 30.4375;

void Report(const NetworkOptions& o, std::string_view stage, double done) {
  if (o.progress) o.progress(stage, done);
}

double ContributionWeight(const DocInfo& d) {
  switch (d.kind) {
    case RecordKind::kAnswer:
      return d.accepted ? 2.0 : 1.0;
    case RecordKind::kQuestion:
      return 0.5;
    case RecordKind::kComment:
      return 0.25;
    default:
      return 1.0;
  }
}

// A doc that carries knowledge (not a question or a comment).
bool IsKnowledge(const DocInfo& d) { return d.kind != RecordKind::kQuestion && d.kind != RecordKind::kComment; }

int QuarterOf(int64_t ts) {
  absl::CivilSecond c = absl::ToCivilSecond(absl::FromUnixSeconds(ts), absl::UTCTimeZone());
  return static_cast<int>(c.year()) * 4 + (c.month() - 1) / 3;
}
std::string QuarterName(int q) { return absl::StrFormat("%dQ%d", q / 4, q % 4 + 1); }

std::string NameOf(const engine::PersonInfo& p) { return p.name.empty() ? p.id : p.name; }

// The documents one computation looks at.
struct View {
  std::vector<uint8_t> in;        // per doc: in the view (after the topic filter)
  std::vector<uint8_t> in_base;   // per doc: visible, in window and community, author known and not opted out
  std::vector<uint32_t> docs;     // view docs
  std::vector<uint8_t> topic_ok;  // per topic: allowed by the topic filter
  std::vector<int64_t> last_active;  // per person, over the base view
  int64_t from = 0, to = 0;
  std::vector<uint8_t> active;      // per person: active at the end of the window
  std::vector<int64_t> recent_since;  // per community (+1 for none): docs from then on are recent
  uint32_t CommunitySlot(uint32_t c) const {
    return c >= recent_since.size() - 1 ? static_cast<uint32_t>(recent_since.size() - 1) : c;
  }
  uint64_t persons = 0;
};

absl::Status Validate(const NetworkOptions& o) {
  if (o.from != 0 && o.to != 0 && o.from > o.to) return absl::InvalidArgumentError("window: from is after to");
  if (!(o.min_strength >= 0 && o.min_strength <= 1)) return absl::InvalidArgumentError("min_strength must be in [0, 1]");
  if (!(o.orphan_fraction > 0 && o.orphan_fraction < 1)) {
    return absl::InvalidArgumentError("orphan_fraction must be in (0, 1)");
  }
  if (o.left_after_months < 0 || o.left_after_months > 1200) {
    return absl::InvalidArgumentError("left_after_months must be in [0, 1200]");
  }
  if (o.recent_months < 1 || o.recent_months > 1200) return absl::InvalidArgumentError("recent_months must be in [1, 1200]");
  if (!(o.betweenness_delta > 0 && o.betweenness_delta < 1)) {
    return absl::InvalidArgumentError("betweenness_delta must be in (0, 1)");
  }
  return absl::OkStatus();
}

absl::StatusOr<View> MakeView(const Snapshot& s, const NetworkOptions& o) {
  WK_RETURN_IF_ERROR(Validate(o));
  View v;
  uint32_t community = kNone;
  if (!o.community.empty()) {
    community = s.FindCommunity(o.community);
    if (community == kNone) return absl::NotFoundError(absl::StrFormat("unknown community %s", o.community));
  }
  v.topic_ok.assign(s.num_topics(), o.topics.empty() ? 1 : 0);
  for (const std::string& t : o.topics) {
    uint32_t ti = s.FindTopic(t);
    if (ti != kNone) v.topic_ok[ti] = 1;
  }
  const uint32_t nd = s.num_docs();
  v.in.assign(nd, 0);
  v.in_base.assign(nd, 0);
  v.last_active.assign(s.num_persons(), 0);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (uint32_t d = 0; d < nd; ++d) {
    const DocInfo& di = s.doc(d);
    if (!s.DocVisible(d, o.group_mask)) continue;
    if (di.author == kNone || s.person(di.author).opted_out) continue;
    if (o.from != 0 && di.timestamp < o.from) continue;
    if (o.to != 0 && di.timestamp > o.to) continue;
    if (community != kNone && di.community != community) continue;
    v.in_base[d] = 1;
    v.last_active[di.author] = std::max(v.last_active[di.author], di.timestamp);
    bool ok = o.topics.empty();
    for (uint32_t t : s.DocTopics(d)) ok = ok || v.topic_ok[t];
    if (!ok) continue;
    v.in[d] = 1;
    v.docs.push_back(d);
    lo = std::min(lo, di.timestamp);
    hi = std::max(hi, di.timestamp);
  }
  v.from = o.from != 0 ? o.from : (v.docs.empty() ? 0 : lo);
  v.to = o.to != 0 ? o.to : (v.docs.empty() ? 0 : hi);
  // Active = a doc within the last N months before the end of the window; with
  // an open window the end is the newest doc of the person's own communities, so
  // an archived community is not "left" next to a live one.
  const int64_t span = static_cast<int64_t>(o.left_after_months * kMonthDays * kDay);
  std::vector<int64_t> community_end(s.num_communities() + 1, INT64_MIN), person_end(s.num_persons(), INT64_MIN);
  auto cidx = [&](uint32_t c) { return c == kNone || c >= s.num_communities() ? s.num_communities() : c; };
  for (uint32_t d = 0; d < nd; ++d) {
    if (v.in_base[d]) community_end[cidx(s.doc(d).community)] = std::max(community_end[cidx(s.doc(d).community)], s.doc(d).timestamp);
  }
  for (uint32_t d = 0; d < nd; ++d) {
    if (v.in_base[d]) person_end[s.doc(d).author] = std::max(person_end[s.doc(d).author], community_end[cidx(s.doc(d).community)]);
  }
  const int64_t recent_span = static_cast<int64_t>(o.recent_months * kMonthDays * kDay);
  v.recent_since.assign(community_end.size(), 0);
  for (size_t c = 0; c < community_end.size(); ++c) {
    const int64_t end = o.to != 0 ? o.to : community_end[c];
    v.recent_since[c] = end == INT64_MIN ? INT64_MAX : end - recent_span;  // no docs: nothing is recent
  }
  v.active.assign(s.num_persons(), 0);
  for (uint32_t p = 0; p < s.num_persons(); ++p) {
    const int64_t end = o.to != 0 ? o.to : person_end[p];
    v.active[p] = v.last_active[p] != 0 && end != INT64_MIN && v.last_active[p] >= end - span;
  }
  std::vector<uint8_t> seen(s.num_persons(), 0);
  for (uint32_t d : v.docs) {
    uint32_t a = s.doc(d).author;
    if (!seen[a]) {
      seen[a] = 1;
      ++v.persons;
    }
  }
  return v;
}

// The window, counts and options every report starts with.
template <typename ReportT>
void FillHeader(const View& v, const NetworkOptions& o, ReportT* r) {
  r->from = v.from;
  r->to = v.to;
  r->docs = v.docs.size();
  r->persons = v.persons;
  r->options = o;
  r->options.progress = nullptr;
}

template <typename T>
void KeepTop(std::vector<T>& v, size_t k) {
  if (k > 0 && v.size() > k) v.resize(k);
}

}  // namespace

// ---------------------------------------------------------------- coverage

absl::StatusOr<CoverageReport> ComputeCoverage(const Snapshot& s, const NetworkOptions& o) {
  Report(o, "coverage: view", 0);
  WK_ASSIGN_OR_RETURN(View v, MakeView(s, o));
  CoverageReport r;
  FillHeader(v, o, &r);
  if (v.docs.empty()) return r;

  const uint32_t nt = s.num_topics();
  const int q0 = QuarterOf(v.from), q1 = QuarterOf(v.to);
  const uint32_t nq = static_cast<uint32_t>(q1 - q0 + 1);
  std::vector<uint32_t> docs(nt, 0);
  std::vector<double> total_w(nt, 0);
  absl::flat_hash_map<uint64_t, std::pair<double, uint32_t>> pt;  // topic<<32|person -> (weight, docs)
  absl::flat_hash_map<uint64_t, uint32_t> tq_docs;                // topic*nq+quarter -> docs
  absl::flat_hash_set<std::pair<uint64_t, uint32_t>> tq_people;   // (topic*nq+quarter, person)
  // Knowledge holdings: (topic, thread, person, active).
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> holdings;
  std::vector<std::pair<uint32_t, uint32_t>> units_seen;  // (topic, thread) with a knowledge doc
  size_t step = 0;
  for (uint32_t d : v.docs) {
    if (++step % 100000 == 0) Report(o, "coverage: documents", static_cast<double>(step) / v.docs.size());
    const DocInfo& di = s.doc(d);
    const double w = ContributionWeight(di);
    const uint64_t q = static_cast<uint64_t>(QuarterOf(di.timestamp) - q0);
    const bool knowledge = IsKnowledge(di);
    const bool active = v.active[di.author];
    for (uint32_t t : s.DocTopics(d)) {
      if (!v.topic_ok[t]) continue;
      ++docs[t];
      total_w[t] += w;
      auto& e = pt[(static_cast<uint64_t>(t) << 32) | di.author];
      e.first += w;
      ++e.second;
      const uint64_t tq = static_cast<uint64_t>(t) * nq + q;
      ++tq_docs[tq];
      tq_people.insert({tq, di.author});
      if (knowledge && di.timestamp >= v.recent_since[v.CommunitySlot(di.community)]) {
        units_seen.emplace_back(t, di.thread);
        if (active) holdings.emplace_back(t, di.thread, di.author);
      }
    }
  }
  Report(o, "coverage: bus factor", 0.5);
  std::vector<uint32_t> order;
  for (uint32_t t = 0; t < nt; ++t) {
    if (docs[t] > 0) order.push_back(t);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return docs[a] != docs[b] ? docs[a] > docs[b] : s.topic_name(a) < s.topic_name(b);
  });
  KeepTop(order, o.max_topics);
  std::vector<int32_t> slot(nt, -1);
  r.topics.resize(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    slot[order[i]] = static_cast<int32_t>(i);
    TopicCoverage& tc = r.topics[i];
    tc.topic = s.topic_name(order[i]);
    tc.docs = docs[order[i]];
    tc.trend.resize(nq);
    for (uint32_t q = 0; q < nq; ++q) tc.trend[q].quarter = QuarterName(q0 + static_cast<int>(q));
  }
  for (const auto& [tq, n] : tq_docs) {
    int32_t i = slot[tq / nq];
    if (i >= 0) r.topics[i].trend[tq % nq].docs = n;
  }
  for (const auto& [tq, p] : tq_people) {
    int32_t i = slot[tq / nq];
    if (i >= 0) ++r.topics[i].trend[tq % nq].people;
  }
  for (const auto& [key, e] : pt) {
    const uint32_t t = static_cast<uint32_t>(key >> 32), p = static_cast<uint32_t>(key & 0xffffffffu);
    const int32_t i = slot[t];
    if (i < 0) continue;
    TopicCoverage& tc = r.topics[i];
    ++tc.contributors;
    const double strength = total_w[t] > 0 ? e.first / total_w[t] : 0;
    if (strength < o.min_strength || e.second < o.min_expert_docs) continue;
    ExpertEntry x{s.person(p).id, NameOf(s.person(p)), strength, e.second, v.last_active[p]};
    (v.active[p] ? tc.experts : tc.left).push_back(std::move(x));
  }
  auto by_strength = [](const ExpertEntry& a, const ExpertEntry& b) {
    return a.strength != b.strength ? a.strength > b.strength : a.person_id < b.person_id;
  };
  for (TopicCoverage& tc : r.topics) {
    std::sort(tc.experts.begin(), tc.experts.end(), by_strength);
    std::sort(tc.left.begin(), tc.left.end(), by_strength);
  }
  // Bus factor per topic: units = (topic, thread) pairs with a knowledge doc.
  std::sort(units_seen.begin(), units_seen.end());
  units_seen.erase(std::unique(units_seen.begin(), units_seen.end()), units_seen.end());
  std::sort(holdings.begin(), holdings.end());
  holdings.erase(std::unique(holdings.begin(), holdings.end()), holdings.end());
  size_t ui = 0, hi = 0;
  while (ui < units_seen.size()) {
    const uint32_t t = units_seen[ui].first;
    size_t uend = ui;
    while (uend < units_seen.size() && units_seen[uend].first == t) ++uend;
    const int32_t i = slot[t];
    if (i < 0) {
      while (hi < holdings.size() && std::get<0>(holdings[hi]) == t) ++hi;
      ui = uend;
      continue;
    }
    // Local holder ids, most units first.
    absl::flat_hash_map<uint32_t, uint32_t> held;
    size_t hend = hi;
    while (hend < holdings.size() && std::get<0>(holdings[hend]) == t) ++held[std::get<2>(holdings[hend++])];
    std::vector<std::pair<uint32_t, uint32_t>> holders(held.begin(), held.end());  // (person, units)
    std::sort(holders.begin(), holders.end(), [&](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : s.person(a.first).id < s.person(b.first).id;
    });
    absl::flat_hash_map<uint32_t, uint32_t> local;
    for (uint32_t k = 0; k < holders.size(); ++k) local[holders[k].first] = k;
    std::vector<std::vector<uint32_t>> unit_holders(uend - ui);
    absl::flat_hash_map<uint32_t, uint32_t> unit_of;  // thread -> unit
    for (size_t u = ui; u < uend; ++u) unit_of[units_seen[u].second] = static_cast<uint32_t>(u - ui);
    for (size_t h = hi; h < hend; ++h) {
      unit_holders[unit_of[std::get<1>(holdings[h])]].push_back(local[std::get<2>(holdings[h])]);
    }
    BusFactor bf = TruckFactor(unit_holders, static_cast<uint32_t>(holders.size()), o.orphan_fraction);
    TopicCoverage& tc = r.topics[i];
    tc.units = static_cast<uint32_t>(uend - ui);
    tc.bus_factor = bf.value;
    tc.bus_factor_exact = bf.exact;
    for (uint32_t k : bf.people) tc.bus_factor_people.push_back(NameOf(s.person(holders[k].first)));
    tc.at_risk = tc.units >= std::max<uint32_t>(o.min_topic_units, 1) && tc.bus_factor <= o.at_risk_max;
    hi = hend;
    ui = uend;
  }
  std::vector<const TopicCoverage*> risky;
  for (const TopicCoverage& tc : r.topics) {
    if (tc.at_risk) risky.push_back(&tc);
  }
  std::stable_sort(risky.begin(), risky.end(), [](const TopicCoverage* a, const TopicCoverage* b) {
    return a->bus_factor != b->bus_factor ? a->bus_factor < b->bus_factor : a->units > b->units;
  });
  for (const TopicCoverage* tc : risky) r.at_risk.push_back(tc->topic);
  Report(o, "coverage: done", 1);
  return r;
}

// ---------------------------------------------------------------- network

absl::StatusOr<NetworkReport> ComputeNetwork(const Snapshot& s, const NetworkOptions& o) {
  Report(o, "network: view", 0);
  WK_ASSIGN_OR_RETURN(View v, MakeView(s, o));
  NetworkReport r;
  FillHeader(v, o, &r);
  // Local person ids in person-index order.
  std::vector<uint32_t> local(s.num_persons(), kNone), person_of;
  std::vector<uint32_t> pdocs;
  for (uint32_t d : v.docs) {
    uint32_t a = s.doc(d).author;
    if (local[a] == kNone) {
      local[a] = 0;
    }
  }
  for (uint32_t p = 0; p < s.num_persons(); ++p) {
    if (local[p] == kNone) continue;
    local[p] = static_cast<uint32_t>(person_of.size());
    person_of.push_back(p);
  }
  const uint32_t n = static_cast<uint32_t>(person_of.size());
  pdocs.assign(n, 0);
  absl::flat_hash_map<uint64_t, double> contact, reply;
  for (uint32_t d : v.docs) {
    const DocInfo& di = s.doc(d);
    const uint32_t a = local[di.author];
    ++pdocs[a];
    uint32_t other = di.parent;
    if (other == kNone || !v.in[other]) {
      other = s.ThreadRoot(di.thread);
      if (other == d || !v.in[other]) continue;
    }
    const uint32_t b = local[s.doc(other).author];
    if (b == a || b == kNone) continue;
    contact[(static_cast<uint64_t>(std::min(a, b)) << 32) | std::max(a, b)] += 1;
    reply[(static_cast<uint64_t>(a) << 32) | b] += 1;
  }
  SimpleGraph g;
  g.n = n;
  std::vector<std::pair<uint64_t, double>> ce(contact.begin(), contact.end());
  std::sort(ce.begin(), ce.end());
  for (const auto& [key, w] : ce) {
    g.edges.emplace_back(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu));
    g.weights.push_back(w);
  }
  r.contact_edges = g.edges.size();
  r.reply_edges = reply.size();
  std::vector<double> wdeg(n, 0);
  for (size_t e = 0; e < g.edges.size(); ++e) {
    wdeg[g.edges[e].first] += g.weights[e];
    wdeg[g.edges[e].second] += g.weights[e];
  }

  // Communities.
  Report(o, "network: communities", 0.1);
  WK_ASSIGN_OR_RETURN(Partition part, DetectCommunities(g, o.seed));
  r.modularity = part.modularity;
  r.community_method = part.method;
  std::vector<uint32_t> csize;
  for (int c : part.membership) {
    if (static_cast<size_t>(c) >= csize.size()) csize.resize(c + 1, 0);
    ++csize[c];
  }
  r.communities_total = static_cast<uint32_t>(csize.size());
  std::vector<int> comm(n, -1);  // after suppression; ids stay (largest first, so kept ids are a prefix)
  int kept = 0;
  for (uint32_t c = 0; c < csize.size(); ++c) {
    if (csize[c] >= o.min_group_size) {
      kept = static_cast<int>(c) + 1;
    } else {
      ++r.suppressed_communities;
      r.suppressed_people += csize[c];
    }
  }
  for (uint32_t i = 0; i < n; ++i) comm[i] = part.membership[i] < kept ? part.membership[i] : -1;
  r.communities.resize(kept);
  std::vector<double> internal(n, 0);
  std::map<std::pair<int, int>, double> links;
  for (size_t e = 0; e < g.edges.size(); ++e) {
    const auto [a, b] = g.edges[e];
    if (comm[a] < 0 || comm[b] < 0) continue;
    if (comm[a] == comm[b]) {
      internal[a] += g.weights[e];
      internal[b] += g.weights[e];
    } else {
      links[{std::min(comm[a], comm[b]), std::max(comm[a], comm[b])}] += g.weights[e];
    }
  }
  for (int c = 0; c < kept; ++c) {
    r.communities[c].id = c;
    r.communities[c].size = csize[c];
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (comm[i] < 0) continue;
    const engine::PersonInfo& pi = s.person(person_of[i]);
    r.communities[comm[i]].members.push_back({pi.id, NameOf(pi), internal[i]});
  }
  std::vector<absl::flat_hash_map<uint32_t, uint32_t>> ctopics(kept);
  for (uint32_t d : v.docs) {
    const int c = comm[local[s.doc(d).author]];
    if (c < 0) continue;
    for (uint32_t t : s.DocTopics(d)) {
      if (v.topic_ok[t]) ++ctopics[c][t];
    }
  }
  for (const auto& [ab, w] : links) {
    r.communities[ab.first].links.emplace_back(ab.second, w);
    r.communities[ab.second].links.emplace_back(ab.first, w);
  }
  for (int c = 0; c < kept; ++c) {
    Community& cm = r.communities[c];
    std::sort(cm.members.begin(), cm.members.end(), [](const CommunityMember& a, const CommunityMember& b) {
      return a.strength != b.strength ? a.strength > b.strength : a.person_id < b.person_id;
    });
    KeepTop(cm.members, o.top_k);
    for (const auto& [t, cnt] : ctopics[c]) cm.top_topics.emplace_back(s.topic_name(t), cnt);
    std::sort(cm.top_topics.begin(), cm.top_topics.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    KeepTop(cm.top_topics, 10);
    std::sort(cm.links.begin(), cm.links.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  }

  // Brokers.
  Report(o, "network: betweenness", 0.4);
  std::vector<double> bc;
  if (n <= o.betweenness_exact_limit) {
    bc = ExactBetweenness(g);
    r.betweenness_exact = true;
  } else {
    bc = SampledBetweenness(g, o.betweenness_samples, o.betweenness_delta, o.seed, o.threads, &r.betweenness_error);
    r.betweenness_exact = false;
    r.betweenness_pivots = std::min(o.betweenness_samples, n);
  }
  std::vector<std::vector<uint32_t>> adj(n);
  for (const auto& [a, b] : g.edges) {
    adj[a].push_back(b);
    adj[b].push_back(a);
  }
  auto top_by = [&](const std::vector<double>& score) {
    std::vector<uint32_t> idx;
    for (uint32_t i = 0; i < n; ++i) {
      if (score[i] > 0) idx.push_back(i);
    }
    auto cmp = [&](uint32_t a, uint32_t b) {
      return score[a] != score[b] ? score[a] > score[b] : s.person(person_of[a]).id < s.person(person_of[b]).id;
    };
    const size_t k = std::min(idx.size(), o.top_k);
    std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(k), idx.end(), cmp);
    idx.resize(k);
    return idx;
  };
  for (uint32_t i : top_by(bc)) {
    const engine::PersonInfo& pi = s.person(person_of[i]);
    PersonScore ps{pi.id, NameOf(pi), bc[i], comm[i], {}, 0};
    std::vector<int> cs;
    if (comm[i] >= 0) cs.push_back(comm[i]);
    for (uint32_t j : adj[i]) {
      if (comm[j] >= 0) cs.push_back(comm[j]);
    }
    std::sort(cs.begin(), cs.end());
    cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
    ps.communities_bridged = std::move(cs);
    r.brokers.push_back(std::move(ps));
  }

  // Influencers.
  Report(o, "network: pagerank", 0.8);
  std::vector<std::tuple<uint32_t, uint32_t, double>> re;
  re.reserve(reply.size());
  for (const auto& [key, w] : reply) re.emplace_back(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key), w);
  std::sort(re.begin(), re.end());
  std::vector<double> pr = PageRank(n, re, 0.85);
  std::vector<double> received(n, 0);
  for (const auto& [a, b, w] : re) received[b] += w;
  std::vector<double> pr_received(n, 0);  // influencers: people someone replied to
  for (uint32_t i = 0; i < n; ++i) pr_received[i] = received[i] > 0 ? pr[i] : 0;
  for (uint32_t i : top_by(pr_received)) {
    const engine::PersonInfo& pi = s.person(person_of[i]);
    r.influencers.push_back({pi.id, NameOf(pi), pr[i], comm[i], {}, static_cast<uint32_t>(received[i])});
  }

  if (o.include_graph) {
    Report(o, "network: graph", 0.9);
    r.nodes.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const engine::PersonInfo& pi = s.person(person_of[i]);
      r.nodes.push_back({pi.id, "person", NameOf(pi), comm[i], wdeg[i], pdocs[i], v.last_active[person_of[i]], bc[i], pr[i]});
    }
    for (size_t e = 0; e < g.edges.size(); ++e) {
      r.edges.push_back({g.edges[e].first, g.edges[e].second, "contact", g.weights[e]});
    }
    // Expertise: person - topic with the person's strength in the topic.
    std::vector<uint32_t> tdocs(s.num_topics(), 0);
    std::vector<int64_t> tlast(s.num_topics(), 0);
    std::vector<double> tw(s.num_topics(), 0);
    absl::flat_hash_map<uint64_t, double> pt;
    for (uint32_t d : v.docs) {
      const DocInfo& di = s.doc(d);
      const double w = ContributionWeight(di);
      for (uint32_t t : s.DocTopics(d)) {
        if (!v.topic_ok[t]) continue;
        ++tdocs[t];
        tw[t] += w;
        tlast[t] = std::max(tlast[t], di.timestamp);
        pt[(static_cast<uint64_t>(t) << 32) | local[di.author]] += w;
      }
    }
    std::vector<uint32_t> tnode(s.num_topics(), kNone);
    for (uint32_t t = 0; t < s.num_topics(); ++t) {
      if (tdocs[t] == 0) continue;
      tnode[t] = static_cast<uint32_t>(r.nodes.size());
      r.nodes.push_back({"topic:" + s.topic_name(t), "topic", s.topic_name(t), -1, static_cast<double>(tdocs[t]),
                         tdocs[t], tlast[t], 0, 0});
    }
    std::vector<std::pair<uint64_t, double>> pte(pt.begin(), pt.end());
    std::sort(pte.begin(), pte.end());
    for (const auto& [key, w] : pte) {
      const uint32_t t = static_cast<uint32_t>(key >> 32);
      r.edges.push_back({static_cast<uint32_t>(key & 0xffffffffu), tnode[t], "expertise", w / tw[t]});
    }
  }
  Report(o, "network: done", 1);
  return r;
}

}  // namespace whoknows::network
