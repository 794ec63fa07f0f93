// Top-20 personalized PageRank on a generated power-law graph:
//   BM_Ppr/baseline   exact power iteration (L1 tolerance 1e-9)
//   BM_Ppr/candidate  forward push (r_max 1e-7 or WK_BENCH_RMAX, float workspace reused)
//   BM_Ppr/reference  the same push as on main 15521df, before branch ppr5 (bench/ppr_reference.h)
//   BM_Ppr/igraph     igraph 0.10 PRPACK (when built with WK_HAVE_IGRAPH)
// The argument is the number of undirected edges (default sizes 1M and 10M;
// WK_BENCH_EDGES=<n> replaces the larger one). Counter `top20` is the overlap
// with the exact top-20 (averaged over the seeds used).
// Run: ppr_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//      --benchmark_format=json ; report the median candidate/baseline ratio.

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "benchmark/benchmark.h"
#include "whoknows/engine/generate.h"
#include "whoknows/engine/graph.h"
#include "whoknows/engine/ppr.h"
#include "ppr_reference.h"

#ifdef WK_HAVE_IGRAPH
#include "igraph.h"
#endif

namespace whoknows::engine {
namespace {

constexpr int kSeeds = 4;
constexpr size_t kTop = 20;

struct Fixture {
  std::vector<WeightedEdge> edges;
  Graph graph;
  std::vector<VertexId> seeds;
  std::vector<std::set<VertexId>> exact_top;  // per seed
};

const Fixture& GetFixture(int64_t num_edges) {
  static std::map<int64_t, std::unique_ptr<Fixture>> cache;
  auto& slot = cache[num_edges];
  if (slot) return *slot;
  slot = std::make_unique<Fixture>();
  PowerLawOptions gen;
  gen.num_edges = static_cast<uint64_t>(num_edges);
  gen.num_vertices = static_cast<VertexId>(std::max<int64_t>(1000, num_edges / 10));
  gen.seed = 2024;
  slot->edges = PowerLawEdges(gen);
  absl::StatusOr<Graph> g = Graph::FromUndirectedEdges(gen.num_vertices, slot->edges);
  if (!g.ok()) std::abort();
  slot->graph = *std::move(g);
  for (int i = 0; i < kSeeds; ++i) {
    const VertexId s = static_cast<VertexId>((static_cast<uint64_t>(i) * 2654435761u) % gen.num_vertices);
    slot->seeds.push_back(s);
    const Seed seed{s, 1.0};
    absl::StatusOr<std::vector<double>> exact =
        PowerIteration(slot->graph, std::span<const Seed>(&seed, 1), {.tolerance = 1e-12});
    if (!exact.ok()) std::abort();
    std::set<VertexId> top;
    for (const auto& [v, x] : TopK(std::span<const double>(*exact), kTop)) top.insert(v);
    slot->exact_top.push_back(std::move(top));
  }
  return *slot;
}

int Overlap(const std::set<VertexId>& a, const std::vector<std::pair<VertexId, double>>& b) {
  int n = 0;
  for (const auto& [v, x] : b) n += a.count(v) > 0;
  return n;
}

void BM_Ppr_Baseline(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  double agree = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const int k = static_cast<int>(i++ % kSeeds);
    const Seed seed{f.seeds[k], 1.0};
    absl::StatusOr<std::vector<double>> p = PowerIteration(f.graph, std::span<const Seed>(&seed, 1), {.tolerance = 1e-9});
    if (!p.ok()) state.SkipWithError("power iteration failed");
    const auto top = TopK(std::span<const double>(*p), kTop);
    agree += Overlap(f.exact_top[k], top);
    benchmark::DoNotOptimize(top.data());
  }
  state.counters["top20"] = agree / static_cast<double>(std::max<int64_t>(1, i));
  state.counters["edges"] = static_cast<double>(f.graph.num_edges());
  state.SetItemsProcessed(state.iterations());
}

double CandidateRMax() {
  if (const char* env = std::getenv("WK_BENCH_RMAX")) return std::atof(env);
  return 1e-7;
}

void BM_Ppr_Candidate(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const double r_max = CandidateRMax();
  PprWorkspace ws;
  ws.Prepare(f.graph.num_vertices());
  double agree = 0, touched = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const int k = static_cast<int>(i++ % kSeeds);
    const Seed seed{f.seeds[k], 1.0};
    if (!ForwardPush(f.graph, std::span<const Seed>(&seed, 1), {.alpha = 0.15, .r_max = r_max}, &ws).ok()) {
      state.SkipWithError("forward push failed");
    }
    const auto top = TopK(&ws, kTop);
    agree += Overlap(f.exact_top[k], top);
    touched += static_cast<double>(ws.touched.size());
    benchmark::DoNotOptimize(top.data());
  }
  const double n = static_cast<double>(std::max<int64_t>(1, i));
  state.counters["top20"] = agree / n;
  state.counters["touched"] = touched / n;
  state.counters["edges"] = static_cast<double>(f.graph.num_edges());
  state.SetItemsProcessed(state.iterations());
}

