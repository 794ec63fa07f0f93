#include "whoknows/engine/connect_model.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "whoknows/base/strings.h"

namespace whoknows::engine {
namespace {

constexpr double kDaySeconds = 86400.0;

GroupBits DocBit(const Snapshot& s, uint32_t d) {
  const uint8_t g = s.doc(d).group;
  return g == kNoGroup ? 0 : (1u << g);
}

float Log1p(double x) { return static_cast<float>(std::log1p(std::max(0.0, x))); }

}  // namespace

std::shared_ptr<const InteractionGraph> InteractionGraph::Build(const Snapshot& s, size_t max_thread_contacts) {
  struct Event {
    uint32_t u, v;
    int64_t t;
    bool reply;
    GroupBits bit;
  };
  std::vector<Event> ev;
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    const DocInfo& di = s.doc(d);
    if (di.parent == kNone || di.author == kNone) continue;
    const uint32_t b = s.doc(di.parent).author;
    const GroupBits bit = DocBit(s, d);
    if (b == kNone || b == di.author || bit == 0) continue;
    ev.push_back({std::min(di.author, b), std::max(di.author, b), di.timestamp, true, bit});
  }
  std::vector<std::tuple<uint32_t, int64_t, GroupBits>> members;  // (author, first post, group bit)
  for (uint32_t t = 0; t < s.num_threads(); ++t) {
    members.clear();
    for (uint32_t d : s.ThreadDocs(t)) {  // oldest first: the first post of each author wins
      const DocInfo& di = s.doc(d);
      const GroupBits bit = DocBit(s, d);
      if (di.author == kNone || bit == 0) continue;
      bool seen = false;
      for (const auto& m : members) seen |= std::get<0>(m) == di.author;
      if (!seen) members.emplace_back(di.author, di.timestamp, bit);
      if (members.size() > max_thread_contacts) break;
    }
    if (members.size() < 2 || members.size() > max_thread_contacts) continue;
    for (size_t i = 0; i < members.size(); ++i) {
      for (size_t j = i + 1; j < members.size(); ++j) {
        const auto& [a, ta, ba] = members[i];
        const auto& [b, tb, bb] = members[j];
        ev.push_back({std::min(a, b), std::max(a, b), std::max(ta, tb), false, tb >= ta ? bb : ba});
      }
    }
  }
  std::sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return std::tie(a.u, a.v) < std::tie(b.u, b.v); });
  struct Half {
    uint32_t from;
    Edge e;
  };
  std::vector<Half> half;
  for (size_t i = 0; i < ev.size();) {
    Edge e;
    e.to = ev[i].v;
    size_t j = i;
    for (; j < ev.size() && ev[j].u == ev[i].u && ev[j].v == ev[i].v; ++j) {
      if (ev[j].reply) e.first_reply = std::min(e.first_reply, ev[j].t);
      e.first_contact = std::min(e.first_contact, ev[j].t);
      e.mask |= ev[j].bit;
    }
    half.push_back({ev[i].u, e});
    Edge r = e;
    r.to = ev[i].u;
    half.push_back({ev[i].v, r});
    i = j;
  }
  std::sort(half.begin(), half.end(),
            [](const Half& a, const Half& b) { return std::tie(a.from, a.e.to) < std::tie(b.from, b.e.to); });
  std::shared_ptr<InteractionGraph> g(new InteractionGraph());
  const uint32_t P = s.num_persons();
  g->offsets_.assign(static_cast<size_t>(P) + 1, 0);
  g->edges_.reserve(half.size());
  for (const Half& h : half) {
    ++g->offsets_[h.from + 1];
    g->edges_.push_back(h.e);
  }
  for (uint32_t p = 0; p < P; ++p) g->offsets_[p + 1] += g->offsets_[p];
  return g;
}

std::string_view LinkMethodName(LinkMethod m) {
  switch (m) {
    case LinkMethod::kCommonNeighbours: return "common-neighbours";
    case LinkMethod::kAdamicAdar: return "adamic-adar";
    case LinkMethod::kResourceAllocation: return "resource-allocation";
    case LinkMethod::kJaccard: return "jaccard";
  }
  return "?";
}

