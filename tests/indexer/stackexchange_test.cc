#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

struct BadRecord {
  std::string pos;
  std::string reason;
  std::string message;
};

class CollectingSink : public RecordSink {
 public:
  absl::Status OnRecord(Record record) override {
    if (fail_after >= 0 && static_cast<int>(records.size()) >= fail_after) {
      return absl::UnavailableError("sink full");
    }
    records.push_back(std::move(record));
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    bad.push_back({pos.ToString(), std::string(reason), std::string(status.message())});
  }
  void OnProgress(std::string_view /*file*/, uint64_t done, uint64_t total) override {
    ++progress_calls;
    EXPECT_LE(done, total);
  }

  const Record* Find(std::string_view id) const {
    for (const Record& r : records) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
  int Count(RecordKind kind) const {
    int n = 0;
    for (const Record& r : records) n += r.kind == kind ? 1 : 0;
    return n;
  }

  std::vector<Record> records;
  std::vector<BadRecord> bad;
  int progress_calls = 0;
  int fail_after = -1;
};

const std::string kMini = std::string(WK_TEST_DATA_DIR) + "/stackexchange/mini.stackexchange.com";
constexpr std::string_view kP = "se:mini.stackexchange.com:post:";

std::string Post(int id) { return std::string(kP) + std::to_string(id); }

class MiniSiteTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(ReadStackExchange(kMini, ReadOptions(), &sink_)); }
  CollectingSink sink_;
};

TEST_F(MiniSiteTest, KindsAndIds) {
  EXPECT_EQ(sink_.Count(RecordKind::kQuestion), 3);  // 1, 7, 8 (5 is malformed)
  EXPECT_EQ(sink_.Count(RecordKind::kAnswer), 4);    // 2, 3, 6, 9 (10 truncated, 11 bad date)
  EXPECT_EQ(sink_.Count(RecordKind::kComment), 3);   // 100, 101, 103 (102 is on a wiki, 104 malformed)
  EXPECT_EQ(sink_.records.size(), 10u);
  EXPECT_EQ(sink_.Find(Post(4)), nullptr) << "tag wiki rows are not Q&A";
  EXPECT_EQ(sink_.Find(Post(5)), nullptr);
  EXPECT_EQ(sink_.Find(Post(10)), nullptr);
  EXPECT_EQ(sink_.Find("se:mini.stackexchange.com:comment:102"), nullptr);
  for (const Record& r : sink_.records) {
    EXPECT_EQ(r.source, "se:mini.stackexchange.com") << r.id;
    EXPECT_EQ(r.community, "mini.stackexchange.com") << r.id;
    EXPECT_EQ(r.visibility, "public") << r.id;
  }
}

TEST_F(MiniSiteTest, QuestionFields) {
  const Record* q = sink_.Find(Post(1));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->kind, RecordKind::kQuestion);
  EXPECT_EQ(q->thread_id, q->id);
  EXPECT_EQ(q->reply_to, "");
  EXPECT_EQ(q->title, "Parsing \"rows\" in C++");
  EXPECT_EQ(q->topics, (std::vector<std::string>{"c++", "xml-parsing"}));
  EXPECT_EQ(q->score, 5);
  EXPECT_EQ(q->timestamp, 1470152354);  // 2016-08-02T15:39:14Z
  EXPECT_EQ(q->accepted_answer_id, Post(3));
  EXPECT_FALSE(q->accepted);
  EXPECT_EQ(q->author_key, "se:mini.stackexchange.com:user:10");
  EXPECT_EQ(q->author_name, "Alice Liddell");
}

TEST_F(MiniSiteTest, HtmlBodyBecomesPlainText) {
  const Record* q = sink_.Find(Post(1));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->text,
            "How do I parse <row> lines & keep \"quotes\"?\n\nfirst\nsecond\n\n"
            "int main() {\n  return 0;\n}\n\nCaf\xC3\xA9 \xE2\x86\x92 done");
  const Record* a3 = sink_.Find(Post(3));
  ASSERT_NE(a3, nullptr);
  EXPECT_EQ(a3->text, "Use expat, one line at a time.");  // CRLF row; link text kept, href dropped
  const Record* a2 = sink_.Find(Post(2));
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(a2->text, "Use a regex.\nOr not.");
}

