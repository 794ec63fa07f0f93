#ifndef WHOKNOWS_NETWORK_NETWORK_H_
#define WHOKNOWS_NETWORK_NETWORK_H_

// The talent network: organisation-level views over an engine snapshot for
// HR and engineering planning. Plain structs in, results out; no gRPC and no
// Xapian types, so the CLI, the gRPC service and the HTTP front end share it.
//
// Everything is computed from one *view* of the corpus: the documents the
// caller may see (NetworkOptions::group_mask), inside the time window, of the
// optional source community and topics, whose author is known and has not
// opted out. Opted-out people therefore never appear (not even as anonymous
// nodes or counts), and every node and edge is justified by a visible doc.
//
// Definitions (README "Talent network"):
// - contribution weight of a doc: answer 1 (+1 accepted), question 0.5,
//   comment 0.25, post/mail/chat 1.
// - strength(p, t) = p's contribution weight in topic t / the topic's total,
//   in the view (0..1).
// - expert of t: strength >= min_strength and >= min_expert_docs docs in t.
//   Active: a doc in the view within the last `left_after_months` months
//   before the window's end (open window: the newest doc of the person's own
//   communities, so an archive is not "left" next to a live list); otherwise
//   the expert "left".
// - bus factor of t (truck factor, Avelino et al., ICPC 2016, adapted): the
//   knowledge units are t's threads with an answer/reply in the last
//   `recent_months` before the end of the window (the newest doc of the
//   thread's community when the window is open; mail/chat/post threads count
//   from their first doc); a unit's holders are
//   the active authors of its answers/replies (of every doc for mail, chat and
//   posts). The bus factor is the smallest number of active people whose
//   departure leaves more than `orphan_fraction` of the units without a
//   holder. Greedy (remove the person holding the most non-orphaned units),
//   then proven minimal by exhaustive search when the topic has <= 64
//   holders and the search is small (`bus_factor_exact`). 0 means the topic
//   has already lost most of its holders.
// - contacts: a doc's author and the author of its parent (reply-to), or of
//   its thread's root when it has no parent; weight = number of such docs.
//   The reply graph is the same, directed from the replier.
// - communities: Louvain (igraph multilevel) refined by Leiden (modularity,
//   weighted), best modularity of both; communities smaller than
//   min_group_size are suppressed (members get community -1).
// - brokers: betweenness (unweighted, normalised as networkx does). Exact
//   with Boost.Graph's brandes_betweenness_centrality up to
//   betweenness_exact_limit people; above, Brandes from k random pivots with
//   the Hoeffding bound |error| <= sqrt(ln(2n/delta) / (2k)) for every person
//   at once with probability 1 - delta.
// - influencers: PageRank (damping 0.85) on the weighted reply graph.
//
// Thread-safe: functions keep no shared state except igraph's RNG, which is
// guarded internally.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::network {

// Progress of long runs: (stage, fraction done in [0, 1]).
using ProgressFn = std::function<void(std::string_view stage, double done)>;

struct NetworkOptions {
  engine::GroupBits group_mask = engine::kAllGroups;  // what the caller may see
  int64_t from = 0, to = 0;        // window, epoch seconds inclusive; 0 = open
  std::string community;           // source community ("" = all)
  std::vector<std::string> topics; // only docs with one of these topics ("" = all)
  int left_after_months = 6;       // no activity this long before the end = left
  int recent_months = 24;          // bus factor: units of the last 24 months before the end
  double min_strength = 0.05;      // expert threshold on strength
  uint32_t min_expert_docs = 2;
  double orphan_fraction = 0.5;    // bus factor: share of units left without holder
  uint32_t min_topic_units = 1;    // topics with fewer units get no risk flag
  uint32_t at_risk_max = 2;        // bus factor <= this = at risk
  size_t min_group_size = 3;       // smaller communities are suppressed
  size_t top_k = 20;               // brokers, influencers, members/topics per community
  size_t max_topics = 0;           // coverage: most documented topics first; 0 = all
  uint32_t betweenness_exact_limit = 20000;
  uint32_t betweenness_samples = 1000;  // pivots above the exact limit
  double betweenness_delta = 0.1;
  uint64_t seed = 1;
  bool include_graph = false;      // fill NetworkReport::nodes / edges (exports)
  int threads = 2;                 // sampled betweenness
  ProgressFn progress;             // optional
};

struct ExpertEntry {
  std::string person_id;
  std::string name;
  double strength = 0;
  uint32_t docs = 0;
  int64_t last_active = 0;
};

struct QuarterCount {
  std::string quarter;  // "2016Q3"
  uint32_t docs = 0;
  uint32_t people = 0;  // distinct authors
};

