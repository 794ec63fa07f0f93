#include <string>
#include <vector>

#include "test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::Bad;
using testing::CollectSink;

const std::string kFile = std::string(WK_TEST_DATA_DIR) + "/jsonl/team-chat.jsonl";

class JsonlFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(ReadJsonl(kFile, ReadOptions(), &sink_)); }
  CollectSink sink_;
};

TEST_F(JsonlFileTest, GoodRecords) {
  ASSERT_EQ(sink_.records.size(), 5u);
  const Record& q = sink_.records[0];
  EXPECT_EQ(q.id, "jsonl:team-chat:1");
  EXPECT_EQ(q.source, "jsonl:team-chat");
  EXPECT_EQ(q.kind, RecordKind::kQuestion);
  EXPECT_EQ(q.author_key, "mail:alice@example.org");
  EXPECT_EQ(q.author_name, "Alice");
  EXPECT_EQ(q.timestamp, 1451606400);
  EXPECT_EQ(q.title, "Xapian tuning");
  EXPECT_EQ(q.text, "How to tune BM25?");
  EXPECT_THAT(q.topics, ElementsAre("search", "xapian"));
  EXPECT_THAT(q.mentions, ElementsAre("mail:bob@example.org", "slack:acme:U2"));
  EXPECT_EQ(q.thread_id, q.id);
  EXPECT_EQ(q.reply_to, "");
  EXPECT_EQ(q.score, 3);
  EXPECT_EQ(q.community, "jsonl:team-chat");
  EXPECT_EQ(q.visibility, "internal");

  const Record& a = sink_.records[1];
  EXPECT_EQ(a.id, "jsonl:team-chat:2");
  EXPECT_EQ(a.kind, RecordKind::kAnswer);
  EXPECT_EQ(a.author_key, "jsonl:team-chat:user:bob");
  EXPECT_EQ(a.timestamp, 1451610000);
  EXPECT_EQ(a.thread_id, "jsonl:team-chat:1");
  EXPECT_EQ(a.reply_to, "jsonl:team-chat:1");
  EXPECT_TRUE(a.accepted);
  EXPECT_EQ(a.score, -2);

  const Record& d = sink_.records[2];
  EXPECT_EQ(d.id, "jsonl:team-chat:10");  // already source-scoped: not doubled
  EXPECT_EQ(d.author_key, "mail:dan@example.org");
  EXPECT_EQ(d.author_name, "");
  EXPECT_EQ(d.timestamp, 1451696645);           // 03:04:05.5+02:00
  EXPECT_EQ(d.text, "caf\xEF\xBF\xBD latin1");  // bad UTF-8 replaced, record kept
  EXPECT_EQ(d.community, "eng");
  EXPECT_EQ(d.visibility, "public");

  const Record& w = sink_.records[3];
  EXPECT_EQ(w.source, "wiki");
  EXPECT_EQ(w.id, "wiki:11");
  EXPECT_EQ(w.author_key, "wiki:user:erin");
  EXPECT_EQ(w.reply_to, "wiki:3");
  EXPECT_THAT(w.mentions, ElementsAre("wiki:user:frank"));
  EXPECT_EQ(w.timestamp, 1900000000);
  EXPECT_EQ(w.community, "wiki");

  const Record& c = sink_.records[4];
  EXPECT_EQ(c.kind, RecordKind::kChat);
  EXPECT_EQ(c.timestamp, 1451779200);  // CRLF line, bare date
}

TEST_F(JsonlFileTest, EveryErrorPathNamesFileAndLine) {
  std::vector<std::string> got;
  for (const Bad& b : sink_.bad) {
    got.push_back(b.reason + " " + b.pos.substr(b.pos.rfind('/') + 1));
    EXPECT_THAT(b.message, HasSubstr(b.pos + ": ")) << b.message;
  }
  EXPECT_THAT(
      got, ElementsAre("malformed-json team-chat.jsonl:4", "malformed-record team-chat.jsonl:5",
                       "missing-field team-chat.jsonl:6", "missing-field team-chat.jsonl:7",
                       "missing-field team-chat.jsonl:8", "bad-field team-chat.jsonl:9", "bad-field team-chat.jsonl:10",
                       "bad-field team-chat.jsonl:11", "bad-field team-chat.jsonl:12", "bad-field team-chat.jsonl:16",
                       "bad-field team-chat.jsonl:17"));
  ASSERT_EQ(sink_.bad.size(), 11u);
  EXPECT_THAT(sink_.bad[2].message, HasSubstr("\"id\""));
  EXPECT_THAT(sink_.bad[3].message, HasSubstr("\"author\""));
  EXPECT_THAT(sink_.bad[4].message, HasSubstr("\"timestamp\""));
  EXPECT_THAT(sink_.bad[5].message, HasSubstr("yesterday"));
  EXPECT_THAT(sink_.bad[6].message, HasSubstr("tweet"));
  EXPECT_THAT(sink_.bad[7].message, HasSubstr("\"score\""));
  EXPECT_THAT(sink_.bad[8].message, HasSubstr("\"tags\""));
  EXPECT_THAT(sink_.bad[10].message, HasSubstr("\"accepted\""));
}