std::vector<std::pair<uint32_t, double>> PredictLinks(const Snapshot& s, const InteractionGraph& g, uint32_t p,
                                                      LinkMethod method, GroupBits mask, int64_t as_of,
                                                      std::span<const uint8_t> blocked) {
  std::vector<std::pair<uint32_t, double>> out;
  const uint32_t P = g.num_persons();
  if (p >= P) return out;
  const int64_t t = as_of == 0 ? kNever : as_of;
  auto reply = [&](const InteractionGraph::Edge& e) { return (e.mask & mask) != 0 && e.first_reply < t; };
  auto degree = [&](uint32_t z) {
    uint32_t n = 0;
    for (const auto& e : g.Row(z)) n += reply(e) ? 1 : 0;
    return n;
  };
  std::vector<double> score(P, 0.0), common(P, 0.0);
  std::vector<uint32_t> touched;
  std::vector<uint8_t> nbr(P, 0);
  for (const auto& e : g.Row(p)) nbr[e.to] = reply(e) ? 1 : 0;
  const uint32_t deg_p = degree(p);
  for (const auto& e1 : g.Row(p)) {
    if (!reply(e1)) continue;
    const uint32_t z = e1.to;
    const double dz = degree(z);
    for (const auto& e2 : g.Row(z)) {
      const uint32_t w = e2.to;
      if (w == p || nbr[w] || !reply(e2) || (!blocked.empty() && blocked[w])) continue;
      if (common[w] == 0) touched.push_back(w);
      common[w] += 1;
      switch (method) {
        case LinkMethod::kAdamicAdar: score[w] += dz > 1 ? 1.0 / std::log(dz) : 0.0; break;
        case LinkMethod::kResourceAllocation: score[w] += 1.0 / dz; break;
        default: score[w] += 1; break;
      }
    }
  }
  for (uint32_t w : touched) {
    double v = score[w];
    if (method == LinkMethod::kJaccard) {
      const double uni = static_cast<double>(deg_p) + degree(w) - common[w];
      v = uni > 0 ? common[w] / uni : 0;
    }
    out.emplace_back(w, v);
  }
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && s.person(a.first).id < s.person(b.first).id);
  });
  return out;
}

const std::array<const char*, kNumConnectFeatures>& ConnectFeatureNames() {
  static const std::array<const char*, kNumConnectFeatures> kNames = {
      "reply_common_neighbours", "reply_adamic_adar", "reply_resource_allocation", "reply_jaccard",
      "contact_common_neighbours", "contact_adamic_adar", "ppr", "ppr_per_degree",
      "reply_degree", "contact_degree", "activity", "recent_activity",
      "recent_activity_90d", "idle_days", "new_contacts", "topic_similarity",
      "shared_communities", "person_reply_degree", "person_activity", "person_recent_activity"};
  return kNames;
}