struct TopicCoverage {
  std::string topic;
  uint32_t docs = 0;
  uint32_t units = 0;         // knowledge units (threads) for the bus factor
  uint32_t contributors = 0;  // distinct authors
  std::vector<ExpertEntry> experts;  // active, strongest first
  std::vector<ExpertEntry> left;     // experts with no activity in the last N months
  std::vector<QuarterCount> trend;   // every quarter of the window, oldest first
  uint32_t bus_factor = 0;
  bool bus_factor_exact = false;
  std::vector<std::string> bus_factor_people;  // names of the departure set
  bool at_risk = false;
};

struct CoverageReport {
  int64_t from = 0, to = 0;  // the effective window
  uint64_t docs = 0, persons = 0;
  std::vector<TopicCoverage> topics;  // most documents first
  std::vector<std::string> at_risk;   // topics with bus factor <= at_risk_max, weakest first
  NetworkOptions options;             // as used (progress cleared)
};

struct CommunityMember {
  std::string person_id;
  std::string name;
  double strength = 0;  // weighted contacts inside the community
};

struct Community {
  int id = 0;  // 0.., largest first
  uint32_t size = 0;
  std::vector<CommunityMember> members;  // top_k by internal contacts
  std::vector<std::pair<std::string, uint32_t>> top_topics;  // (topic, docs)
  std::vector<std::pair<int, double>> links;  // (other community, contact weight), heaviest first
};

struct PersonScore {
  std::string person_id;
  std::string name;
  double score = 0;  // betweenness or PageRank
  int community = -1;
  std::vector<int> communities_bridged;  // communities of its contacts (brokers)
  uint32_t replies_received = 0;         // influencers
};

struct Node {
  std::string id;     // person id or "topic:<name>"
  std::string kind;   // "person" | "topic"
  std::string label;  // name or topic
  int community = -1;
  double strength = 0;  // person: weighted contacts; topic: docs
  uint32_t docs = 0;
  int64_t last_active = 0;
  double betweenness = 0, pagerank = 0;
};

struct Edge {
  uint32_t source = 0, target = 0;  // indices into nodes
  std::string kind;                  // "contact" | "expertise"
  double weight = 0;                 // contacts: interactions; expertise: strength
};

struct NetworkReport {
  int64_t from = 0, to = 0;
  uint64_t docs = 0, persons = 0, contact_edges = 0, reply_edges = 0;
  double modularity = 0;
  std::string community_method;  // "louvain" or "louvain+leiden"
  uint32_t communities_total = 0, suppressed_communities = 0, suppressed_people = 0;
  std::vector<Community> communities;
  bool betweenness_exact = true;
  uint32_t betweenness_pivots = 0;
  double betweenness_error = 0;  // additive bound on normalised betweenness (0 = exact)
  std::vector<PersonScore> brokers;
  std::vector<PersonScore> influencers;
  std::vector<Node> nodes;  // with include_graph
  std::vector<Edge> edges;
  NetworkOptions options;
};

// InvalidArgument for an empty or inverted window or bad thresholds.
absl::StatusOr<CoverageReport> ComputeCoverage(const engine::Snapshot& snapshot, const NetworkOptions& options);
absl::StatusOr<NetworkReport> ComputeNetwork(const engine::Snapshot& snapshot, const NetworkOptions& options);

// --- lower-level pieces (tests and benchmarks)

// Undirected weighted graph on 0..n-1, each edge once (u < v).
struct SimpleGraph {
  uint32_t n = 0;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  std::vector<double> weights;
};
// Normalised betweenness (networkx scale); exact with Boost.Graph.
std::vector<double> ExactBetweenness(const SimpleGraph& g);
// Pivot-sampled estimate; *error_bound receives the Hoeffding bound.
std::vector<double> SampledBetweenness(const SimpleGraph& g, uint32_t pivots, double delta, uint64_t seed,
                                       int threads, double* error_bound);
// Community membership (0..c-1, largest first) and its modularity.
struct Partition {
  std::vector<int> membership;
  double modularity = 0;
  std::string method;
};
absl::StatusOr<Partition> DetectCommunities(const SimpleGraph& g, uint64_t seed);
// Truck factor over units given as their holder lists (holder ids 0..h-1).
struct BusFactor {
  uint32_t value = 0;
  bool exact = false;
  std::vector<uint32_t> people;  // the departure set, in removal order
};
BusFactor TruckFactor(const std::vector<std::vector<uint32_t>>& unit_holders, uint32_t num_holders,
                      double orphan_fraction);

// --- exports (pure functions of a report)
// GraphML via boost::write_graphml (person and topic nodes, contact and expertise edges).
std::string ToGraphML(const NetworkReport& report);
// GEXF 1.2 with the same nodes, edges and attributes.
std::string ToGexf(const NetworkReport& report);
// SVG: the community map (communities as discs, contact links between them).
std::string CommunityMapSvg(const NetworkReport& report);
// SVG: topic coverage over time (active contributors per quarter, top topics).
std::string CoverageSvg(const CoverageReport& report, size_t max_topics = 8);

}  // namespace whoknows::network

#endif  // WHOKNOWS_NETWORK_NETWORK_H_
