#include "whoknows/engine/ppr.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "../../bench/ppr_reference.h"  // main's ForwardPush before branch ppr5
#include "whoknows/base/testing.h"
#include "whoknows/engine/generate.h"
#include "whoknows/engine/graph.h"

namespace whoknows::engine {
namespace {

// A connected random weighted undirected graph on n <= 20 vertices.
std::vector<WeightedEdge> SmallGraph(VertexId n, int extra, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> w(0.1f, 3.0f);
  std::vector<WeightedEdge> edges;
  for (VertexId v = 1; v < n; ++v) edges.push_back({static_cast<VertexId>(rng() % v), v, w(rng)});  // a tree
  for (int i = 0; i < extra; ++i) {
    const VertexId a = rng() % n, b = rng() % n;
    if (a != b) edges.push_back({a, b, w(rng)});
  }
  return edges;
}

TEST(GraphTest, BuildsCsrWithWeightsAndMasks) {
  const std::vector<WeightedEdge> edges = {{0, 1, 2.0f, 1u}, {1, 2, 0.5f, 2u}, {0, 2, 1.0f, 1u}};
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(4, edges));
  EXPECT_EQ(g.num_vertices(), 4u);
  EXPECT_EQ(g.num_edges(), 6u);
  EXPECT_FLOAT_EQ(g.out_weight(0), 3.0f);
  EXPECT_FLOAT_EQ(g.out_weight(2), 1.5f);
  EXPECT_FLOAT_EQ(g.out_weight(3), 0.0f);
  EXPECT_FLOAT_EQ(g.VisibleOutWeight(2, 1u), 1.0f);
  EXPECT_FLOAT_EQ(g.VisibleOutWeight(2, 2u), 0.5f);
  EXPECT_EQ(g.VisibleOutDegree(1, 2u), 1u);
  EXPECT_EQ(g.all_masks(), 3u);
  EXPECT_TRUE(g.CoversAll(kAllGroups));
  EXPECT_FALSE(g.CoversAll(1u));
  EXPECT_GT(g.bytes(), 0u);
}

// Rows keep the input order (reverse edges right after their forward edge),
// and each edge keeps its own weight and mask, both below and past 256
// distinct masks (one byte per edge into a palette, then 32 bits per edge).
TEST(GraphTest, KeepsRowOrderWeightsAndMasksAtAnyNumberOfDistinctMasks) {
  for (const uint32_t distinct : {3u, 256u, 257u, 600u}) {
    std::mt19937_64 rng(distinct);
    const VertexId n = 40;
    std::vector<WeightedEdge> edges;
    for (uint32_t i = 0; i < 2000; ++i) {
      const VertexId a = rng() % n, b = rng() % n;
      const GroupBits mask = i < distinct ? 0x10000u + i : 0x10000u + static_cast<GroupBits>(rng() % distinct);
      edges.push_back({a, b, static_cast<float>(rng() % 1000) / 7.0f, mask});
    }
    ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(n, edges));
    std::vector<std::vector<WeightedEdge>> rows(n);
    for (const WeightedEdge& e : edges) {
      rows[e.from].push_back(e);
      rows[e.to].push_back({e.to, e.from, e.weight, e.mask});
    }
    GroupBits all = 0;
    for (VertexId v = 0; v < n; ++v) {
      ASSERT_EQ(g.row_end(v) - g.row_begin(v), rows[v].size()) << v;
      double sum = 0, visible = 0;
      for (EdgeIndex e = g.row_begin(v), i = 0; e < g.row_end(v); ++e, ++i) {
        EXPECT_EQ(g.target(e), rows[v][i].to);
        EXPECT_EQ(g.weight(e), rows[v][i].weight);
        EXPECT_EQ(g.weights()[e], rows[v][i].weight);
        EXPECT_EQ(g.mask(e), rows[v][i].mask);
        sum += rows[v][i].weight;
        if (rows[v][i].mask & 0x10005u) visible += rows[v][i].weight;
        all |= rows[v][i].mask;
      }
      EXPECT_FLOAT_EQ(g.out_weight(v), static_cast<float>(sum));
      EXPECT_FLOAT_EQ(g.VisibleOutWeight(v, 0x10005u), static_cast<float>(visible));
    }
    EXPECT_EQ(g.all_masks(), all);
    // 9 bytes per edge + 8 per vertex (+ the palette) up to 256 masks; 13 per edge past that.
    const size_t per_edge = distinct <= 256 ? 9 : 13;
    EXPECT_LE(g.bytes(), per_edge * g.num_edges() + 8 * (n + 1) + 4 * 256) << distinct;
    EXPECT_GE(g.bytes(), per_edge * g.num_edges()) << distinct;
  }
}