ConnectFeaturizer::ConnectFeaturizer(const Snapshot& s, const InteractionGraph& g, const ConnectFeatureOptions& o)
    : s_(s), g_(g), o_(o) {
  as_of_ = o.as_of != 0 ? o.as_of : s.max_timestamp() + 1;
  const uint32_t P = s.num_persons();
  reply_deg_.assign(P, 0);
  contact_deg_.assign(P, 0);
  activity_.assign(P, 0);
  recent_.assign(P, 0);
  recent90_.assign(P, 0);
  new_contacts_.assign(P, 0);
  wdeg_.assign(P, 0);
  last_active_.assign(P, 0);
  person_ref_.assign(P, as_of_);
  const auto recent_span = static_cast<int64_t>(o.recent_days * kDaySeconds);
  const auto span90 = static_cast<int64_t>(90 * kDaySeconds);
  // The clock a doc's recency is measured by (ConnectFeatureOptions::as_of).
  const bool own_clocks = o.as_of == 0;
  auto clock = [&](uint32_t community) {
    return own_clocks && community != kNone ? s.community_max_timestamp(community) + 1 : as_of_;
  };
  const uint32_t C = s.num_communities();
  std::vector<std::pair<uint32_t, uint32_t>> recent_in;  // (community slot, person): recent there
  std::vector<uint32_t> last_slot(P, kNone);             // per person: the slot of its last pair
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    const DocInfo& di = s.doc(d);
    if (di.author == kNone || di.timestamp >= as_of_ || !s.DocVisible(d, o.group_mask)) continue;
    const uint32_t a = di.author;
    const int64_t ref = clock(di.community);
    ++activity_[a];
    if (di.timestamp >= ref - recent_span) {
      ++recent_[a];
      const uint32_t slot = di.community < C ? di.community : C;
      if (last_slot[a] != slot) {  // one pair per run of a person's docs in one community (sorted below)
        last_slot[a] = slot;
        recent_in.emplace_back(slot, a);
      }
    }
    if (di.timestamp >= ref - span90) ++recent90_[a];
    if (di.timestamp >= last_active_[a]) {
      last_active_[a] = di.timestamp;
      person_ref_[a] = ref;
    }
  }
  for (uint32_t p = 0; p < P && p < g.num_persons(); ++p) {
    for (const auto& e : g.Row(p)) {
      if (Reply(e)) ++reply_deg_[p];
      if (Contact(e)) {
        ++contact_deg_[p];
        wdeg_[p] += e.first_reply < as_of_ ? 1.0f : 0.5f;
        if (e.first_contact >= person_ref_[p] - recent_span) ++new_contacts_[p];
      }
    }
  }
  std::sort(recent_in.begin(), recent_in.end());
  recent_in.erase(std::unique(recent_in.begin(), recent_in.end()), recent_in.end());
  recent_top_.assign(C + 1, {});
  const size_t keep = o.max_recent_candidates * 4 + 64;
  for (size_t i = 0; i < recent_in.size();) {
    const uint32_t c = recent_in[i].first;
    std::vector<uint32_t>& order = recent_top_[c];
    for (; i < recent_in.size() && recent_in[i].first == c; ++i) {
      if (!s.person(recent_in[i].second).opted_out) order.push_back(recent_in[i].second);
    }
    const size_t k = std::min(order.size(), keep);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](uint32_t a, uint32_t b) { return recent_[a] > recent_[b] || (recent_[a] == recent_[b] && a < b); });
    order.resize(k);
  }
  topic_done_.assign(P, 0);
  topics_.resize(P);
  communities_.resize(P);
  cn_.assign(P, 0);
  aa_.assign(P, 0);
  ra_.assign(P, 0);
  ccn_.assign(P, 0);
  caa_.assign(P, 0);
  reserve_.assign(P, 0);
  residual_.assign(P, 0);
  blocked_.assign(P, 0);
  in_.assign(P, 0);
}

std::vector<uint32_t> ConnectFeaturizer::ContactsAsOf(uint32_t p) const {
  std::vector<uint32_t> out;
  if (p >= g_.num_persons()) return out;
  for (const auto& e : g_.Row(p)) {
    if (Contact(e)) out.push_back(e.to);
  }
  return out;
}

const std::vector<std::pair<uint32_t, float>>& ConnectFeaturizer::TopicVector(uint32_t p) {
  if (topic_done_[p]) return topics_[p];
  topic_done_[p] = 1;
  std::vector<uint32_t> ts;
  std::vector<uint32_t>& coms = communities_[p];
  size_t used = 0;
  const auto docs = s_.PersonDocs(p);
  for (size_t i = docs.size(); i-- > 0 && used < o_.topic_docs;) {
    const uint32_t d = docs[i];
    if (s_.doc(d).timestamp >= as_of_ || !s_.DocVisible(d, o_.group_mask)) continue;
    ++used;
    for (uint32_t t : s_.DocTopics(d)) ts.push_back(t);
    if (s_.doc(d).community != kNone) coms.push_back(s_.doc(d).community);
  }
  std::sort(coms.begin(), coms.end());
  coms.erase(std::unique(coms.begin(), coms.end()), coms.end());
  std::sort(ts.begin(), ts.end());
  auto& v = topics_[p];
  double norm = 0;
  for (size_t i = 0; i < ts.size();) {
    size_t j = i;
    while (j < ts.size() && ts[j] == ts[i]) ++j;
    const float c = static_cast<float>(j - i);
    v.emplace_back(ts[i], c);
    norm += static_cast<double>(c) * c;
    i = j;
  }
  if (norm > 0) {
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& [t, c] : v) c *= inv;
  }
  return v;
}