TEST_F(MiniSiteTest, AnswersThreadsAndAcceptance) {
  const Record* a2 = sink_.Find(Post(2));
  const Record* a3 = sink_.Find(Post(3));
  ASSERT_NE(a2, nullptr);
  ASSERT_NE(a3, nullptr);
  EXPECT_EQ(a2->kind, RecordKind::kAnswer);
  EXPECT_EQ(a2->thread_id, Post(1));
  EXPECT_EQ(a2->reply_to, Post(1));
  EXPECT_FALSE(a2->accepted);
  EXPECT_EQ(a2->score, -1);
  EXPECT_TRUE(a3->accepted);
  EXPECT_EQ(a3->timestamp, 1470182401);  // fraction ".5" ignored
  EXPECT_EQ(a3->author_name, "Carol & Co");
  // Tags are inherited from the question.
  EXPECT_EQ(a2->topics, (std::vector<std::string>{"c++", "xml-parsing"}));
  EXPECT_EQ(a2->title, "");

  // Answer 6 comes before its question 7 in the file and is still accepted.
  const Record* a6 = sink_.Find(Post(6));
  ASSERT_NE(a6, nullptr);
  EXPECT_TRUE(a6->accepted);
  EXPECT_EQ(a6->thread_id, Post(7));
  EXPECT_EQ(a6->topics, (std::vector<std::string>{"meta"}));
  EXPECT_EQ(a6->author_key, "se:mini.stackexchange.com:name:ghost writer");
  EXPECT_EQ(a6->author_name, "Ghost Writer");
}

TEST_F(MiniSiteTest, AuthorsFromUsersXml) {
  // OwnerUserId=-1 (Community) is not a person: indexed with no author.
  const Record* q7 = sink_.Find(Post(7));
  ASSERT_NE(q7, nullptr);
  EXPECT_EQ(q7->author_key, "");
  EXPECT_EQ(q7->author_name, "");
  // A user missing from Users.xml gets a placeholder name.
  const Record* q8 = sink_.Find(Post(8));
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->author_key, "se:mini.stackexchange.com:user:13");
  EXPECT_EQ(q8->author_name, "user 13");
  const Record* a2 = sink_.Find(Post(2));
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(a2->author_name, "Bob");
}

TEST_F(MiniSiteTest, InvalidUtf8IsSanitizedAndKept) {
  const Record* q8 = sink_.Find(Post(8));
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->text, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes and good caf\xC3\xA9");
  for (const BadRecord& b : sink_.bad) EXPECT_EQ(b.message.find("Id=8:"), std::string::npos) << b.message;
}

TEST_F(MiniSiteTest, Comments) {
  const Record* c100 = sink_.Find("se:mini.stackexchange.com:comment:100");
  ASSERT_NE(c100, nullptr);
  EXPECT_EQ(c100->kind, RecordKind::kComment);
  EXPECT_EQ(c100->reply_to, Post(1));
  EXPECT_EQ(c100->thread_id, Post(1));
  EXPECT_EQ(c100->author_key, "se:mini.stackexchange.com:user:11");
  EXPECT_EQ(c100->author_name, "Bob");
  EXPECT_EQ(c100->text, "Which parser?");
  EXPECT_EQ(c100->score, 2);
  EXPECT_EQ(c100->topics, (std::vector<std::string>{"c++", "xml-parsing"}));

  // A comment on an answer: reply_to the answer, thread of the question.
  const Record* c101 = sink_.Find("se:mini.stackexchange.com:comment:101");
  ASSERT_NE(c101, nullptr);
  EXPECT_EQ(c101->reply_to, Post(3));
  EXPECT_EQ(c101->thread_id, Post(1));
  EXPECT_EQ(c101->author_name, "Alice Liddell");

  const Record* c103 = sink_.Find("se:mini.stackexchange.com:comment:103");
  ASSERT_NE(c103, nullptr);
  EXPECT_EQ(c103->thread_id, Post(7));
  EXPECT_EQ(c103->author_key, "se:mini.stackexchange.com:name:old timer");
  EXPECT_EQ(c103->author_name, "Old Timer");
}