TEST(GraphTest, RejectsBadInput) {
  const std::vector<WeightedEdge> out_of_range = {{0, 5, 1.0f}};
  EXPECT_EQ(Graph::FromEdges(3, out_of_range).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<WeightedEdge> negative = {{0, 1, -1.0f}};
  EXPECT_EQ(Graph::FromEdges(3, negative).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<WeightedEdge> nan = {{0, 1, std::nanf("")}};
  EXPECT_EQ(Graph::FromEdges(3, nan).status().code(), absl::StatusCode::kInvalidArgument);
  Graph empty;
  EXPECT_EQ(empty.num_vertices(), 0u);
  EXPECT_EQ(empty.num_edges(), 0u);
}

TEST(PprTest, RejectsBadSeeds) {
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(3, SmallGraph(3, 0, 1)));
  PprWorkspace ws;
  EXPECT_EQ(ForwardPush(g, {}, {}, &ws).code(), absl::StatusCode::kInvalidArgument);
  const Seed bad{7, 1.0};
  EXPECT_EQ(ForwardPush(g, std::span<const Seed>(&bad, 1), {}, &ws).code(), absl::StatusCode::kInvalidArgument);
  const Seed zero{0, 0.0};
  EXPECT_EQ(ForwardPush(g, std::span<const Seed>(&zero, 1), {}, &ws).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PowerIteration(g, std::span<const Seed>(&bad, 1), {}).ok());
}

// The forward-push guarantee on an undirected graph without dangling
// vertices: 0 <= pi(v) - p_hat(v) <= r_max * d(v) for every v (ACL 2006,
// via the symmetry d(u) pi_u(v) = d(v) pi_v(u)). We allow 1e-6 relative slack
// for float accumulation.
TEST(PprTest, ForwardPushWithinProvenBoundOfPowerIteration) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const VertexId n = 5 + seed % 16;  // 5..20 vertices
    ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(n, SmallGraph(n, static_cast<int>(n), seed)));
    const std::vector<Seed> seeds = {{static_cast<VertexId>(seed % n), 1.0}, {static_cast<VertexId>((seed * 7) % n), 0.5}};
    for (double r_max : {1e-3, 1e-4, 1e-6}) {
      PprWorkspace ws;
      PprOptions opt;
      opt.r_max = r_max;
      ASSERT_OK(ForwardPush(g, seeds, opt, &ws));
      ASSERT_OK_AND_ASSIGN(std::vector<double> exact, PowerIteration(g, seeds, {}));
      double sum = 0;
      for (VertexId v = 0; v < n; ++v) {
        const double err = exact[v] - ws.score(v);
        EXPECT_GE(err, -1e-6) << "seed " << seed << " v " << v;
        EXPECT_LE(err, r_max * g.out_weight(v) + 1e-6) << "seed " << seed << " v " << v << " r_max " << r_max;
        sum += exact[v];
      }
      EXPECT_NEAR(sum, 1.0, 1e-9);
    }
  }
}