std::vector<ConnectCandidate> ConnectFeaturizer::Candidates(uint32_t p, std::span<const uint32_t> exclude) {
  std::vector<ConnectCandidate> out;
  const uint32_t P = s_.num_persons();
  if (p >= P || p >= g_.num_persons()) return out;
  std::vector<uint32_t> blocked_list{p}, touched;
  blocked_[p] = 1;
  for (const auto& e : g_.Row(p)) {
    if (Contact(e) && !blocked_[e.to]) {
      blocked_[e.to] = 1;
      blocked_list.push_back(e.to);
    }
  }
  for (uint32_t x : exclude) {
    if (x < P && !blocked_[x]) {
      blocked_[x] = 1;
      blocked_list.push_back(x);
    }
  }
  auto ok = [&](uint32_t w) { return !blocked_[w] && activity_[w] > 0 && !s_.person(w).opted_out; };
  auto touch = [&](uint32_t w) {
    if (!in_[w]) {
      in_[w] = 1;
      touched.push_back(w);
    }
  };
  // Distance two in the reply graph and in the contact graph.
  for (const auto& e1 : g_.Row(p)) {
    const uint32_t z = e1.to;
    const bool r1 = Reply(e1), c1 = Contact(e1);
    if (!c1) continue;
    const double dr = reply_deg_[z], dc = contact_deg_[z];
    for (const auto& e2 : g_.Row(z)) {
      const uint32_t w = e2.to;
      if (!ok(w)) continue;
      if (r1 && Reply(e2)) {
        touch(w);
        cn_[w] += 1;
        aa_[w] += dr > 1 ? 1.0 / std::log(dr) : 0.0;
        ra_[w] += 1.0 / std::max(1.0, dr);
      }
      if (Contact(e2)) {
        touch(w);
        ccn_[w] += 1;
        caa_[w] += dc > 1 ? 1.0 / std::log(dc) : 0.0;
      }
    }
  }
  // Personalized PageRank from p over the contact graph (reply 1, thread-only 0.5), forward push.
  std::vector<uint32_t> ppr_touched{p};
  {
    std::deque<uint32_t> queue{p};
    residual_[p] = 1.0;
    std::vector<uint8_t>& queued = in_;  // reuse: mark ppr-queued with bit 2
    queued[p] |= 2;
    uint64_t pushes = 0;
    while (!queue.empty() && pushes < 2000000) {
      const uint32_t u = queue.front();
      queue.pop_front();
      queued[u] &= static_cast<uint8_t>(~2);
      const double r = residual_[u];
      const double du = wdeg_[u];
      if (du <= 0) {
        reserve_[u] += r;
        residual_[u] = 0;
        continue;
      }
      if (r < o_.ppr_r_max * du) continue;
      ++pushes;
      reserve_[u] += o_.ppr_alpha * r;
      residual_[u] = 0;
      const double spread = (1 - o_.ppr_alpha) * r / du;
      for (const auto& e : g_.Row(u)) {
        if (!Contact(e)) continue;
        const uint32_t v = e.to;
        if (reserve_[v] == 0 && residual_[v] == 0) ppr_touched.push_back(v);
        residual_[v] += spread * (e.first_reply < as_of_ ? 1.0 : 0.5);
        if (!(queued[v] & 2) && residual_[v] >= o_.ppr_r_max * std::max(1.0f, wdeg_[v])) {
          queued[v] |= 2;
          queue.push_back(v);
        }
      }
    }
    for (uint32_t v : queue) queued[v] &= static_cast<uint8_t>(~2);
  }
  // Selection: best reply Adamic-Adar at distance two, best PPR, most recently active.
  std::vector<uint32_t> chosen;
  std::vector<uint8_t>& pick = in_;  // bit 4 = chosen
  auto choose = [&](uint32_t w) {
    if (!(pick[w] & 4)) {
      pick[w] |= 4;
      chosen.push_back(w);
    }
  };
  {
    std::vector<uint32_t> link;
    for (uint32_t w : touched) {
      if (cn_[w] > 0) link.push_back(w);
    }
    const size_t k = std::min(link.size(), o_.max_link_candidates);
    std::partial_sort(link.begin(), link.begin() + static_cast<std::ptrdiff_t>(k), link.end(),
                      [&](uint32_t a, uint32_t b) {
                        return aa_[a] > aa_[b] || (aa_[a] == aa_[b] && (cn_[a] > cn_[b] || (cn_[a] == cn_[b] && a < b)));
                      });
    for (size_t i = 0; i < k; ++i) choose(link[i]);
    std::vector<uint32_t> pp;
    for (uint32_t w : ppr_touched) {
      if (w < P && reserve_[w] > 0 && ok(w)) pp.push_back(w);
    }
    const size_t kp = std::min(pp.size(), o_.max_ppr_candidates);
    std::partial_sort(pp.begin(), pp.begin() + static_cast<std::ptrdiff_t>(kp), pp.end(),
                      [&](uint32_t a, uint32_t b) { return reserve_[a] > reserve_[b] || (reserve_[a] == reserve_[b] && a < b); });
    for (size_t i = 0; i < kp; ++i) choose(pp[i]);
    // The most active lately in p's own communities (each by its clock), not
    // the busiest people of an unrelated community of the index.
    TopicVector(p);  // fills communities_[p]
    std::vector<uint32_t> recent;
    for (uint32_t c : communities_[p]) {
      const std::vector<uint32_t>& top = recent_top_[c < s_.num_communities() ? c : s_.num_communities()];
      recent.insert(recent.end(), top.begin(), top.end());
    }
    if (communities_[p].empty()) {  // nothing visible to go by: every community's
      for (const std::vector<uint32_t>& top : recent_top_) recent.insert(recent.end(), top.begin(), top.end());
    }
    std::sort(recent.begin(), recent.end(),
              [&](uint32_t a, uint32_t b) { return recent_[a] > recent_[b] || (recent_[a] == recent_[b] && a < b); });
    recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
    size_t kr = 0;
    for (uint32_t w : recent) {
      if (kr >= o_.max_recent_candidates) break;
      if (!ok(w)) continue;
      choose(w);
      ++kr;
    }
  }
  const auto& my_topics = TopicVector(p);
  const std::vector<uint32_t> my_coms = communities_[p];
  std::vector<std::pair<uint32_t, float>> mine(my_topics.begin(), my_topics.end());
  out.reserve(chosen.size());
  for (uint32_t w : chosen) {
    ConnectCandidate c;
    c.person = w;
    auto& x = c.x;
    x[0] = static_cast<float>(cn_[w]);
    x[1] = static_cast<float>(aa_[w]);
    x[2] = static_cast<float>(ra_[w]);
    const double uni = static_cast<double>(reply_deg_[p]) + reply_deg_[w] - cn_[w];
    x[3] = uni > 0 ? static_cast<float>(cn_[w] / uni) : 0.0f;
    x[4] = static_cast<float>(ccn_[w]);
    x[5] = static_cast<float>(caa_[w]);
    x[6] = static_cast<float>(std::log10(reserve_[w] + 1e-7) + 7);
    x[7] = static_cast<float>(std::log10(reserve_[w] / std::max(1.0f, wdeg_[w]) + 1e-8) + 8);
    x[8] = Log1p(reply_deg_[w]);
    x[9] = Log1p(contact_deg_[w]);
    x[10] = Log1p(activity_[w]);
    x[11] = Log1p(recent_[w]);
    x[12] = Log1p(recent90_[w]);
    x[13] = Log1p(static_cast<double>(person_ref_[w] - last_active_[w]) / kDaySeconds);
    x[14] = Log1p(new_contacts_[w]);
    const auto& theirs = TopicVector(w);
    double dot = 0;
    for (size_t i = 0, j = 0; i < mine.size() && j < theirs.size();) {
      if (mine[i].first < theirs[j].first) {
        ++i;
      } else if (theirs[j].first < mine[i].first) {
        ++j;
      } else {
        dot += static_cast<double>(mine[i].second) * theirs[j].second;
        ++i;
        ++j;
      }
    }
    x[15] = static_cast<float>(dot);
    size_t shared = 0;
    for (uint32_t com : communities_[w]) shared += std::binary_search(my_coms.begin(), my_coms.end(), com) ? 1 : 0;
    x[16] = static_cast<float>(shared);
    // The person's own standing (constant within a group): lets trees rank differently for
    // newcomers (popularity) and for people with a circle (their neighbourhood).
    x[17] = Log1p(reply_deg_[p]);
    x[18] = Log1p(activity_[p]);
    x[19] = Log1p(recent_[p]);
    out.push_back(c);
  }
  // Reset the scratch this call touched.
  for (uint32_t w : touched) cn_[w] = aa_[w] = ra_[w] = ccn_[w] = caa_[w] = 0;
  for (uint32_t w : touched) in_[w] = 0;
  for (uint32_t w : chosen) in_[w] = 0;
  for (uint32_t w : ppr_touched) reserve_[w] = residual_[w] = 0, in_[w] = 0;
  for (uint32_t w : blocked_list) blocked_[w] = 0;
  return out;
}