TEST_F(MiniSiteTest, BadRowsAreReportedWithFileAndLine) {
  std::vector<std::string> got;
  for (const BadRecord& b : sink_.bad) got.push_back(b.pos + " " + b.reason);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "mini.stackexchange.com/Posts.xml:8 malformed-xml",
                     "mini.stackexchange.com/Posts.xml:13 bad-date",
                     "mini.stackexchange.com/Posts.xml:14 malformed-xml",
                     "mini.stackexchange.com/Comments.xml:7 malformed-xml",
                 }));
  ASSERT_EQ(sink_.bad.size(), 4u);
  EXPECT_NE(sink_.bad[0].message.find("mini.stackexchange.com/Posts.xml:8: row Id=5:"), std::string::npos)
      << sink_.bad[0].message;
  EXPECT_NE(sink_.bad[1].message.find("Posts.xml:13: row Id=11: bad CreationDate"), std::string::npos)
      << sink_.bad[1].message;
  EXPECT_NE(sink_.bad[2].message.find("Posts.xml:14: row Id=10:"), std::string::npos) << sink_.bad[2].message;
  EXPECT_NE(sink_.bad[3].message.find("Comments.xml:7: row Id=104:"), std::string::npos) << sink_.bad[3].message;
  EXPECT_GT(sink_.progress_calls, 0);
}

TEST(StackExchangeReaderTest, OptionsOverrideDefaults) {
  CollectingSink sink;
  ReadOptions options;
  options.source = "se:custom";
  options.community = "acme";
  options.visibility = "internal";
  ASSERT_OK(ReadStackExchange(kMini, options, &sink));
  ASSERT_FALSE(sink.records.empty());
  for (const Record& r : sink.records) {
    EXPECT_EQ(r.source, "se:custom");
    EXPECT_EQ(r.community, "acme");
    EXPECT_EQ(r.visibility, "internal");
  }
}

TEST(StackExchangeReaderTest, SinglePostsFile) {
  CollectingSink sink;
  ASSERT_OK(ReadStackExchange(kMini + "/Posts.xml", ReadOptions(), &sink));
  EXPECT_EQ(sink.Count(RecordKind::kQuestion), 3);
  EXPECT_EQ(sink.Count(RecordKind::kAnswer), 4);
  EXPECT_EQ(sink.Count(RecordKind::kComment), 0);  // only the named file is read
  const Record* q = sink.Find(Post(1));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->author_name, "user 10");  // no Users.xml read
}

TEST(StackExchangeReaderTest, TooLargeRowsAreSkipped) {
  CollectingSink sink;
  ReadOptions options;
  options.max_record_bytes = 200;
  ASSERT_OK(ReadStackExchange(kMini, options, &sink));
  int too_large = 0;
  for (const BadRecord& b : sink.bad) {
    if (b.reason == "too-large") {
      ++too_large;
      EXPECT_NE(b.message.find("row Id="), std::string::npos) << b.message;
    }
  }
  EXPECT_GT(too_large, 0);
  EXPECT_EQ(sink.Find(Post(1)), nullptr);  // the long question
  EXPECT_NE(sink.Find("se:mini.stackexchange.com:comment:100"), nullptr);
}

TEST(StackExchangeReaderTest, TruncatedCompressedFileKeepsWhatWasRead) {
  CollectingSink sink;
  ASSERT_OK(ReadStackExchange(std::string(WK_TEST_DATA_DIR) + "/stackexchange/truncated.stackexchange.com",
                              ReadOptions(), &sink));
  EXPECT_EQ(sink.records.size(), 3u);  // rows 1, 2, 3 are in the complete first zstd frame
  const Record* a3 = sink.Find("se:truncated.stackexchange.com:post:3");
  ASSERT_NE(a3, nullptr);
  EXPECT_TRUE(a3->accepted);
  ASSERT_EQ(sink.bad.size(), 1u);
  EXPECT_EQ(sink.bad[0].reason, "truncated-input");
  EXPECT_NE(sink.bad[0].message.find("Posts.xml.zst:"), std::string::npos) << sink.bad[0].message;
}

TEST(StackExchangeReaderTest, MissingInputFails) {
  CollectingSink sink;
  EXPECT_EQ(
      ReadStackExchange(std::string(WK_TEST_DATA_DIR) + "/stackexchange/no-such-site", ReadOptions(), &sink).code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadStackExchange(std::string(WK_TEST_DATA_DIR) + "/stackexchange", ReadOptions(), &sink).code(),
            absl::StatusCode::kNotFound);  // a directory without Posts.xml
}

TEST(StackExchangeReaderTest, SinkErrorStopsTheRun) {
  CollectingSink sink;
  sink.fail_after = 2;
  absl::Status s = ReadStackExchange(kMini, ReadOptions(), &sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sink.records.size(), 2u);
}

// ---- Real dumps (shared/data/stackexchange), counts from MANIFEST.md ----