TEST(PprTest, WorkspaceResetsBetweenQueries) {
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(20, SmallGraph(20, 20, 3)));
  PprWorkspace ws;
  const Seed a{0, 1.0}, b{19, 1.0};
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&a, 1), {}, &ws));
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&b, 1), {}, &ws));
  PprWorkspace fresh;
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&b, 1), {}, &fresh));
  for (VertexId v = 0; v < 20; ++v) EXPECT_FLOAT_EQ(ws.score(v), fresh.score(v));
  // Untouched vertices are exactly zero and outside `touched`.
  std::set<VertexId> touched(ws.touched.begin(), ws.touched.end());
  for (VertexId v = 0; v < 20; ++v) {
    if (!touched.count(v)) {
      EXPECT_EQ(ws.score(v), 0.0f);
    }
  }
}

TEST(PprTest, MaskedEdgesAreNeverTraversed) {
  // 0 -1- 1 -2- 2 : vertex 2 is reachable only through a group-2 edge.
  const std::vector<WeightedEdge> edges = {{0, 1, 1.0f, 1u}, {1, 2, 1.0f, 2u}, {0, 3, 1.0f, 1u}};
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(4, edges));
  PprWorkspace ws;
  PprOptions opt;
  opt.group_mask = 1u;
  const Seed s{0, 1.0};
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&s, 1), opt, &ws));
  EXPECT_EQ(ws.score(2), 0.0f);
  EXPECT_GT(ws.score(1), 0.0f);
  PowerIterationOptions popt;
  popt.group_mask = 1u;
  ASSERT_OK_AND_ASSIGN(std::vector<double> exact, PowerIteration(g, std::span<const Seed>(&s, 1), popt));
  EXPECT_EQ(exact[2], 0.0);
  for (VertexId v = 0; v < 4; ++v) EXPECT_NEAR(exact[v], ws.score(v), 1e-5);
  opt.group_mask = kAllGroups;
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&s, 1), opt, &ws));
  EXPECT_GT(ws.score(2), 0.0f);
}

TEST(PprTest, TimeFilterSkipsVerticesOutsideTheWindow) {
  const std::vector<WeightedEdge> edges = {{0, 1, 1.0f}, {1, 2, 1.0f}};
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(3, edges));
  const std::vector<int64_t> times = {kTimeless, 100, 200};
  PprWorkspace ws;
  PprOptions opt;
  opt.vertex_time = times.data();
  opt.time_to = 150;
  const Seed s{0, 1.0};
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&s, 1), opt, &ws));
  EXPECT_GT(ws.score(1), 0.0f);
  EXPECT_EQ(ws.score(2), 0.0f);
}

TEST(PprTest, DanglingMassReturnsToSeeds) {
  // 0 - 1, 2 isolated seed: dangling mass goes back to the seeds.
  const std::vector<WeightedEdge> edges = {{0, 1, 1.0f}};
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(3, edges));
  const std::vector<Seed> seeds = {{0, 1.0}, {2, 1.0}};
  PprWorkspace ws;
  ASSERT_OK(ForwardPush(g, seeds, {.r_max = 1e-9}, &ws));
  ASSERT_OK_AND_ASSIGN(std::vector<double> exact, PowerIteration(g, seeds, {}));
  double sum = 0;
  for (VertexId v = 0; v < 3; ++v) {
    EXPECT_NEAR(exact[v], ws.score(v), 1e-5) << v;
    sum += ws.score(v);
  }
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(PprTest, TopKUsesFixedHeapAndOrdersBestFirst) {
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(20, SmallGraph(20, 30, 9)));
  PprWorkspace ws;
  const Seed s{4, 1.0};
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&s, 1), {}, &ws));
  const auto top = TopK(&ws, 5);
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0].first, 4u);  // the seed keeps at least alpha
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].second, top[i].second);
  // Same as sorting all scores.
  std::vector<double> dense(20);
  for (VertexId v = 0; v < 20; ++v) dense[v] = ws.score(v);
  const auto ref = TopK(std::span<const double>(dense), 5);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(top[i].first, ref[i].first);
  const auto ranged = TopK(&ws, 3, 10, 20);
  for (const auto& [v, x] : ranged) EXPECT_GE(v, 10u);
}

