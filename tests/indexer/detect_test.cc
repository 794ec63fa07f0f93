#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kData = WK_TEST_DATA_DIR;
const std::string kShared = WK_SHARED_DATA_DIR;

class CountSink : public RecordSink {
 public:
  absl::Status OnRecord(Record record) override {
    ++per_source[record.source];
    if (first_ts == 0) first_ts = record.timestamp;
    last_ts = record.timestamp;
    ++records;
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos&, std::string_view, const absl::Status&) override { ++bad; }
  std::map<std::string, int> per_source;
  int records = 0;
  int bad = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
};

InputFormat Detect(const std::string& path) {
  absl::StatusOr<InputFormat> f = DetectFormat(path);
  EXPECT_TRUE(f.ok()) << path << ": " << f.status();
  return f.ok() ? *f : InputFormat::kUnknown;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "wk_detect_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

TEST(FormatNameTest, Names) {
  EXPECT_EQ(FormatName(InputFormat::kStackExchange), "stackexchange");
  EXPECT_EQ(FormatName(InputFormat::kMbox), "mbox");
  EXPECT_EQ(FormatName(InputFormat::kSlack), "slack");
  EXPECT_EQ(FormatName(InputFormat::kJsonl), "jsonl");
  EXPECT_EQ(FormatName(InputFormat::kUnknown), "unknown");
}

TEST(DetectFormatTest, Fixtures) {
  EXPECT_EQ(Detect(kData + "/slack/acme"), InputFormat::kSlack);
  EXPECT_EQ(Detect(kData + "/slack/acme/"), InputFormat::kSlack);
  EXPECT_EQ(Detect(kData + "/jsonl/team-chat.jsonl"), InputFormat::kJsonl);
  EXPECT_EQ(Detect(kData + "/jsonl"), InputFormat::kJsonl);
  EXPECT_EQ(Detect(kData + "/slack"), InputFormat::kUnknown);  // a directory of exports
  EXPECT_EQ(Detect(kData + "/aliases/people.aliases"), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kData + "/slack/acme/users.json"), InputFormat::kUnknown);  // a JSON array, not JSONL
}

TEST(DetectFormatTest, SniffsContentWhenTheNameSaysNothing) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  EXPECT_EQ(Detect(tmp.Write("a.txt", "\n{\"id\":\"1\"}\n")), InputFormat::kJsonl);
  EXPECT_EQ(Detect(tmp.Write("b.txt", "From someone at x.org  Tue Jan  4 10:00:00 2005\nFrom: x\n")),
            InputFormat::kMbox);
  EXPECT_EQ(Detect(tmp.Write("c.xml", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<posts>\r\n")),
            InputFormat::kStackExchange);
  EXPECT_EQ(Detect(tmp.Write("d.xml", "<?xml version=\"1.0\"?>\n<users>\n")), InputFormat::kUnknown);
  EXPECT_EQ(Detect(tmp.Write("e.txt", "")), InputFormat::kUnknown);
  EXPECT_EQ(Detect(tmp.Write("f.mbox", "")), InputFormat::kMbox);
  EXPECT_EQ(Detect(tmp.Write("site/Posts.xml", "<posts>\n</posts>\n")), InputFormat::kStackExchange);
  EXPECT_EQ(Detect(tmp.path() + "/site"), InputFormat::kStackExchange);
  EXPECT_EQ(Detect(tmp.Write("list/x-2001.mbox.xz", "")), InputFormat::kMbox);
  EXPECT_EQ(Detect(tmp.path() + "/list"), InputFormat::kMbox);
}

TEST(DetectFormatTest, MissingPath) {
  absl::StatusOr<InputFormat> f = DetectFormat(kData + "/no/such/thing");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(absl::IsNotFound(f.status()));
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("no/such/thing"));
}