struct SiteCounts {
  int questions = 0, answers = 0, comments = 0;
  int accepted = 0;                 // answers flagged accepted
  int accepted_user = 0;            // ... whose author is a real user (OwnerUserId >= 0)
  int accepted_no_author = 0;       // ... owned by Community (-1)
  int name_only_answers = 0;        // answers keyed by OwnerDisplayName
  std::set<std::string> answerers;  // distinct user keys on answers
  int64_t min_time = INT64_MAX, max_time = INT64_MIN;
};

SiteCounts Tally(const CollectingSink& sink, const std::string& site) {
  SiteCounts c;
  absl::flat_hash_map<std::string, const Record*> questions;
  for (const Record& r : sink.records) {
    if (r.kind == RecordKind::kQuestion) questions[r.id] = &r;
  }
  const std::string user_prefix = "se:" + site + ":user:";
  const std::string name_prefix = "se:" + site + ":name:";
  for (const Record& r : sink.records) {
    EXPECT_EQ(r.source, "se:" + site);
    EXPECT_EQ(r.id.rfind("se:" + site + ":", 0), 0u) << r.id;
    switch (r.kind) {
      case RecordKind::kQuestion:
        ++c.questions;
        EXPECT_FALSE(r.title.empty()) << r.id;
        EXPECT_FALSE(r.topics.empty()) << r.id;
        break;
      case RecordKind::kAnswer: {
        ++c.answers;
        auto q = questions.find(r.thread_id);
        EXPECT_TRUE(q != questions.end()) << r.id << " thread " << r.thread_id;
        if (q != questions.end()) {
          EXPECT_EQ(r.topics, q->second->topics) << r.id;
        }
        if (r.author_key.rfind(user_prefix, 0) == 0) c.answerers.insert(r.author_key);
        if (r.author_key.rfind(name_prefix, 0) == 0) ++c.name_only_answers;
        if (r.accepted) {
          ++c.accepted;
          if (r.author_key.rfind(user_prefix, 0) == 0) ++c.accepted_user;
          if (r.author_key.empty()) ++c.accepted_no_author;
          if (q != questions.end()) {
            EXPECT_EQ(q->second->accepted_answer_id, r.id);
          }
        }
        break;
      }
      case RecordKind::kComment:
        ++c.comments;
        EXPECT_TRUE(questions.contains(r.thread_id)) << r.id;
        break;
      default:
        ADD_FAILURE() << "unexpected kind for " << r.id;
    }
    if (r.kind != RecordKind::kComment) {
      c.min_time = std::min(c.min_time, r.timestamp);
      c.max_time = std::max(c.max_time, r.timestamp);
    }
  }
  return c;
}

class RealDumpTest : public ::testing::Test {
 protected:
  void Read(const std::string& site) {
    const std::string dir = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/" + site;
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not present";
    ASSERT_OK(ReadStackExchange(dir, ReadOptions(), &sink_));
    for (const BadRecord& b : sink_.bad) ADD_FAILURE() << b.pos << " " << b.reason << " " << b.message;
    counts_ = Tally(sink_, site);
  }
  CollectingSink sink_;
  SiteCounts counts_;
};

TEST_F(RealDumpTest, Ai) {
  Read("ai.stackexchange.com");
  if (IsSkipped()) return;
  EXPECT_EQ(counts_.questions, 421);
  EXPECT_EQ(counts_.answers, 749);
  EXPECT_EQ(counts_.accepted, 212);
  EXPECT_EQ(counts_.accepted_user, 212);
  EXPECT_EQ(counts_.answerers.size(), 189u);
  EXPECT_EQ(counts_.name_only_answers, 1);
  EXPECT_EQ(counts_.comments, 1165);
  EXPECT_EQ(counts_.min_time, 1470152354);  // 2016-08-02T15:39:14
  EXPECT_EQ(counts_.max_time, 1481416890);  // 2016-12-11T00:41:30
  const Record* q1 = sink_.Find("se:ai.stackexchange.com:post:1");
  ASSERT_NE(q1, nullptr);
  EXPECT_EQ(q1->title, "What is \"backprop\"?");
  EXPECT_EQ(q1->author_name, "kenorb");  // OwnerUserId=8, named in Users.xml
  EXPECT_EQ(q1->topics, (std::vector<std::string>{"neural-networks", "definitions"}));
  EXPECT_EQ(q1->text.find("<p>"), std::string::npos);
  EXPECT_EQ(q1->text.find("&quot;"), std::string::npos);
  EXPECT_GT(sink_.progress_calls, 0);
}

