// Snapshot build cost and size on a real index: reads every document and
// person from the index (the baseline: what any rebuild must pay), then
// builds the engine snapshot --rounds times. Prints documents, persons,
// edges, Snapshot::bytes(), bytes per edge (Snapshot::bytes() / num_edges(), which
// counts both graphs' bytes over the main graph's edges; both graphs over both
// graphs' edges; and the main graph alone), build seconds (median) and seconds
// per million edges, the build/read ratio, and the process VmRSS.
//
//   snapshot_bench --db DIR [--rounds 3] [--json]

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Resident set size of this process in KiB (VmRSS from /proc), 0 if unknown.
long VmRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int rounds = 3;
  bool json = false;
  CLI::App app("snapshot_bench: engine snapshot build time and bytes per edge");
  app.add_option("--db", db, "Index directory")->required();
  app.add_option("--rounds", rounds, "Builds (median reported)")->capture_default_str();
  app.add_flag("--json", json, "JSON output");
  CLI11_PARSE(app, argc, argv);

  const long rss0 = VmRssKib();
  auto t = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<whoknows::indexer::IndexReader>> reader = whoknows::indexer::IndexReader::Open(db);
  if (!reader.ok()) {
    std::fprintf(stderr, "snapshot_bench: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  std::vector<whoknows::indexer::StoredDoc> docs;
  absl::Status st = (*reader)->ForEachDocument([&](const whoknows::indexer::StoredDoc& d) { docs.push_back(d); });
  absl::StatusOr<std::vector<whoknows::indexer::Person>> persons = (*reader)->ListPersons();
  if (!st.ok() || !persons.ok()) {
    std::fprintf(stderr, "snapshot_bench: read failed: %s %s\n", st.ToString().c_str(),
                 persons.status().ToString().c_str());
    return 1;
  }
  const double read_s = Since(t);
  const long rss_tables = VmRssKib();

  std::vector<double> times;
  std::shared_ptr<const whoknows::engine::Snapshot> snap;
  for (int r = 0; r < std::max(1, rounds); ++r) {
    snap.reset();
    t = std::chrono::steady_clock::now();
    absl::StatusOr<std::shared_ptr<const whoknows::engine::Snapshot>> s =
        whoknows::engine::BuildSnapshot(docs, *persons);
    times.push_back(Since(t));
    if (!s.ok()) {
      std::fprintf(stderr, "snapshot_bench: build failed: %s\n", s.status().ToString().c_str());
      return 1;
    }
    snap = *std::move(s);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double build_s = sorted[sorted.size() / 2];
  const double edges = static_cast<double>(snap->num_edges());
  nlohmann::json j;
  j["db"] = db;
  j["documents"] = docs.size();
  j["persons"] = persons->size();
  j["snapshot_persons"] = snap->num_persons();
  j["topics"] = snap->num_topics();
  j["threads"] = snap->num_threads();
  j["edges"] = snap->num_edges();
  j["contact_edges"] = snap->contacts().num_edges();
  j["bytes"] = snap->bytes();
  j["bytes_per_edge"] = edges > 0 ? static_cast<double>(snap->bytes()) / edges : 0.0;
  // Both graphs' bytes over both graphs' edges (the issue 13 measure).
  const double all_edges = edges + static_cast<double>(snap->contacts().num_edges());
  j["bytes_per_edge_both_graphs"] = all_edges > 0 ? static_cast<double>(snap->bytes()) / all_edges : 0.0;
  // The same split by graph: the main graph alone, per its own edge.
  j["graph_bytes"] = snap->graph().bytes();
  j["graph_bytes_per_edge"] = edges > 0 ? static_cast<double>(snap->graph().bytes()) / edges : 0.0;
  j["contacts_bytes"] = snap->contacts().bytes();
  j["read_s"] = read_s;
  j["build_s_median"] = build_s;
  j["build_s_all"] = times;
  j["build_s_per_million_edges"] = edges > 0 ? build_s / (edges / 1e6) : 0.0;
  j["build_over_read"] = read_s > 0 ? build_s / read_s : 0.0;
  j["rss_kib_start"] = rss0;
  j["rss_kib_after_read"] = rss_tables;
  j["rss_kib_with_snapshot"] = VmRssKib();
  if (json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n", j.dump(2).c_str());
  }
  return 0;
}
