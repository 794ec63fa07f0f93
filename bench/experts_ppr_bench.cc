// The personalized PageRank inside FindExperts, on a real index: the seeds and
// options RankExperts would use (engine::ExpertPprInput) for each question of a
// file, captured once, then pushed by
//   BM_ExpertsPpr/reference  engine::ForwardPush as on main 15521df (bench/ppr_reference.h)
//   BM_ExpertsPpr/engine     this tree's engine::ForwardPush
// in the same process, one question per iteration (cycled), so the ratio of the
// two is the gain under the same box noise. Before timing, every question is
// pushed by both and compared: pushes, touched vertices (in order) and every
// reserve bit for bit; any difference is printed and the exit status is 1.
//
//   experts_ppr_bench --db DIR --queries FILE [--n 200] [--retrieve-n 200] [--check-only]
//                     [google benchmark flags, e.g. --benchmark_repetitions=3
//                      --benchmark_enable_random_interleaving=true]
//
// Counters: pushes, touched and edges (edge visits) per call.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "ppr_reference.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace {

using namespace whoknows;

struct Input {
  std::vector<engine::ExpertPpr> calls;
  std::vector<engine::PprOptions> engine_options;  // per call: calls[i].options, r_max maybe overridden
  std::shared_ptr<const engine::Snapshot> snapshot;
  double pushes = 0, touched = 0, edges = 0, persons = 0;  // per call, from the reference
};

Input& Get() {
  static Input in;
  return in;
}

void BM_Reference(benchmark::State& state) {
  const Input& in = Get();
  engine::reference::Workspace ws;
  size_t i = 0;
  for (auto _ : state) {
    const engine::ExpertPpr& c = in.calls[i++ % in.calls.size()];
    engine::reference::ForwardPush(in.snapshot->graph(), c.seeds, c.options, &ws);
    benchmark::DoNotOptimize(ws.touched.data());
  }
  state.counters["pushes"] = in.pushes;
  state.counters["touched"] = in.touched;
  state.counters["edges"] = in.edges;
}

void BM_Engine(benchmark::State& state) {
  const Input& in = Get();
  engine::PprWorkspace ws;
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % in.calls.size();
    if (!engine::ForwardPush(in.snapshot->graph(), in.calls[k].seeds, in.engine_options[k], &ws).ok()) {
      state.SkipWithError("push failed");
    }
    benchmark::DoNotOptimize(ws.touched.data());
  }
  state.counters["pushes"] = in.pushes;
  state.counters["touched"] = in.touched;
  state.counters["edges"] = in.edges;
}