TEST_F(RealDumpTest, Coffee) {
  Read("coffee.stackexchange.com");
  if (IsSkipped()) return;
  EXPECT_EQ(counts_.questions, 225);
  EXPECT_EQ(counts_.answers, 327);
  EXPECT_EQ(counts_.accepted, 105);
  EXPECT_EQ(counts_.accepted_user, 105);
  EXPECT_EQ(counts_.answerers.size(), 70u);
  EXPECT_EQ(counts_.comments, 0);
  EXPECT_EQ(counts_.min_time, 1422389372);  // 2015-01-27T20:09:32
  EXPECT_EQ(counts_.max_time, 1425687667);  // 2015-03-07T00:21:07; the MANIFEST's 23:42:01 is a tag wiki
}

TEST_F(RealDumpTest, MusicMeta) {
  Read("music.meta.stackexchange.com");
  if (IsSkipped()) return;
  EXPECT_EQ(counts_.questions, 708);
  EXPECT_EQ(counts_.answers, 1223);
  // MANIFEST: 258 accepted answers with an OwnerUserId; 6 of them are
  // Community (-1), which this reader indexes without an author.
  EXPECT_EQ(counts_.accepted_user + counts_.accepted_no_author, 258);
  EXPECT_EQ(counts_.accepted_no_author, 6);
  EXPECT_EQ(counts_.accepted, 259);               // plus one by a deleted user (OwnerDisplayName)
  EXPECT_EQ(counts_.answerers.size() + 1, 180u);  // MANIFEST's 180 includes Community
  EXPECT_EQ(counts_.name_only_answers, 23);
}

TEST_F(RealDumpTest, CsTheoryMeta) {
  Read("cstheory.meta.stackexchange.com");
  if (IsSkipped()) return;
  EXPECT_EQ(counts_.questions, 589);
  EXPECT_EQ(counts_.answers, 1322);
  EXPECT_EQ(counts_.accepted, 206);
  EXPECT_EQ(counts_.accepted_user, 206);
  EXPECT_EQ(counts_.answerers.size(), 163u);
  EXPECT_EQ(counts_.name_only_answers, 6);
}

// ---------------------------------------------------------------------------
// Rows laid out by other tools: raw newlines inside attribute values (legal
// XML), one attribute per line, several rows on one line.

std::string ReadWhole(const std::string& path) {
  auto in = InputFile::Open(path);
  EXPECT_TRUE(in.ok()) << in.status();
  if (!in.ok()) return "";
  auto all = (*in)->ReadAll(size_t{1} << 30);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : "";
}

