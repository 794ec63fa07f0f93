// Replays every saved fuzzer finding (tests/fuzz/regressions/<parser>/) and
// every seed (tests/fuzz/corpus/<parser>/) through the same entry points as
// the libFuzzer targets (tests/fuzz/fuzz_entries.h). An entry point aborts on
// a crash or a broken reader contract, so each replay that returns passed.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "../fuzz/fuzz_entries.h"
#include "gtest/gtest.h"

namespace whoknows::fuzz {
namespace {

namespace fs = std::filesystem;

struct Target {
  const char* parser;
  void (*entry)(std::string_view);
};

void PrintTo(const Target& t, std::ostream* os) { *os << t.parser; }

const Target kTargets[] = {
    {"se", FuzzStackExchange}, {"mbox", FuzzMbox},       {"slack", FuzzSlack}, {"jsonl", FuzzJsonl},
    {"aliases", FuzzAliases},  {"tokens", FuzzTokens}, {"query", FuzzQuery},
};

std::vector<fs::path> FilesUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FuzzReplayTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplayTest, SeedsAndRegressionsDoNotCrash) {
  const Target& t = GetParam();
  const fs::path fuzz_dir = fs::path(WK_SOURCE_DIR) / "tests" / "fuzz";
  std::vector<fs::path> seeds = FilesUnder(fuzz_dir / "corpus" / t.parser);
  std::vector<fs::path> regressions = FilesUnder(fuzz_dir / "regressions" / t.parser);
  ASSERT_FALSE(seeds.empty()) << "no seed corpus for " << t.parser;
  for (const std::vector<fs::path>* list : {&seeds, &regressions}) {
    for (const fs::path& p : *list) {
      SCOPED_TRACE(p.string());
      std::string bytes = Slurp(p);
      t.entry(bytes);
      // Truncations and an empty input are the most common hostile shapes.
      t.entry(std::string_view(bytes).substr(0, bytes.size() / 2));
    }
  }
  t.entry("");
  RecordProperty("regressions", static_cast<int>(regressions.size()));
}

INSTANTIATE_TEST_SUITE_P(Parsers, FuzzReplayTest, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) { return std::string(info.param.parser); });

// The replay must actually exercise the readers: the seeds produce records.
TEST(FuzzReplay, SeedsProduceRecords) {
  CheckingSink sink;
  indexer::ReadOptions options;
  ASSERT_TRUE(indexer::ReadMbox(std::string(WK_TEST_DATA_DIR) + "/mbox/testlist/basic.mbox", options, &sink).ok());
  EXPECT_GT(sink.records, 0u);
  QueryFixture* f = GetQueryFixture();
  absl::StatusOr<std::vector<indexer::SearchHit>> hits = f->reader->Search("ggplot2", {}, 10);
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_GT(f->snapshot->num_docs(), 10u);
}

}  // namespace
}  // namespace whoknows::fuzz
