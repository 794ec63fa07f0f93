// FindExperts latency by question size, on the real r-devel archive (issue 9.4):
//   BM_FindExperts/oneline  the subject line of a real 2021 r-devel question (baseline): the
//                           longest thread-starting 2021 message that contains a '?'
//   BM_FindExperts/4k       the old 4 KiB limit
//   BM_FindExperts/20k      the question pasted whole: that message, then the next longest 2021
//                           messages (code, logs, stack traces), cut at 20,000 bytes
//   BM_FindExperts/64k      the new limit, 65,536 bytes of the same
//   BM_Search/oneline, /20k retrieval alone (IndexReader::Search, top 200) for the two
// The index is r-devel 2019 + 2020 (built once in a temp dir, removed at exit);
// the questions come from 2021, so none of them is an indexed document.
// Run: query_size_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//      --benchmark_format=json ; report the median of each size over oneline.
// WK_SHARED_DATA overrides the data directory (default ../shared/data next to the sources).

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

std::string DataDir() {
  const char* env = std::getenv("WK_SHARED_DATA");
  return env != nullptr ? env : std::string(WK_SOURCE_DIR) + "/../shared/data";
}

class Collect final : public indexer::RecordSink {
 public:
  absl::Status OnRecord(indexer::Record r) override {
    records.push_back(std::move(r));
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos&, std::string_view, const absl::Status&) override {}
  std::vector<indexer::Record> records;
};

// Cuts at `bytes` on a UTF-8 boundary.
std::string Cut(std::string s, size_t bytes) {
  if (s.size() <= bytes) return s;
  size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

struct Fixture {
  std::string dir;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<indexer::IndexReader> reader;  // retrieval alone
  std::string oneline, long_text;  // long_text: >= 64 KiB of real mail text
  ~Fixture() {
    backend.reset();
    reader.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& GetFixture() {
  // Destroyed at exit, which removes the temp index.
  static std::unique_ptr<Fixture> f = [] {
    auto fx = std::make_unique<Fixture>();
    std::string tmpl = (std::filesystem::temp_directory_path() / "wk-qsize-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    fx->dir = tmpl;
    const std::string mbox = DataDir() + "/mbox/r-devel/";
    indexer::PipelineOptions opt;
    absl::StatusOr<indexer::PipelineResult> r =
        indexer::IndexPaths(fx->dir + "/db", {mbox + "r-devel-2019.mbox.xz", mbox + "r-devel-2020.mbox.xz"}, opt);
    if (!r.ok() || !r->failed_paths.empty()) {
      std::fprintf(stderr, "cannot index %s: %s\n", mbox.c_str(), r.ok() ? "read failure" : r.status().ToString().c_str());
      std::abort();
    }
    std::fprintf(stderr, "indexed %llu r-devel messages (2019-2020)\n",
                 static_cast<unsigned long long>(r->summary.indexed));
    absl::StatusOr<std::unique_ptr<Backend>> b = Backend::Open(fx->dir + "/db", {});
    if (!b.ok()) std::abort();
    fx->backend = *std::move(b);
    absl::StatusOr<std::unique_ptr<indexer::IndexReader>> rd = indexer::IndexReader::Open(fx->dir + "/db");
    if (!rd.ok()) std::abort();
    fx->reader = *std::move(rd);
    // Questions from 2021: the longest messages first, as one pasted text.
    Collect c;
    if (!indexer::ReadAny(mbox + "r-devel-2021.mbox.xz", {}, &c).ok() || c.records.empty()) std::abort();
    std::sort(c.records.begin(), c.records.end(),
              [](const indexer::Record& a, const indexer::Record& b) { return a.text.size() > b.text.size(); });
    // The lead: the longest thread-starting message that asks something.
    auto lead = std::find_if(c.records.begin(), c.records.end(), [](const indexer::Record& r) {
      return r.reply_to.empty() && r.text.find('?') != std::string::npos;
    });
    if (lead == c.records.end()) std::abort();
    std::rotate(c.records.begin(), lead, lead + 1);
    fx->oneline = c.records[0].title;
    for (const indexer::Record& rec : c.records) {
      if (fx->long_text.size() > kMaxQueryBytes) break;
      fx->long_text += rec.title + "\n" + rec.text + "\n";
    }
    std::fprintf(stderr, "one-line question: \"%s\" (its message: %zu bytes)\n", fx->oneline.c_str(),
                 c.records[0].text.size());
    return fx;
  }();
  return *f;
}

void BM_FindExperts(benchmark::State& state, size_t bytes) {
  Fixture& f = GetFixture();
  ExpertsQuery q;
  q.text = bytes == 0 ? f.oneline : Cut(f.long_text, bytes);
  q.k = 10;
  size_t experts = 0;
  for (auto _ : state) {
    absl::StatusOr<ExpertsAnswer> a = f.backend->FindExperts(q, Caller{});
    if (!a.ok()) {
      state.SkipWithError(std::string(a.status().message()).c_str());
      break;
    }
    experts = a->experts.size();
    benchmark::DoNotOptimize(experts);
  }
  state.counters["bytes"] = static_cast<double>(q.text.size());
  state.counters["experts"] = static_cast<double>(experts);
}

// Retrieval alone (query parsing, elite set, BM25 top 200): the part of
// FindExperts that grows with the question.
void BM_Search(benchmark::State& state, size_t bytes) {
  Fixture& f = GetFixture();
  const std::string text = bytes == 0 ? f.oneline : Cut(f.long_text, bytes);
  size_t hits = 0;
  for (auto _ : state) {
    absl::StatusOr<std::vector<indexer::SearchHit>> h = f.reader->Search(text, {}, 200);
    if (!h.ok()) {
      state.SkipWithError(std::string(h.status().message()).c_str());
      break;
    }
    hits = h->size();
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits"] = static_cast<double>(hits);
}

BENCHMARK_CAPTURE(BM_Search, oneline, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, 20k, 20000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FindExperts, oneline, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FindExperts, 4k, 4096)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FindExperts, 20k, 20000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FindExperts, 64k, kMaxQueryBytes)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace whoknows::service

BENCHMARK_MAIN();
