#include "whoknows/engine/connect.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "whoknows/base/status_macros.h"
#include "rank_internal.h"
#include "whoknows/engine/topic_strength.h"

namespace whoknows::engine {
namespace {

// The person's topics with their strength (engine/topic_strength.h), by topic.
std::vector<std::pair<uint32_t, double>> VisibleTopics(const Snapshot& s, uint32_t p, GroupBits mask) {
  TopicStrengthOptions so;
  so.group_mask = mask;
  std::vector<std::pair<uint32_t, double>> out;
  for (const PersonTopicStrength& e : PersonTopicStrengths(s, p, so)) out.emplace_back(e.topic, e.strength);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> VisibleCommunities(const Snapshot& s, uint32_t p, GroupBits mask) {
  std::vector<uint32_t> cs;
  for (uint32_t d : s.PersonDocs(p)) {
    if (s.DocVisible(d, mask) && s.doc(d).community != kNone) cs.push_back(s.doc(d).community);
  }
  std::sort(cs.begin(), cs.end());
  cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
  return cs;
}

// The learned ranking of me's candidates (blocked people removed).
absl::StatusOr<std::vector<RankedCandidate>> LearnedScores(const Snapshot& s, uint32_t me,
                                                           const std::vector<uint8_t>& blocked,
                                                           const ConnectOptions& o) {
  ConnectFeatureOptions fo = o.model->features();
  fo.group_mask = o.group_mask;
  fo.as_of = o.as_of;
  std::vector<uint32_t> exclude;
  for (uint32_t p = 0; p < blocked.size(); ++p) {
    if (blocked[p]) exclude.push_back(p);
  }
  if (o.interactions == nullptr) {
    std::shared_ptr<const InteractionGraph> g = InteractionGraph::Build(s);
    ConnectFeaturizer f(s, *g, fo);
    return RankWithModel(s, &f, *o.model, me, exclude);
  }
  // The featurizer's per-person counts cost O(docs) to build: keep one per thread for the
  // last (interaction graph, mask, as_of, model). The graph is per snapshot and held here, so a
  // matching pointer means the same snapshot (the caller holds it alive).
  struct Cached {
    std::shared_ptr<const InteractionGraph> graph;
    // Weak: a model kept alive by a thread_local would be freed at exit after XGBoost's statics.
    std::weak_ptr<const ConnectModel> model;
    GroupBits mask = 0;
    int64_t as_of = 0;
    std::unique_ptr<ConnectFeaturizer> f;
  };
  thread_local Cached cache;
  if (cache.f == nullptr || cache.graph != o.interactions || cache.model.expired() ||
      cache.model.owner_before(o.model) || o.model.owner_before(cache.model) || cache.mask != o.group_mask ||
      cache.as_of != o.as_of) {
    cache.f.reset();
    cache.graph = o.interactions;
    cache.model = o.model;
    cache.mask = o.group_mask;
    cache.as_of = o.as_of;
    cache.f = std::make_unique<ConnectFeaturizer>(s, *cache.graph, fo);
  }
  return RankWithModel(s, cache.f.get(), *o.model, me, exclude);
}

}  // namespace

std::vector<uint32_t> ContactsOf(const Snapshot& s, uint32_t p, GroupBits mask) {
  std::vector<uint32_t> out;
  if (p >= s.num_persons()) return out;
  const Graph& g = s.contacts();
  for (EdgeIndex e = g.row_begin(p); e < g.row_end(p); ++e) {
    if (g.mask(e) & mask) out.push_back(g.target(e));
  }
  return out;
}

namespace {

// Calls fn(z) for each visible common neighbour of a and b (rows are sorted).
template <typename Fn>
void ForCommon(const Snapshot& s, uint32_t a, uint32_t b, GroupBits mask, Fn fn) {
  if (a >= s.num_persons() || b >= s.num_persons()) return;
  const Graph& g = s.contacts();
  EdgeIndex i = g.row_begin(a), ie = g.row_end(a), j = g.row_begin(b), je = g.row_end(b);
  while (i < ie && j < je) {
    const VertexId x = g.target(i), y = g.target(j);
    if (x < y) {
      ++i;
    } else if (y < x) {
      ++j;
    } else {
      if ((g.mask(i) & mask) && (g.mask(j) & mask)) fn(x);
      ++i;
      ++j;
    }
  }
}

}  // namespace

double CommonNeighbors(const Snapshot& s, uint32_t a, uint32_t b, GroupBits mask) {
  double n = 0;
  ForCommon(s, a, b, mask, [&](uint32_t) { n += 1; });
  return n;
}

double AdamicAdar(const Snapshot& s, uint32_t a, uint32_t b, GroupBits mask) {
  double sum = 0;
  ForCommon(s, a, b, mask, [&](uint32_t z) {
    const double deg = s.contacts().VisibleOutDegree(z, mask);
    if (deg > 1) sum += 1.0 / std::log(deg);
  });
  return sum;
}

absl::StatusOr<std::vector<Connection>> SuggestConnections(const Snapshot& s, std::string_view person_id,
                                                           std::span<const indexer::SearchHit> about_hits,
                                                           const ConnectOptions& o) {
  const uint32_t me = s.FindPerson(person_id);
  if (me == kNone) return absl::NotFoundError(absl::StrFormat("connect: unknown person '%s'", person_id));
  if (!std::isfinite(o.beta) || o.beta < 0 || !(o.w_graph >= 0) || !(o.w_about >= 0)) {
    return absl::InvalidArgumentError("connect: beta and weights must be finite and >= 0");
  }
  const GroupBits mask = o.group_mask;
  const uint32_t P = s.num_persons();

  // Never suggested: me, my contacts, the excluded and the opted-out (checked
  // where a candidate is read: a pass over every person costs more than the
  // rest of a bounded push on a 100k-person snapshot).
  std::vector<uint8_t> marked(P, 0);
  marked[me] = 1;
  const std::vector<uint32_t> my_contacts = ContactsOf(s, me, mask);
  for (uint32_t c : my_contacts) marked[c] = 1;
  for (const std::string& id : o.exclude_persons) {
    const uint32_t p = s.FindPerson(id);
    if (p != kNone) marked[p] = 1;
  }
  auto blocked = [&](uint32_t p) { return marked[p] || s.person(p).opted_out; };

  std::vector<std::pair<uint32_t, double>> graph_scores;  // (person, raw)
  const char* graph_name = "ppr";
  std::vector<std::array<float, kNumConnectFeatures>> learned_x;  // parallel to graph_scores (learned only)
  if (o.method == ConnectMethod::kWhoknows && o.model != nullptr) {
    graph_name = "model";
    std::vector<uint8_t> blocked_all(P, 0);  // the learned path reads every person anyway
    for (uint32_t p = 0; p < P; ++p) blocked_all[p] = blocked(p) ? 1 : 0;
    WK_ASSIGN_OR_RETURN(std::vector<RankedCandidate> ranked, LearnedScores(s, me, blocked_all, o));
    // Min-max to (0, 1] so every candidate keeps a positive score.
    const double hi = ranked.empty() ? 0 : ranked.front().score, lo = ranked.empty() ? 0 : ranked.back().score;
    for (const RankedCandidate& r : ranked) {
      graph_scores.emplace_back(r.person, hi > lo ? 0.01 + 0.99 * (r.score - lo) / (hi - lo) : 1.0);
      learned_x.push_back(r.x);
    }
  } else if (o.method == ConnectMethod::kWhoknows) {
    PprWorkspace& ws = internal::ThreadPprWorkspace();
    PprOptions po = o.ppr;
    po.group_mask = mask;
    const Seed seed{s.PersonVertex(me), 1.0};
    if (absl::Status st = ForwardPush(s.graph(), std::span<const Seed>(&seed, 1), po, &ws); !st.ok()) return st;
    for (VertexId v : ws.touched) {
      if (v >= P || ws.score(v) <= 0 || blocked(v)) continue;
      const double deg = std::max(1.0f, ws.degree(v));
      graph_scores.emplace_back(v, ws.score(v) / std::pow(deg, o.beta));
    }
  } else {
    graph_name = o.method == ConnectMethod::kAdamicAdar ? "adamic-adar" : "common-neighbors";
    std::vector<double> acc(P, 0.0);
    std::vector<uint32_t> seen;
    const Graph& g = s.contacts();
    for (uint32_t c : my_contacts) {
      const double deg_c = g.VisibleOutDegree(c, mask);
      const double add = o.method == ConnectMethod::kAdamicAdar ? (deg_c > 1 ? 1.0 / std::log(deg_c) : 0.0) : 1.0;
      for (EdgeIndex e = g.row_begin(c); e < g.row_end(c); ++e) {
        const uint32_t z = g.target(e);
        if (!(g.mask(e) & mask) || blocked(z)) continue;
        if (acc[z] == 0) seen.push_back(z);
        acc[z] += add;
      }
    }
    for (uint32_t z : seen) {
      if (acc[z] > 0) graph_scores.emplace_back(z, acc[z]);
    }
  }

  // About: voting scores for the about text.
  std::vector<double> about;
  double max_about = 0;
  if (!about_hits.empty()) {
    about.assign(P, 0.0);
    AskOptions ao = o.about;
    ao.group_mask = mask;
    // Normalise over people who can be suggested: the asker's contacts often
    // know the subject best and would otherwise squash everyone else.
    for (const auto& [p, v] : VoteScores(s, about_hits, ao)) {
      if (blocked(p)) continue;
      about[p] = v;
      max_about = std::max(max_about, v);
    }
  }
  double max_graph = 0;
  for (const auto& [p, v] : graph_scores) max_graph = std::max(max_graph, v);
  std::vector<int32_t> learned_row(learned_x.empty() ? 0 : P, -1);
  for (size_t i = 0; i < learned_x.size(); ++i) learned_row[graph_scores[i].first] = static_cast<int32_t>(i);

  struct Scored {
    uint32_t p;
    double score, graph, about;
  };
  std::vector<Scored> scored;
  const bool focused = !about_hits.empty();
  for (const auto& [p, v] : graph_scores) {
    // With an about text, only people who know about it are suggested.
    if (focused && about[p] <= 0) continue;
    const double ga = max_graph > 0 ? v / max_graph : 0;
    const double ab = max_about > 0 ? about[p] / max_about : 0;  // max_about > 0 only when focused
    scored.push_back({p, o.w_graph * ga + (max_about > 0 ? o.w_about * ab : 0), ga, ab});
  }
  if (max_about > 0) {
    std::vector<double> graph_dense(P, 0.0);
    for (const auto& [p, v] : graph_scores) graph_dense[p] = v;
    for (uint32_t p = 0; p < P; ++p) {
      if (about[p] > 0 && graph_dense[p] == 0 && !blocked(p)) {
        scored.push_back({p, o.w_about * about[p] / max_about, 0, about[p] / max_about});
      }
    }
  }
  auto better = [&](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && s.person(a.p).id < s.person(b.p).id);
  };
  const size_t want = std::min(scored.size(), o.k);
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(want), scored.end(), better);
  scored.resize(want);