// Top-20 agreement with python3-igraph's personalized_pagerank on a ~2k-node
// power-law graph.
TEST(PprTest, AgreesWithIgraphOnPowerLawGraph) {
  if (std::system("/usr/bin/python3 -c 'import igraph' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 lacks igraph";
  }
  PowerLawOptions gen;
  gen.num_vertices = 2000;
  gen.num_edges = 8000;
  gen.seed = 42;
  const std::vector<WeightedEdge> edges = PowerLawEdges(gen);
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(gen.num_vertices, edges));
  char dir[] = "/tmp/wk_ppr_igraphXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string edge_file = std::string(dir) + "/edges.txt";
  const std::string out_file = std::string(dir) + "/scores.txt";
  {
    std::ofstream f(edge_file);
    f.precision(9);
    for (const WeightedEdge& e : edges) f << e.from << ' ' << e.to << ' ' << e.weight << '\n';
  }
  for (VertexId seed_vertex : {0u, 777u, 1999u}) {
    const std::string script =
        "import igraph,sys\n"
        "es=[];ws=[]\n"
        "for line in open(sys.argv[1]):\n"
        "  a,b,w=line.split(); es.append((int(a),int(b))); ws.append(float(w))\n"
        "g=igraph.Graph(n=int(sys.argv[2]),edges=es,directed=False)\n"
        "p=g.personalized_pagerank(directed=False,damping=0.85,reset_vertices=[int(sys.argv[3])],weights=ws)\n"
        "open(sys.argv[4],'w').write('\\n'.join(repr(x) for x in p))\n";
    const std::string script_file = std::string(dir) + "/ppr.py";
    {
      std::ofstream f(script_file);
      f << script;
    }
    const std::string cmd = "/usr/bin/python3 " + script_file + " " + edge_file + " 2000 " +
                            std::to_string(seed_vertex) + " " + out_file;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::vector<double> ref;
    {
      std::ifstream f(out_file);
      double x;
      while (f >> x) ref.push_back(x);
    }
    ASSERT_EQ(ref.size(), 2000u);
    PprWorkspace ws;
    const Seed s{seed_vertex, 1.0};
    ASSERT_OK(ForwardPush(g, std::span<const Seed>(&s, 1), {.alpha = 0.15, .r_max = 1e-7}, &ws));
    const auto ours = TopK(&ws, 20);
    const auto theirs = TopK(std::span<const double>(ref), 20);
    std::set<VertexId> a, b;
    for (const auto& [v, x] : ours) a.insert(v);
    for (const auto& [v, x] : theirs) b.insert(v);
    int common = 0;
    for (VertexId v : a) common += b.count(v);
    EXPECT_GE(common, 19) << "seed vertex " << seed_vertex;
    // And the values themselves are close (error <= r_max * degree).
    for (const auto& [v, x] : theirs) EXPECT_NEAR(ws.score(v), x, 1e-7 * g.out_weight(v) + 1e-6);
  }
  const int rc = std::system((std::string("rm -rf ") + dir).c_str());
  EXPECT_EQ(rc, 0);
}

TEST(GenerateTest, PowerLawGraphIsDeterministicAndSkewed) {
  PowerLawOptions gen;
  gen.num_vertices = 5000;
  gen.num_edges = 40000;
  const auto a = PowerLawEdges(gen);
  const auto b = PowerLawEdges(gen);
  ASSERT_EQ(a.size(), 40000u);
  for (size_t i = 0; i < a.size(); i += 997) EXPECT_EQ(a[i].from, b[i].from);
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(gen.num_vertices, a));
  uint32_t max_deg = 0;
  for (VertexId v = 0; v < g.num_vertices(); ++v) {
    max_deg = std::max(max_deg, g.row_end(v) - g.row_begin(v));
    EXPECT_GE(g.row_end(v) - g.row_begin(v), 2u);  // the ring
  }
  EXPECT_GT(max_deg, 20u * 16u);  // hubs far above the mean degree 16
}