// Pushes, touched order and reserve bits equal? Prints the first difference.
bool Same(const engine::reference::Workspace& r, const engine::PprWorkspace& w, size_t call) {
  if (r.pushes != w.pushes || r.touched.size() != w.touched.size()) {
    std::fprintf(stderr, "call %zu: pushes %lu vs %lu, touched %zu vs %zu\n", call, static_cast<unsigned long>(r.pushes),
                 static_cast<unsigned long>(w.pushes), r.touched.size(), w.touched.size());
    return false;
  }
  for (size_t k = 0; k < r.touched.size(); ++k) {
    const engine::VertexId v = r.touched[k];
    if (w.touched[k] != v || std::memcmp(&r.reserve[v], &w.cells[v].reserve, sizeof(float)) != 0 || w.cells[v].stamp != w.generation) {
      std::fprintf(stderr, "call %zu: touched[%zu] %u vs %u, reserve %.9g vs %.9g\n", call, k, v, w.touched[k],
                   r.reserve[v], w.score(w.touched[k]));
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // removes its own --benchmark_* flags
  CLI::App app{"FindExperts' personalized PageRank: reference vs engine push, in process"};
  std::string db, queries_file;
  size_t n = 200, retrieve_n = 200;
  bool check_only = false;
  double r_max = 0;
  app.add_option("--db", db, "index directory")->required();
  app.add_option("--queries", queries_file, "questions, one a line")->required();
  app.add_option("--n", n, "questions used (the file's first n)")->capture_default_str();
  app.add_option("--retrieve-n", retrieve_n, "BM25 documents per question (the server's default)")->capture_default_str();
  app.add_flag("--check-only", check_only, "compare the two pushes, time nothing");
  app.add_option("--engine-r-max", r_max, "push with this r_max in the engine variant (a budget experiment: "
                 "answers then differ from the reference; 0 = RankExperts' own)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> queries;
  std::ifstream qin(queries_file);
  for (std::string line; std::getline(qin, line) && queries.size() < n;) {
    if (!line.empty()) queries.push_back(line);
  }
  if (queries.empty()) {
    std::fprintf(stderr, "%s: no questions\n", queries_file.c_str());
    return 2;
  }
  auto reader = indexer::IndexReader::Open(db);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s: %s\n", db.c_str(), reader.status().ToString().c_str());
    return 1;
  }
  std::vector<indexer::StoredDoc> docs;
  if (auto st = (*reader)->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }); !st.ok()) {
    std::fprintf(stderr, "%s: %s\n", db.c_str(), st.ToString().c_str());
    return 1;
  }
  auto persons = (*reader)->ListPersons();
  if (!persons.ok()) {
    std::fprintf(stderr, "%s: %s\n", db.c_str(), persons.status().ToString().c_str());
    return 1;
  }
  auto snap = engine::BuildSnapshot(docs, *persons);
  if (!snap.ok()) {
    std::fprintf(stderr, "%s: %s\n", db.c_str(), snap.status().ToString().c_str());
    return 1;
  }
  docs = {};
  Input& in = Get();
  in.snapshot = std::move(*snap);
  const engine::AskOptions ask;  // the server's defaults for a caller without groups
  for (const std::string& q : queries) {
    auto hits = (*reader)->Search(q, indexer::SearchFilter{}, retrieve_n);
    if (!hits.ok()) continue;
    auto c = engine::ExpertPprInput(*in.snapshot, *hits, ask);
    if (c.ok() && !c->seeds.empty()) in.calls.push_back(*std::move(c));
  }
  for (const engine::ExpertPpr& c : in.calls) {
    in.engine_options.push_back(c.options);
    if (r_max > 0) in.engine_options.back().r_max = r_max;
  }
  if (in.calls.empty()) {
    std::fprintf(stderr, "no question gave seeds\n");
    return 2;
  }
  engine::reference::Workspace rws;
  engine::PprWorkspace ws;
  size_t same = 0;
  double engine_pushes = 0, engine_persons = 0;
  for (size_t i = 0; i < in.calls.size(); ++i) {
    const engine::ExpertPpr& c = in.calls[i];
    engine::reference::ForwardPush(in.snapshot->graph(), c.seeds, c.options, &rws);
    if (!engine::ForwardPush(in.snapshot->graph(), c.seeds, in.engine_options[i], &ws).ok()) return 1;
    same += r_max > 0 ? 0 : Same(rws, ws, i);
    if (r_max > 0) {
      engine_pushes += static_cast<double>(ws.pushes);
      for (engine::VertexId v : ws.touched) engine_persons += v < in.snapshot->num_persons() && ws.score(v) > 0;
    }
    in.pushes += static_cast<double>(rws.pushes);
    in.touched += static_cast<double>(rws.touched.size());
    in.edges += static_cast<double>(rws.edges);
    for (engine::VertexId v : rws.touched) in.persons += v < in.snapshot->num_persons() && rws.reserve[v] > 0;
  }
  const double k = static_cast<double>(in.calls.size());
  in.pushes /= k;
  in.touched /= k;
  in.edges /= k;
  in.persons /= k;
  std::printf("%zu calls (of %zu questions), %u vertices, %u edges; per call: %.0f pushes, %.0f touched, %.0f edge visits, %.0f people with a score; "
              "identical to the reference: %zu / %zu\n",
              in.calls.size(), queries.size(), in.snapshot->graph().num_vertices(), in.snapshot->graph().num_edges(),
              in.pushes, in.touched, in.edges, in.persons, same, in.calls.size());
  if (r_max > 0) {
    std::printf("engine r_max %g: per call %.0f pushes, %.0f people with a score\n", r_max, engine_pushes / k,
                engine_persons / k);
  }
  std::fflush(stdout);
  if (!check_only) {
    benchmark::RegisterBenchmark("BM_ExpertsPpr/reference", BM_Reference)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_ExpertsPpr/engine", BM_Engine)->Unit(benchmark::kMicrosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  }
  return r_max > 0 || same == in.calls.size() ? 0 : 1;
}