TEST(DetectFormatTest, RealData) {
  if (!fs::exists(kShared + "/MANIFEST.md")) GTEST_SKIP() << "no shared data";
  for (const char* site : {"ai.stackexchange.com", "coffee.stackexchange.com", "cstheory.meta.stackexchange.com",
                           "music.meta.stackexchange.com"}) {
    EXPECT_EQ(Detect(kShared + "/stackexchange/" + site), InputFormat::kStackExchange) << site;
  }
  EXPECT_EQ(Detect(kShared + "/stackexchange/coffee.stackexchange.com/Posts.xml"), InputFormat::kStackExchange);
  EXPECT_EQ(Detect(kShared + "/stackexchange/ai.stackexchange.com/Posts.xml.zst"), InputFormat::kStackExchange);
  EXPECT_EQ(Detect(kShared + "/stackexchange/ai.stackexchange.com/Comments.xml"), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kShared + "/mbox/r-devel"), InputFormat::kMbox);
  EXPECT_EQ(Detect(kShared + "/mbox/r-devel/r-devel-1997.mbox.xz"), InputFormat::kMbox);
  EXPECT_EQ(Detect(kShared + "/slack/houstondatavis"), InputFormat::kSlack);
  EXPECT_EQ(Detect(kShared + "/slack/houstondatavis/general"), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kShared + "/stackexchange"), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kShared + "/slack"), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kShared), InputFormat::kUnknown);
  EXPECT_EQ(Detect(kShared + "/MANIFEST.md"), InputFormat::kUnknown);
}

TEST(ReadAnyTest, Fixtures) {
  CountSink slack;
  ASSERT_OK(ReadAny(kData + "/slack/acme", ReadOptions(), &slack));
  EXPECT_EQ(slack.records, 11);
  EXPECT_EQ(slack.bad, 4);

  CountSink nested;  // tests/data/slack: a directory of exports, one level down
  ASSERT_OK(ReadAny(kData + "/slack", ReadOptions(), &nested));
  EXPECT_EQ(nested.per_source, slack.per_source);

  CountSink jsonl;
  ASSERT_OK(ReadAny(kData + "/jsonl", ReadOptions(), &jsonl));
  EXPECT_EQ(jsonl.records, 5);
  CountSink jsonl_file;
  ASSERT_OK(ReadAny(kData + "/jsonl/team-chat.jsonl", ReadOptions(), &jsonl_file));
  EXPECT_EQ(jsonl_file.per_source, jsonl.per_source);
}

TEST(ReadAnyTest, NothingRecognisable) {
  CountSink sink;
  absl::Status s = ReadAny(kData + "/aliases", ReadOptions(), &sink);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kData + "/aliases"));
  s = ReadAny(kData + "/aliases/people.aliases", ReadOptions(), &sink);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("people.aliases"));
  s = ReadAny(kData + "/no/such/dir", ReadOptions(), &sink);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(sink.records, 0);
}

// A copy of the shared/data layout (symlinks), with only two small mbox years so
// the test stays fast: data/{stackexchange/<4 sites>, slack/houstondatavis,
// mbox/r-devel/{2024,2026}}. ReadAny must find all six inputs two levels down.
TEST(ReadAnyTest, RealDataTree) {
  if (!fs::exists(kShared + "/MANIFEST.md")) GTEST_SKIP() << "no shared data";
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const fs::path data = fs::path(tmp.path()) / "data";
  fs::create_directories(data / "mbox" / "r-devel");
  fs::create_directory_symlink(fs::absolute(kShared + "/stackexchange"), data / "stackexchange");
  fs::create_directory_symlink(fs::absolute(kShared + "/slack"), data / "slack");
  for (const char* year : {"2026", "2024"}) {
    const std::string name = std::string("r-devel-") + year + ".mbox.xz";
    fs::create_symlink(fs::absolute(kShared + "/mbox/r-devel/" + name), data / "mbox" / "r-devel" / name);
  }
  fs::copy_file(kShared + "/MANIFEST.md", data / "MANIFEST.md");  // ignored

  CountSink sink;
  ASSERT_OK(ReadAny(data.string(), ReadOptions(), &sink));
  std::set<std::string> sources;
  for (const auto& [source, n] : sink.per_source) {
    sources.insert(source);
    EXPECT_GT(n, 0) << source;
  }
  EXPECT_EQ(sources, (std::set<std::string>{"mbox:r-devel", "se:ai.stackexchange.com", "se:coffee.stackexchange.com",
                                            "se:cstheory.meta.stackexchange.com", "se:music.meta.stackexchange.com",
                                            "slack:houstondatavis"}));
  EXPECT_EQ(sink.per_source["slack:houstondatavis"], 1031);

  // The mbox directory alone: files in name order (2024 before 2026).
  CountSink mbox;
  ASSERT_OK(ReadAny((data / "mbox" / "r-devel").string(), ReadOptions(), &mbox));
  EXPECT_EQ(mbox.per_source["mbox:r-devel"], sink.per_source["mbox:r-devel"]);
  EXPECT_LT(mbox.first_ts, 1735689600);  // 2025-01-01: first record from the 2024 file
  EXPECT_GE(mbox.last_ts, 1735689600);   // last record from the 2026 file
}

}  // namespace
}  // namespace whoknows::indexer