TEST(JsonlTest, TooLargeLines) {
  CollectSink sink;
  ReadOptions options;
  options.max_record_bytes = 100;  // lines 1, 3, 13 and 14 are longer
  ASSERT_OK(ReadJsonl(kFile, options, &sink));
  ASSERT_FALSE(sink.bad.empty());
  EXPECT_EQ(sink.bad[0].reason, "too-large");
  EXPECT_EQ(sink.bad[0].pos, kFile + ":1");
  int too_large = 0;
  for (const Bad& b : sink.bad) too_large += b.reason == "too-large";
  EXPECT_EQ(too_large, 4);  // lines 1, 3, 13 and 14 exceed 100 bytes
  // Line numbering continues correctly after a skipped long line.
  EXPECT_EQ(sink.bad[1].pos, kFile + ":3");
  EXPECT_EQ(sink.records.size(), 1u);
}

TEST(JsonlTest, SourceOptionReplacesDefault) {
  CollectSink sink;
  ReadOptions options;
  options.source = "chat";
  options.visibility = "partner";
  options.community = "team";
  ASSERT_OK(ReadJsonl(kFile, options, &sink));
  ASSERT_EQ(sink.records.size(), 5u);
  EXPECT_EQ(sink.records[0].id, "chat:1");
  EXPECT_EQ(sink.records[0].visibility, "partner");
  EXPECT_EQ(sink.records[0].community, "team");
  EXPECT_EQ(sink.records[1].author_key, "chat:user:bob");
  // Per-record fields still win over the options.
  EXPECT_EQ(sink.records[2].visibility, "public");
  EXPECT_EQ(sink.records[2].community, "eng");
}

TEST(JsonlTest, MissingFile) {
  CollectSink sink;
  absl::Status s = ReadJsonl(kFile + ".nope", ReadOptions(), &sink);
  EXPECT_FALSE(s.ok());
}

TEST(ParseJsonRecordTest, Good) {
  ASSERT_OK_AND_ASSIGN(Record r, ParseJsonRecord(R"({"id":"a1","author":"x@y.org","timestamp":"2020-01-01T00:00:00Z",
      "text":"hi","kind":"mail"})",
                                                 ReadOptions(), "grpc:ingest"));
  EXPECT_EQ(r.id, "grpc:ingest:a1");
  EXPECT_EQ(r.source, "grpc:ingest");
  EXPECT_EQ(r.kind, RecordKind::kMail);
  EXPECT_EQ(r.author_key, "mail:x@y.org");
  EXPECT_EQ(r.timestamp, 1577836800);
  EXPECT_EQ(r.community, "grpc:ingest");
  EXPECT_EQ(r.visibility, "internal");
}

TEST(ParseJsonRecordTest, ErrorsAreInvalidArgumentWithReason) {
  struct Case {
    const char* json;
    const char* want;
  };
  const Case cases[] = {
      {"{", "malformed-json"},
      {"\"str\"", "malformed-record"},
      {R"({"author":"a","timestamp":1})", "missing required field \"id\""},
      {R"({"id":"1","timestamp":1})", "missing required field \"author\""},
      {R"({"id":"1","author":"a"})", "missing required field \"timestamp\""},
      {R"({"id":"1","author":"a","timestamp":true})", "bad-field"},
      {R"({"id":"1","author":"a","timestamp":1,"mentions":[1]})", "\"mentions\""},
      {R"({"id":"1","author":"a","timestamp":1,"score":3000000000})", "\"score\""},
      {R"({"id":"1","author":"a","timestamp":1,"title":5})", "\"title\""},
      {R"({"id":"1","author":"","timestamp":1})", "\"author\" is empty"},
      {R"({"id":"","author":"a","timestamp":1})", "\"id\" is empty"},
      {R"({"id":"1","author":"a","timestamp":1e300})", "out of range"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Record> r = ParseJsonRecord(c.json, ReadOptions(), "s");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << c.json;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.want)) << c.json;
  }
}

TEST(ParseJsonRecordTest, NeverThrowsOnOddInput) {
  const char* inputs[] = {"",
                          "null",
                          "[]",
                          "{}",
                          "{\"id\":{}}",
                          "\xff\xfe",
                          "{\"id\":\"1\",\"author\":[],\"timestamp\":1}",
                          "{\"id\":\"1\",\"author\":\"a\",\"timestamp\":-5}"};
  for (const char* in : inputs) {
    absl::StatusOr<Record> r = ParseJsonRecord(in, ReadOptions(), "s");
    (void)r.ok();
  }
}

}  // namespace
}  // namespace whoknows::indexer