std::vector<ConnectHistoryGroup> ConnectHistory(const Snapshot& s, const InteractionGraph& g, int64_t end,
                                                const ConnectTrainOptions& o) {
  std::vector<ConnectHistoryGroup> out;
  std::vector<int64_t> times;
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    if (s.doc(d).timestamp < end) times.push_back(s.doc(d).timestamp);
  }
  if (times.empty()) return out;
  std::sort(times.begin(), times.end());
  std::vector<int64_t> points;
  for (double f : o.history_fractions) {
    if (!(f > 0 && f < 1)) continue;
    const int64_t t = times[static_cast<size_t>(f * static_cast<double>(times.size() - 1))];
    if (t < end && (points.empty() || points.back() != t)) points.push_back(t);
  }
  const GroupBits mask = o.features.group_mask;
  for (int64_t t : points) {
    ConnectFeatureOptions fo = o.features;
    fo.as_of = t;
    ConnectFeaturizer f(s, g, fo);
    std::vector<ConnectHistoryGroup> at;
    for (uint32_t a = 0; a < s.num_persons() && a < g.num_persons(); ++a) {
      if (!f.ActiveAsOf(a) || s.person(a).opted_out) continue;
      ConnectHistoryGroup grp;
      for (const auto& e : g.Row(a)) {
        // A first interaction in [t, end): a reply before `end` between people
        // who were not contacts before t (first_reply >= first_contact >= t).
        if ((e.mask & mask) == 0 || e.first_contact < t || e.first_reply >= end) continue;
        if (!f.ActiveAsOf(e.to)) continue;
        grp.truth.push_back(e.to);
      }
      if (grp.truth.empty()) continue;
      grp.as_of = t;
      grp.person = a;
      at.push_back(std::move(grp));
    }
    if (at.size() > o.max_groups_per_time) {
      std::stable_sort(at.begin(), at.end(), [&](const ConnectHistoryGroup& x, const ConnectHistoryGroup& y) {
        return Fnv1a(s.person(x.person).id) < Fnv1a(s.person(y.person).id);
      });
      at.resize(o.max_groups_per_time);
    }
    for (ConnectHistoryGroup& grp : at) {
      grp.candidates = f.Candidates(grp.person);
      grp.relevant.reserve(grp.candidates.size());
      for (const ConnectCandidate& c : grp.candidates) {
        grp.relevant.push_back(std::find(grp.truth.begin(), grp.truth.end(), c.person) != grp.truth.end() ? 1 : 0);
      }
      out.push_back(std::move(grp));
    }
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const ConnectModel>> ConnectModel::Train(std::span<const ConnectHistoryGroup> groups,
                                                                       const ConnectTrainOptions& o) {
  LtrData data;
  data.num_features = kNumConnectFeatures;
  size_t used = 0;
  for (const ConnectHistoryGroup& g : groups) {
    if (g.candidates.size() != g.relevant.size() || g.candidates.size() < 2) continue;
    if (std::find(g.relevant.begin(), g.relevant.end(), 1) == g.relevant.end()) continue;
    ++used;
    for (size_t i = 0; i < g.candidates.size(); ++i) {
      data.x.insert(data.x.end(), g.candidates[i].x.begin(), g.candidates[i].x.end());
      data.labels.push_back(g.relevant[i] ? 1.0f : 0.0f);
    }
    data.group_sizes.push_back(static_cast<unsigned>(g.candidates.size()));
  }
  if (used < o.train.min_groups) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "connect model: %d history groups with a first interaction among the candidates, need %d", used,
        o.train.min_groups));
  }
  std::shared_ptr<ConnectModel> m(new ConnectModel());
  auto b = LtrBooster::Train(data, o.train);
  if (!b.ok()) return b.status();
  m->booster_ = *std::move(b);
  m->features_ = o.features;
  m->features_.as_of = 0;
  m->train_groups_ = used;
  m->train_rows_ = data.labels.size();
  return std::shared_ptr<const ConnectModel>(std::move(m));
}