void BM_Ppr_Reference(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const double r_max = CandidateRMax();
  reference::Workspace ws;
  double touched = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const int k = static_cast<int>(i++ % kSeeds);
    const Seed seed{f.seeds[k], 1.0};
    reference::ForwardPush(f.graph, std::span<const Seed>(&seed, 1), {.alpha = 0.15, .r_max = r_max}, &ws);
    touched += static_cast<double>(ws.touched.size());
    benchmark::DoNotOptimize(ws.reserve.data());
  }
  state.counters["touched"] = touched / static_cast<double>(std::max<int64_t>(1, i));
  state.counters["edges"] = static_cast<double>(f.graph.num_edges());
  state.SetItemsProcessed(state.iterations());
}

#ifdef WK_HAVE_IGRAPH
void BM_Ppr_Igraph(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  igraph_vector_int_t el;
  igraph_vector_int_init(&el, static_cast<igraph_integer_t>(2 * f.edges.size()));
  igraph_vector_t w;
  igraph_vector_init(&w, static_cast<igraph_integer_t>(f.edges.size()));
  for (size_t e = 0; e < f.edges.size(); ++e) {
    VECTOR(el)[2 * e] = f.edges[e].from;
    VECTOR(el)[2 * e + 1] = f.edges[e].to;
    VECTOR(w)[e] = f.edges[e].weight;
  }
  igraph_t g;
  igraph_create(&g, &el, f.graph.num_vertices(), IGRAPH_UNDIRECTED);
  igraph_vector_t res;
  igraph_vector_init(&res, 0);
  double agree = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const int k = static_cast<int>(i++ % kSeeds);
    igraph_real_t value;
    if (igraph_personalized_pagerank_vs(&g, IGRAPH_PAGERANK_ALGO_PRPACK, &res, &value, igraph_vss_all(), IGRAPH_UNDIRECTED,
                                        0.85, igraph_vss_1(f.seeds[k]), &w, nullptr) != IGRAPH_SUCCESS) {
      state.SkipWithError("igraph failed");
      break;
    }
    std::vector<double> p(VECTOR(res), VECTOR(res) + igraph_vector_size(&res));
    const auto top = TopK(std::span<const double>(p), kTop);
    agree += Overlap(f.exact_top[k], top);
  }
  state.counters["top20"] = agree / static_cast<double>(std::max<int64_t>(1, i));
  state.SetItemsProcessed(state.iterations());
  igraph_vector_destroy(&res);
  igraph_destroy(&g);
  igraph_vector_destroy(&w);
  igraph_vector_int_destroy(&el);
}
#endif

int64_t LargeSize() {
  if (const char* env = std::getenv("WK_BENCH_EDGES")) return std::max<int64_t>(1000, std::atoll(env));
  return 10'000'000;
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1'000'000)->Arg(LargeSize())->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Ppr_Baseline)->Name("BM_Ppr/baseline")->Apply(Sizes);
BENCHMARK(BM_Ppr_Candidate)->Name("BM_Ppr/candidate")->Apply(Sizes);
BENCHMARK(BM_Ppr_Reference)->Name("BM_Ppr/reference")->Apply(Sizes);
#ifdef WK_HAVE_IGRAPH
BENCHMARK(BM_Ppr_Igraph)->Name("BM_Ppr/igraph")->Apply(Sizes);
#endif

}  // namespace
}  // namespace whoknows::engine

BENCHMARK_MAIN();