  const auto my_topics = VisibleTopics(s, me, mask);
  const auto my_communities = VisibleCommunities(s, me, mask);
  std::vector<Connection> out;
  for (const Scored& x : scored) {
    if (x.score <= 0) continue;
    Connection c;
    c.person = x.p;
    c.id = s.person(x.p).id;
    c.name = s.person(x.p).name;
    c.score = x.score;
    c.components = {{graph_name, x.graph}, {"about", x.about}};
    if (!learned_row.empty() && learned_row[x.p] >= 0) {  // the model's inputs, so each suggestion shows why
      const auto& f = learned_x[static_cast<size_t>(learned_row[x.p])];
      for (size_t i = 0; i < kNumConnectFeatures; ++i) c.components.emplace_back(ConnectFeatureNames()[i], f[i]);
    }
    int mutual = 0;  // opted-out people are not named or counted
    ForCommon(s, me, x.p, mask, [&](uint32_t z) {
      if (s.person(z).opted_out) return;
      ++mutual;
      if (c.mutual_contacts.size() < o.max_reasons) c.mutual_contacts.push_back(s.person(z).name);
    });
    // Shared topics, strongest first: the smaller of the two person-topic strengths.
    const auto their = VisibleTopics(s, x.p, mask);
    std::vector<std::pair<uint32_t, double>> shared;
    for (size_t i = 0, j = 0; i < my_topics.size() && j < their.size();) {
      if (my_topics[i].first < their[j].first) {
        ++i;
      } else if (their[j].first < my_topics[i].first) {
        ++j;
      } else {
        shared.emplace_back(my_topics[i].first, std::min(my_topics[i].second, their[j].second));
        ++i;
        ++j;
      }
    }
    std::sort(shared.begin(), shared.end(), [&](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && s.topic_name(a.first) < s.topic_name(b.first));
    });
    for (size_t i = 0; i < shared.size() && i < o.max_reasons; ++i) c.shared_topics.push_back(s.topic_name(shared[i].first));
    for (uint32_t com : VisibleCommunities(s, x.p, mask)) {
      if (c.communities_bridged.size() >= o.max_reasons) break;
      if (!std::binary_search(my_communities.begin(), my_communities.end(), com)) {
        c.communities_bridged.push_back(s.community_name(com));
      }
    }
    std::vector<std::string> parts;
    if (mutual > 0) {
      parts.push_back(absl::StrFormat("%d mutual contact%s (%s)", mutual, mutual == 1 ? "" : "s",
                                      absl::StrJoin(c.mutual_contacts, ", ")));
    }
    if (!c.shared_topics.empty()) parts.push_back("shared topics: " + absl::StrJoin(c.shared_topics, ", "));
    if (!c.communities_bridged.empty()) parts.push_back("bridges: " + absl::StrJoin(c.communities_bridged, ", "));
    if (x.about > 0) parts.push_back("knows about the requested subject");
    if (parts.empty()) parts.push_back("close in the discussion graph");
    c.reason = absl::StrJoin(parts, "; ");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace whoknows::engine