void WriteWhole(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// `&#xA;` becomes a raw newline and every attribute goes on its own line.
std::string SpreadRows(const std::string& xml) {
  return absl::StrReplaceAll(xml, {{"&#xA;", "\n"}, {"\" ", "\"\n      "}});
}

void ExpectSameRecords(const CollectingSink& want, const CollectingSink& got) {
  ASSERT_EQ(got.records.size(), want.records.size());
  for (size_t i = 0; i < want.records.size(); ++i) {
    const Record& a = want.records[i];
    const Record& b = got.records[i];
    EXPECT_EQ(b.id, a.id);
    EXPECT_EQ(b.kind, a.kind) << a.id;
    EXPECT_EQ(b.author_key, a.author_key) << a.id;
    EXPECT_EQ(b.author_name, a.author_name) << a.id;
    EXPECT_EQ(b.timestamp, a.timestamp) << a.id;
    EXPECT_EQ(b.title, a.title) << a.id;
    EXPECT_EQ(b.text, a.text) << a.id;
    EXPECT_EQ(b.topics, a.topics) << a.id;
    EXPECT_EQ(b.thread_id, a.thread_id) << a.id;
    EXPECT_EQ(b.reply_to, a.reply_to) << a.id;
    EXPECT_EQ(b.accepted, a.accepted) << a.id;
    EXPECT_EQ(b.score, a.score) << a.id;
  }
}

// The ai.stackexchange.com dump (CRLF, BOM, Users and Comments too),
// re-serialised at test time with raw newlines in values, indexes the same
// records as the original.
TEST(MultiLineRowsTest, ResavedRealDumpIndexesTheSameRecords) {
  const std::string site = "ai.stackexchange.com";
  const std::string dir = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/" + site;
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not present";
  const std::string tmp = (std::filesystem::temp_directory_path() /
                           ("wk-se-multiline-" + std::to_string(::getpid())) / site)
                              .string();
  std::filesystem::remove_all(tmp);
  size_t raw_newlines = 0;
  for (const char* name : {"Posts.xml", "Users.xml", "Comments.xml"}) {
    std::string file = dir + "/" + name;
    if (!std::filesystem::exists(file)) file += ".zst";
    const std::string original = ReadWhole(file);
    ASSERT_FALSE(original.empty()) << file;
    const std::string spread = SpreadRows(original);
    raw_newlines += std::count(spread.begin(), spread.end(), '\n') - std::count(original.begin(), original.end(), '\n');
    WriteWhole(tmp + "/" + name, spread);
  }
  EXPECT_GT(raw_newlines, 10000u);  // the rewrite did spread the rows
  CollectingSink want, got;
  ASSERT_OK(ReadStackExchange(dir, ReadOptions(), &want));
  ASSERT_OK(ReadStackExchange(tmp, ReadOptions(), &got));
  std::filesystem::remove_all(std::filesystem::path(tmp).parent_path());
  EXPECT_TRUE(got.bad.empty()) << got.bad.front().pos << " " << got.bad.front().message;
  EXPECT_EQ(want.records.size(), 421u + 749u + 1165u);
  ExpectSameRecords(want, got);
}

// A bad row among multi-line rows costs only that row, and is reported at
// the line where it starts.
TEST(MultiLineRowsTest, BadRowAmongMultiLineRowsCostsOnlyThatRow) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("wk-se-badrow-" + std::to_string(::getpid())) / "multi.stackexchange.com")
                              .string();
  std::filesystem::remove_all(dir);
  WriteWhole(dir + "/Posts.xml",
             "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<posts>\n"
             "  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00.000\"\n"   
             "       Title=\"How to\nsplit rows\" Tags=\"&lt;xml&gt;\" OwnerUserId=\"7\"\n"
             "       Body=\"&lt;pre&gt;&lt;code&gt;line one\nline two\n&lt;/code&gt;&lt;/pre&gt;\" />\n"
             "  <row Id=\"2\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-02T00:00:00.000\"\n"
             "       Body=\"a value whose closing quote is missing\n"
             "       and goes on />\n"
             "  <row\n"
             "    Id=\"3\"\n"
             "    PostTypeId=\"2\"\n"
             "    ParentId=\"1\"\n"
             "    CreationDate=\"2020-01-03T00:00:00.000\"\n"
             "    OwnerUserId=\"8\"\n"
             "    Body=\"&lt;p&gt;Use\nexpat.&lt;/p&gt;\"\n"
             "  />\n"
             "  <row Id=\"4\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-04T00:00:00.000\" "
             "Body=\"x &amp;bogus\" Bad=\"1\" Bad=\"2\"\n/>"  // a duplicate attribute
             "<row Id=\"5\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-05T00:00:00.000\" "
             "OwnerUserId=\"9\" Body=\"&lt;p&gt;Two rows on one line.&lt;/p&gt;\"/>"
             "<row Id=\"6\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-06T00:00:00.000\" "
             "OwnerUserId=\"9\" Body=\"&lt;p&gt;Three.&lt;/p&gt;\"></row>\n"
             "</posts>\n");
  CollectingSink sink;
  ASSERT_OK(ReadStackExchange(dir, ReadOptions(), &sink));
  std::vector<std::string> ids;
  for (const Record& r : sink.records) ids.push_back(r.id.substr(r.id.rfind(':') + 1));
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "3", "5", "6"}));
  std::vector<std::string> bad;
  for (const BadRecord& b : sink.bad) bad.push_back(b.pos + " " + b.reason);
  EXPECT_EQ(bad, (std::vector<std::string>{"multi.stackexchange.com/Posts.xml:9 malformed-xml",
                                           "multi.stackexchange.com/Posts.xml:21 malformed-xml"}));
  ASSERT_EQ(sink.bad.size(), 2u);
  EXPECT_NE(sink.bad[0].message.find("row Id=2"), std::string::npos) << sink.bad[0].message;
  EXPECT_NE(sink.bad[1].message.find("row Id=4"), std::string::npos) << sink.bad[1].message;
  const Record* q = sink.Find("se:multi.stackexchange.com:post:1");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->title, "How to\nsplit rows");
  EXPECT_NE(q->text.find("line one\nline two"), std::string::npos) << q->text;
  EXPECT_EQ(q->topics, std::vector<std::string>{"xml"});
  const Record* a = sink.Find("se:multi.stackexchange.com:post:3");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->author_key, "se:multi.stackexchange.com:user:8");
  EXPECT_EQ(a->thread_id, q->id);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

}  // namespace
}  // namespace whoknows::indexer