// Header line: "whoknows-connect-model 1 features=N groups=G rows=R link=.. ppr=.. recent=.. recent_days=..
// alpha=.. r_max=.. topic_docs=..", then the XGBoost JSON model.
absl::StatusOr<std::string> ConnectModel::ToBytes() const {
  auto body = booster_->ToBytes();
  if (!body.ok()) return body.status();
  const ConnectFeatureOptions& f = features_;
  return absl::StrFormat(
             "whoknows-connect-model 1 features=%d groups=%d rows=%d link=%d ppr=%d recent=%d recent_days=%g "
             "alpha=%g r_max=%g topic_docs=%d\n",
             kNumConnectFeatures, train_groups_, train_rows_, f.max_link_candidates, f.max_ppr_candidates,
             f.max_recent_candidates, f.recent_days, f.ppr_alpha, f.ppr_r_max, f.topic_docs) +
         *body;
}

absl::StatusOr<std::shared_ptr<const ConnectModel>> ConnectModel::FromBytes(std::string_view bytes) {
  const size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos || !bytes.starts_with("whoknows-connect-model 1 ")) {
    return absl::InvalidArgumentError("connect model: not a whoknows connect model (bad header)");
  }
  std::shared_ptr<ConnectModel> m(new ConnectModel());
  ConnectFeatureOptions& f = m->features_;
  size_t features = 0;
  for (absl::string_view kv : absl::StrSplit(absl::string_view(bytes.data(), nl), ' ')) {
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view k = kv.substr(0, eq), v = kv.substr(eq + 1);
    bool ok = true;
    if (k == "features") ok = absl::SimpleAtoi(v, &features);
    if (k == "groups") ok = absl::SimpleAtoi(v, &m->train_groups_);
    if (k == "rows") ok = absl::SimpleAtoi(v, &m->train_rows_);
    if (k == "link") ok = absl::SimpleAtoi(v, &f.max_link_candidates);
    if (k == "ppr") ok = absl::SimpleAtoi(v, &f.max_ppr_candidates);
    if (k == "recent") ok = absl::SimpleAtoi(v, &f.max_recent_candidates);
    if (k == "recent_days") ok = absl::SimpleAtod(v, &f.recent_days);
    if (k == "alpha") ok = absl::SimpleAtod(v, &f.ppr_alpha);
    if (k == "r_max") ok = absl::SimpleAtod(v, &f.ppr_r_max);
    if (k == "topic_docs") ok = absl::SimpleAtoi(v, &f.topic_docs);
    if (!ok) return absl::InvalidArgumentError(absl::StrFormat("connect model: bad header field '%s'", std::string(kv)));
  }
  if (features != kNumConnectFeatures) {
    return absl::InvalidArgumentError(
        absl::StrFormat("connect model: %d features, this build uses %d", features, kNumConnectFeatures));
  }
  auto b = LtrBooster::FromBytes(bytes.substr(nl + 1), kNumConnectFeatures);
  if (!b.ok()) return b.status();
  m->booster_ = *std::move(b);
  return std::shared_ptr<const ConnectModel>(std::move(m));
}

absl::StatusOr<std::vector<float>> ConnectModel::Predict(std::span<const ConnectCandidate> rows) const {
  std::vector<float> x;
  x.reserve(rows.size() * kNumConnectFeatures);
  for (const ConnectCandidate& c : rows) x.insert(x.end(), c.x.begin(), c.x.end());
  return booster_->Predict(x);
}

absl::StatusOr<std::vector<RankedCandidate>> RankWithModel(const Snapshot& s, ConnectFeaturizer* f,
                                                           const ConnectModel& model, uint32_t p,
                                                           std::span<const uint32_t> exclude) {
  std::vector<ConnectCandidate> cands = f->Candidates(p, exclude);
  auto pred = model.Predict(cands);
  if (!pred.ok()) return pred.status();
  std::vector<RankedCandidate> out;
  out.reserve(cands.size());
  for (size_t i = 0; i < cands.size(); ++i) out.push_back({cands[i].person, (*pred)[i], cands[i].x});
  std::sort(out.begin(), out.end(), [&](const RankedCandidate& a, const RankedCandidate& b) {
    return a.score > b.score || (a.score == b.score && s.person(a.person).id < s.person(b.person).id);
  });
  return out;
}

}  // namespace whoknows::engine
