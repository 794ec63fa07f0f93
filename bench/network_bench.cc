// Talent network benchmarks (bench/network_bench.sh runs both modes).
//
// Scale: network_bench --jsonl corpus.jsonl
//   Reads a whoknows-gen corpus into memory (no Xapian), builds the engine
//   snapshot (the baseline: what every query process pays once), then times
//   ComputeCoverage and ComputeNetwork and prints their ratio to the snapshot
//   build and the peak RSS (VmHWM).
// Graph: network_bench --db DIR --community r-devel --edges FILE
//   Builds the community's contact graph through the Backend (as the CLI
//   does), times Boost's exact betweenness, the sampled estimate and the
//   communities, writes the edge list for bench/network_compare.py and prints
//   JSON: top-20 brokers (vertex ids of the edge list) and the modularity.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "whoknows/engine/snapshot.h"
#include "whoknows/network/network.h"
#include "whoknows/service/backend.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long ProcKib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::stol(line.substr(n));
  }
  return 0;
}

whoknows::indexer::RecordKind Kind(const std::string& k) {
  using K = whoknows::indexer::RecordKind;
  if (k == "question") return K::kQuestion;
  if (k == "answer") return K::kAnswer;
  if (k == "comment") return K::kComment;
  if (k == "mail") return K::kMail;
  if (k == "chat") return K::kChat;
  return K::kPost;
}

std::vector<size_t> Top(const std::vector<double>& v, size_t k) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(k), idx.end(),
                    [&](size_t a, size_t b) { return v[a] != v[b] ? v[a] > v[b] : a < b; });
  idx.resize(k);
  return idx;
}

int Scale(const std::string& path, int threads) {
  auto t0 = Clock::now();
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 2;
  }
  std::vector<whoknows::indexer::StoredDoc> docs;
  std::string line;
  uint64_t bad = 0;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      ++bad;
      continue;
    }
    whoknows::indexer::StoredDoc d;
    d.docid = static_cast<uint32_t>(docs.size() + 1);
    const std::string src = j.value("source", "jsonl");
    d.id = src + ":" + j.value("id", "");
    d.kind = Kind(j.value("kind", "post"));
    d.source = src;
    d.thread_id = src + ":" + j.value("thread", j.value("id", ""));
    if (j.contains("reply_to")) d.reply_to = src + ":" + j.value("reply_to", "");
    d.author = "mail:" + j.value("author", "");
    d.timestamp = j.value("timestamp", int64_t{0});
    if (j.contains("tags")) d.topics = j["tags"].get<std::vector<std::string>>();
    d.community = j.value("community", "");
    d.visibility = j.value("visibility", "public");
    d.accepted = j.value("accepted", false);
    docs.push_back(std::move(d));
  }
  const double read_s = Since(t0);
  auto t1 = Clock::now();
  auto snap = whoknows::engine::BuildSnapshot(docs, {});
  if (!snap.ok()) {
    std::fprintf(stderr, "%s\n", snap.status().ToString().c_str());
    return 1;
  }
  const double snap_s = Since(t1);
  docs.clear();
  docs.shrink_to_fit();
  whoknows::network::NetworkOptions o;
  o.threads = threads;
  auto t2 = Clock::now();
  auto cov = whoknows::network::ComputeCoverage(**snap, o);
  const double cov_s = Since(t2);
  auto t3 = Clock::now();
  auto net = whoknows::network::ComputeNetwork(**snap, o);
  const double net_s = Since(t3);
  if (!cov.ok() || !net.ok()) {
    std::fprintf(stderr, "network failed\n");
    return 1;
  }
  json out = {{"docs", (*snap)->num_docs()},
              {"persons", (*snap)->num_persons()},
              {"bad_lines", bad},
              {"read_seconds", read_s},
              {"snapshot_seconds", snap_s},
              {"coverage_seconds", cov_s},
              {"network_seconds", net_s},
              {"network_plus_coverage_seconds", cov_s + net_s},
              {"ratio_to_snapshot_build", (cov_s + net_s) / snap_s},
              {"topics", cov->topics.size()},
              {"at_risk", cov->at_risk.size()},
              {"contact_edges", net->contact_edges},
              {"communities", net->communities_total},
              {"modularity", net->modularity},
              {"betweenness_exact", net->betweenness_exact},
              {"betweenness_pivots", net->betweenness_pivots},
              {"betweenness_error", net->betweenness_error},
              {"peak_rss_mib", ProcKib("VmHWM:") / 1024.0}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int Graph(const std::string& db, const std::string& community, const std::string& edges_out, int threads) {
  auto backend = whoknows::service::Backend::Open(db, {});
  if (!backend.ok()) {
    std::fprintf(stderr, "%s\n", backend.status().ToString().c_str());
    return 1;
  }
  whoknows::network::NetworkOptions o;
  o.community = community;
  o.include_graph = true;
  auto r = (*backend)->GetTalentNetwork(o, whoknows::service::Caller{});
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return 1;
  }
  whoknows::network::SimpleGraph g;
  for (const auto& n : r->nodes) g.n += n.kind == "person";
  std::ofstream f(edges_out);
  for (const auto& e : r->edges) {
    if (e.kind != "contact") continue;
    g.edges.emplace_back(e.source, e.target);
    g.weights.push_back(e.weight);
    f << e.source << '\t' << e.target << '\t' << e.weight << '\n';
  }
  f.close();
  auto t0 = Clock::now();
  std::vector<double> exact = whoknows::network::ExactBetweenness(g);
  const double exact_s = Since(t0);
  auto t1 = Clock::now();
  double err = 0;
  std::vector<double> sampled = whoknows::network::SampledBetweenness(g, 1000, 0.1, 1, threads, &err);
  const double sampled_s = Since(t1);
  auto t2 = Clock::now();
  auto part = whoknows::network::DetectCommunities(g, 1);
  const double comm_s = Since(t2);
  if (!part.ok()) return 1;
  std::vector<size_t> te = Top(exact, 20), ts = Top(sampled, 20);
  size_t agree = 0;
  for (size_t a : ts) agree += std::find(te.begin(), te.end(), a) != te.end();
  json out = {{"vertices", g.n},
              {"edges", g.edges.size()},
              {"exact_seconds", exact_s},
              {"sampled_seconds", sampled_s},
              {"sampled_pivots", std::min<uint32_t>(1000, g.n)},
              {"sampled_error_bound", err},
              {"sampled_top20_vs_exact", agree},
              {"communities_seconds", comm_s},
              {"modularity", part->modularity},
              {"method", part->method},
              {"top20_exact", te},
              {"top20_scores", [&] {
                 std::vector<double> v;
                 for (size_t i : te) v.push_back(exact[i]);
                 return v;
               }()}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"talent network benchmarks"};
  std::string jsonl, db, community = "r-devel", edges = "/tmp/network_bench_edges.tsv";
  int threads = 2;
  app.add_option("--jsonl", jsonl, "whoknows-gen corpus (scale mode)");
  app.add_option("--db", db, "Index (graph mode)");
  app.add_option("--community", community, "Community of the graph mode");
  app.add_option("--edges", edges, "Edge list written in graph mode");
  app.add_option("--threads", threads, "Threads of sampled betweenness");
  CLI11_PARSE(app, argc, argv);
  if (!jsonl.empty()) return Scale(jsonl, threads);
  if (!db.empty()) return Graph(db, community, edges, threads);
  std::fprintf(stderr, "give --jsonl FILE or --db DIR\n");
  return 2;
}
