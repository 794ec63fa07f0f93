// Indexing throughput: `whoknows index` (readers + IndexWriter, the real
// command path) against a minimal raw-Xapian loop over the same text
// (TermGenerator with positions, same stemmer, same commit batch), in one
// process, alternating, several rounds. Prints docs/s of both and the ratio.
// `whoknows index` reads on a second thread ahead of its writer (wall-clock
// ratios profit from a free second core; the CPU-time ratio counts both threads).
//
//   build/release/bench/index_bench [--rounds 3] [--commit-every 5000] PATH...
//   (default PATH: ../shared/data)
#include <xapian.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/readers.h"

namespace {

using whoknows::indexer::Record;

class Collect final : public whoknows::indexer::RecordSink {
 public:
  absl::Status OnRecord(Record r) override {
    records.push_back(std::move(r));
    return absl::OkStatus();
  }
  void OnBadRecord(const whoknows::SourcePos&, std::string_view, const absl::Status&) override {}
  std::vector<Record> records;
};

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

// CPU time of this process: less sensitive than wall time to other jobs on a shared 2-core box.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The baseline: parse once into memory (not timed), then index the same
// title + text the product indexes with the same TermGenerator settings.
double RawXapian(const std::vector<Record>& recs, const std::string& dir, size_t batch) {
  auto t0 = std::chrono::steady_clock::now();
  Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE);
  Xapian::TermGenerator tg;
  tg.set_stemmer(Xapian::Stem("en"));
  tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
  size_t n = 0;
  for (const Record& r : recs) {
    Xapian::Document doc;
    tg.set_document(doc);
    if (!r.title.empty()) {
      tg.index_text(r.title, 2);
      tg.increase_termpos();
    }
    tg.index_text(r.text);
    doc.add_boolean_term("Q" + r.id.substr(0, 200));
    doc.set_data(r.text);
    db.replace_document("Q" + r.id.substr(0, 200), doc);
    if (++n % batch == 0) db.commit();
  }
  db.commit();
  return Seconds(t0);
}

double Whoknows(const std::vector<std::string>& paths, const std::string& dir, size_t batch, uint64_t* indexed) {
  std::filesystem::remove_all(dir);
  auto t0 = std::chrono::steady_clock::now();
  whoknows::indexer::PipelineOptions opt;
  opt.index.commit_every = batch;
  auto r = whoknows::indexer::IndexPaths(dir, paths, opt);
  double s = Seconds(t0);
  if (!r.ok()) {
    std::fprintf(stderr, "index failed: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  *indexed = r->summary.indexed;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  size_t batch = 5000;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--commit-every" && i + 1 < argc) batch = std::stoul(argv[++i]);
    else paths.push_back(a);
  }
  if (paths.empty()) paths.push_back(std::string(WK_SOURCE_DIR) + "/../shared/data");
  std::string tmp = (std::filesystem::temp_directory_path() / ("whoknows-index-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(tmp);

  // Parse once for the baseline (and to drop exact duplicate ids so both write the same documents).
  Collect c;
  auto parse_start = std::chrono::steady_clock::now();
  const double parse_cpu0 = CpuNow();
  for (const std::string& p : paths) {
    absl::Status s = whoknows::indexer::ReadAny(p, {}, &c);
    if (!s.ok()) std::fprintf(stderr, "read %s: %s\n", p.c_str(), s.ToString().c_str());
  }
  const double parse_s = Seconds(parse_start);
  const double parse_cpu = CpuNow() - parse_cpu0;
  std::vector<Record> uniq;
  {
    std::vector<size_t> order(c.records.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return c.records[a].id < c.records[b].id; });
    std::vector<bool> keep(c.records.size(), false);
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || c.records[order[i]].id != c.records[order[i - 1]].id) keep[order[i]] = true;
    }
    for (size_t i = 0; i < c.records.size(); ++i) {
      if (keep[i]) uniq.push_back(std::move(c.records[i]));
    }
  }
  std::printf("corpus: %zu records read, %zu unique\n", c.records.size(), uniq.size());
  std::printf("parse (readers only): %.2fs\n", parse_s);
  std::vector<double> ratios, ratios_with_parse, cpu_ratios;
  for (int round = 0; round < rounds; ++round) {
    double c0 = CpuNow();
    double raw = RawXapian(uniq, tmp + "/raw", batch);
    double c1 = CpuNow();
    uint64_t indexed = 0;
    double wk = Whoknows(paths, tmp + "/wk", batch, &indexed);
    double c2 = CpuNow();
    // CPU: whoknows (parse + index) against parse + raw index.
    cpu_ratios.push_back((c1 - c0 + parse_cpu) / (c2 - c1));
    double raw_rate = static_cast<double>(uniq.size()) / raw;
    double wk_rate = static_cast<double>(indexed) / wk;
    ratios.push_back(wk_rate / raw_rate);
    ratios_with_parse.push_back(wk_rate / (static_cast<double>(uniq.size()) / (raw + parse_s)));
    std::printf("round %d: raw-xapian %.0f docs/s (%.2fs), whoknows index %.0f docs/s (%.2fs, %llu docs), "
                "ratio %.3f, ratio vs raw+parse %.3f, cpu-time ratio vs raw+parse %.3f\n",
                round + 1, raw_rate, raw, wk_rate, wk, static_cast<unsigned long long>(indexed), ratios.back(),
                ratios_with_parse.back(), cpu_ratios.back());
    std::fflush(stdout);
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(ratios_with_parse.begin(), ratios_with_parse.end());
  std::printf("median ratio whoknows/raw-xapian (pre-parsed text): %.3f\n", ratios[ratios.size() / 2]);
  std::printf("median ratio whoknows/(parse + raw-xapian): %.3f (target >= 0.8)\n",
              ratios_with_parse[ratios_with_parse.size() / 2]);
  std::sort(cpu_ratios.begin(), cpu_ratios.end());
  std::printf("median CPU-time ratio whoknows/(parse + raw-xapian): %.3f\n", cpu_ratios[cpu_ratios.size() / 2]);
  std::filesystem::remove_all(tmp);
  return 0;
}