// The push with prefetching and stamped cells (branch ppr5) does the same float
// operations in the same order as main's (bench/ppr_reference.h): the same
// pushes, the same vertices touched in the same order, the same scores and
// degrees bit for bit; with every edge visible, under a group mask, with a
// time window, with dangling vertices, and with one workspace reused across
// calls and across two graphs of the same size (stale cells must read as 0).
TEST(PprTest, BitIdenticalToTheReferencePush) {
  const VertexId n = 3000;
  std::vector<Graph> graphs;
  std::vector<int64_t> vtime(n);
  std::mt19937_64 rng(7);
  for (int64_t& t : vtime) t = rng() % 5 == 0 ? kTimeless : static_cast<int64_t>(rng() % 1000);
  for (uint64_t seed : {11u, 12u}) {
    PowerLawOptions gen;
    gen.num_vertices = n;
    gen.num_edges = 20000;
    gen.seed = seed;
    gen.ring = seed == 11;  // the second graph has dangling vertices
    std::vector<WeightedEdge> edges = PowerLawEdges(gen);
    for (WeightedEdge& e : edges) e.mask = 1u << (rng() % 3);
    ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(n, edges));
    graphs.push_back(std::move(g));
  }
  PprWorkspace ws;
  reference::Workspace ref;
  int calls = 0, masked = 0;
  for (int round = 0; round < 24; ++round) {
    const Graph& g = graphs[round % 2];
    std::vector<Seed> seeds;
    for (int k = 0; k < 1 + round % 5; ++k) seeds.push_back({static_cast<VertexId>(rng() % n), 0.1 + (rng() % 10)});
    PprOptions o;
    o.alpha = round % 3 == 0 ? 0.15 : 0.4;
    o.r_max = round % 4 == 0 ? 1e-6 : 1e-5;
    if (round % 3 == 1) o.group_mask = 1u | 4u;
    if (round % 6 == 2) {
      o.vertex_time = vtime.data();
      o.time_from = 100;
      o.time_to = 900;
    }
    if (round == 23) o.max_pushes = 50;
    ASSERT_OK(ForwardPush(g, seeds, o, &ws));
    reference::ForwardPush(g, seeds, o, &ref);
    ++calls;
    masked += o.group_mask != kAllGroups || o.vertex_time != nullptr;
    ASSERT_GT(ref.pushes, 0u);
    EXPECT_EQ(ws.pushes, ref.pushes) << round;
    EXPECT_EQ(ws.truncated, ref.truncated) << round;
    ASSERT_EQ(ws.touched, ref.touched) << round;
    for (VertexId v = 0; v < n; ++v) {
      const float a = ws.score(v), b = ref.reserve[v];
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "round " << round << " vertex " << v << ": " << a << " vs " << b;
    }
    for (VertexId v : ref.touched) ASSERT_EQ(ws.degree(v), ref.cells[v].degree) << round;
  }
  EXPECT_EQ(calls, 24);
  EXPECT_GT(masked, 4);
}

// A workspace whose generation counter wraps clears its stamps once and keeps
// giving fresh answers.
TEST(PprTest, WorkspaceGenerationWrapKeepsAnswersFresh) {
  ASSERT_OK_AND_ASSIGN(Graph g, Graph::FromUndirectedEdges(20, SmallGraph(20, 20, 5)));
  const Seed a{0, 1.0}, b{19, 1.0};
  PprWorkspace fresh;
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&b, 1), {}, &fresh));
  PprWorkspace ws;
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&a, 1), {}, &ws));
  ws.generation = 0xffffffffu;  // the next call wraps to 0
  for (PprWorkspace::Cell& c : ws.cells) {
    if (c.stamp != 0) c.stamp = 1;  // a stale stamp the post-wrap generation would reuse
  }
  ASSERT_OK(ForwardPush(g, std::span<const Seed>(&b, 1), {}, &ws));
  EXPECT_EQ(ws.generation, 1u);
  for (VertexId v = 0; v < 20; ++v) EXPECT_EQ(ws.score(v), fresh.score(v)) << v;
  EXPECT_EQ(ws.touched, fresh.touched);
}

}  // namespace
}  // namespace whoknows::engine
