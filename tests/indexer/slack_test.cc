#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
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
using ::testing::UnorderedElementsAre;

using testing::Bad;
using testing::CollectSink;

const std::string kAcme = std::string(WK_TEST_DATA_DIR) + "/slack/acme";
constexpr int64_t kT = 1451606400;  // 2016-01-01T00:00:00Z

std::string Id(const std::string& channel, int64_t off) {
  return "slack:acme:" + channel + ":" + std::to_string(kT + off) + ".000100";
}

class SlackFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(ReadSlackExport(kAcme, ReadOptions(), &sink_)); }
  CollectSink sink_;
};

TEST_F(SlackFixtureTest, ContentMessagesOnly) {
  std::vector<std::string> ids;
  for (const Record& r : sink_.records) ids.push_back(r.id);
  // Channels in name order (data-viz, general, meetup, meetup-); by ts within a file.
  EXPECT_THAT(ids, ElementsAre(Id("general", 0), Id("general", 600), Id("general", 7200), Id("general", 7500),
                               Id("general", 7800), Id("general", 2 * 86400), Id("general", 2 * 86400 + 60),
                               Id("general", 2 * 86400 + 120), Id("meetup", 31 * 86400), Id("meetup-", 31 * 86400),
                               Id("meetup-", 31 * 86400 + 300)));
  for (const Record& r : sink_.records) {
    EXPECT_EQ(r.kind, RecordKind::kChat);
    EXPECT_EQ(r.source, "slack:acme");
    EXPECT_EQ(r.community, "acme");
    EXPECT_EQ(r.visibility, "internal");
  }
}

TEST_F(SlackFixtureTest, BadRecordsNameFileAndIndex) {
  std::vector<std::string> got;
  for (const Bad& b : sink_.bad) got.push_back(b.reason + " " + b.pos);
  EXPECT_THAT(got, UnorderedElementsAre("malformed-record " + kAcme + "/data-viz/2016-01-01.json#0",
                                        "malformed-record " + kAcme + "/general/2016-01-01.json#5",
                                        "missing-field " + kAcme + "/general/2016-01-01.json#9",
                                        "malformed-json " + kAcme + "/general/2016-01-02.json#0"));
  for (const Bad& b : sink_.bad) EXPECT_THAT(b.message, HasSubstr(b.pos));
}

TEST_F(SlackFixtureTest, TextMentionsAndTopics) {
  const Record* r = sink_.Find(Id("general", 0));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->timestamp, kT);
  EXPECT_EQ(r->author_key, "slack:acme:U1");
  EXPECT_EQ(r->author_name, "Alice Archer");
  EXPECT_EQ(r->text,
            "Hello @bob & @carol, see D3 and https://example.com/page#frag #DataViz #d3 in #data-viz cc @channel");
  EXPECT_THAT(r->mentions, ElementsAre("slack:acme:U2", "slack:acme:U3"));
  // #general (is_general) is no topic, as a list's name is not; #hashtags are.
  EXPECT_THAT(r->topics, ElementsAre("dataviz", "d3", "data-viz"));

  const Record* reply = sink_.Find(Id("general", 600));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->author_name, "bob");  // real_name is "" -> name
  EXPECT_EQ(reply->text, "thanks @alice, 1 < 2 > 0");
  EXPECT_THAT(reply->mentions, ElementsAre("slack:acme:U1"));
}

TEST_F(SlackFixtureTest, FileShareAndComment) {
  const Record* share = sink_.Find(Id("general", 7500));
  ASSERT_NE(share, nullptr);  // "bot_id": null is not a bot
  EXPECT_EQ(share->author_key, "slack:acme:U1");
  EXPECT_EQ(share->text, "@alice uploaded a file: chart.png");
  EXPECT_TRUE(share->mentions.empty());  // self-mention dropped

  const Record* comment = sink_.Find(Id("general", 7800));
  ASSERT_NE(comment, nullptr);
  EXPECT_EQ(comment->author_key, "slack:acme:U2");
  EXPECT_EQ(comment->author_name, "bob");
  EXPECT_EQ(comment->text, "Nice chart @alice");
  EXPECT_THAT(comment->mentions, ElementsAre("slack:acme:U1"));
}

TEST_F(SlackFixtureTest, InferredConversations) {
  // 0 and +10 min: one conversation; +2 h starts a new one, continued by the
  // file share (+5 min) and the file comment (+5 min).
  const Record* a = sink_.Find(Id("general", 0));
  const Record* b = sink_.Find(Id("general", 600));
  const Record* c = sink_.Find(Id("general", 7200));
  const Record* d = sink_.Find(Id("general", 7500));
  const Record* e = sink_.Find(Id("general", 7800));
  ASSERT_TRUE(a && b && c && d && e);
  EXPECT_EQ(a->thread_id, a->id);
  EXPECT_EQ(a->reply_to, "");
  EXPECT_EQ(b->thread_id, a->id);
  EXPECT_EQ(b->reply_to, a->id);
  EXPECT_EQ(c->thread_id, c->id);
  EXPECT_EQ(c->reply_to, "");
  EXPECT_EQ(d->thread_id, c->id);
  EXPECT_EQ(d->reply_to, c->id);
  EXPECT_EQ(e->thread_id, c->id);
  EXPECT_EQ(e->reply_to, d->id);
}

TEST_F(SlackFixtureTest, ExplicitThreads) {
  const Record* root = sink_.Find(Id("general", 2 * 86400));
  const Record* reply = sink_.Find(Id("general", 2 * 86400 + 60));
  const Record* later = sink_.Find(Id("general", 2 * 86400 + 120));
  ASSERT_TRUE(root && reply && later);
  EXPECT_EQ(root->thread_id, root->id);
  EXPECT_EQ(root->reply_to, "");
  EXPECT_EQ(reply->thread_id, root->id);
  EXPECT_EQ(reply->reply_to, root->id);
  EXPECT_EQ(reply->author_name, "Dave Dune");
  // Unthreaded, 2 minutes after the root: inferred into the root's conversation.
  EXPECT_EQ(later->thread_id, root->id);
  EXPECT_EQ(later->reply_to, root->id);
  EXPECT_EQ(later->author_key, "slack:acme:U9");
  EXPECT_EQ(later->author_name, "U9");  // not in users.json
}

TEST_F(SlackFixtureTest, SimilarChannelNamesStayDistinct) {
  const Record* m = sink_.Find(Id("meetup", 31 * 86400));
  const Record* md = sink_.Find(Id("meetup-", 31 * 86400));
  ASSERT_TRUE(m && md);
  EXPECT_EQ(m->text, "in meetup");
  EXPECT_EQ(md->text, "in meetup dash");
  EXPECT_THAT(m->topics, ElementsAre("meetup"));
  EXPECT_THAT(md->topics, ElementsAre("meetup-"));
  // Conversation state is per channel: the meetup- message starts its own.
  EXPECT_EQ(md->thread_id, md->id);
  const Record* md2 = sink_.Find(Id("meetup-", 31 * 86400 + 300));
  ASSERT_NE(md2, nullptr);
  EXPECT_EQ(md2->reply_to, md->id);
}

TEST(SlackTest, OptionsOverrideDefaults) {
  CollectSink sink;
  ReadOptions options;
  options.community = "acme-eng";
  options.visibility = "partner";
  ASSERT_OK(ReadSlackExport(kAcme, options, &sink));
  ASSERT_FALSE(sink.records.empty());
  for (const Record& r : sink.records) {
    EXPECT_EQ(r.community, "acme-eng");
    EXPECT_EQ(r.visibility, "partner");
  }
}

TEST(SlackTest, TrailingSlashKeepsWorkspaceName) {
  CollectSink sink;
  ASSERT_OK(ReadSlackExport(kAcme + "/", ReadOptions(), &sink));
  ASSERT_FALSE(sink.records.empty());
  EXPECT_EQ(sink.records[0].source, "slack:acme");
}

TEST(SlackTest, NotADirectory) {
  CollectSink sink;
  absl::Status s = ReadSlackExport(kAcme + "/users.json", ReadOptions(), &sink);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("users.json"));
}

// The default channels are known by channels.json: "is_general", the name
// "random", or Slack's default purpose of #random under another name.
TEST(SlackTest, DefaultChannelsAreNotTopics) {
  testing::TempDir dir;
  const std::string ws = dir.Sub("ws");
  std::filesystem::create_directories(ws);
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  };
  write(ws + "/channels.json",
        R"([{"id": "C1", "name": "all-hands", "is_general": true},
            {"id": "C2", "name": "random"},
            {"id": "C3", "name": "chatter", "purpose": {"value": "A place for non-work-related flimflam, faffing"}},
            {"id": "C4", "name": "d3", "is_general": false, "purpose": {"value": "A place for d3"}}])");
  for (const char* c : {"all-hands", "random", "chatter", "d3", "no-metadata"}) {
    std::filesystem::create_directories(ws + "/" + c);
    write(ws + "/" + c + "/2016-01-01.json",
          R"([{"type": "message", "user": "U1", "text": "hi #maps", "ts": "1451606400.000100"}])");
  }
  CollectSink sink;
  ASSERT_OK(ReadSlackExport(ws, ReadOptions(), &sink));
  std::map<std::string, std::vector<std::string>> topics;
  for (const Record& r : sink.records) topics[r.id.substr(9, r.id.rfind(':') - 9)] = r.topics;
  EXPECT_THAT(topics["all-hands"], ElementsAre("maps"));
  EXPECT_THAT(topics["random"], ElementsAre("maps"));
  EXPECT_THAT(topics["chatter"], ElementsAre("maps"));
  EXPECT_THAT(topics["d3"], ElementsAre("d3", "maps"));
  EXPECT_THAT(topics["no-metadata"], ElementsAre("no-metadata", "maps"));
}

// Real data: shared/data/slack/houstondatavis (see MANIFEST.md section 4).
TEST(SlackRealDataTest, HoustonDataVis) {
  const std::string path = std::string(WK_SHARED_DATA_DIR) + "/slack/houstondatavis";
  if (!std::filesystem::exists(path + "/users.json")) GTEST_SKIP() << "missing " << path;
  CollectSink sink;
  ASSERT_OK(ReadSlackExport(path, ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty()) << sink.bad[0].pos << " " << sink.bad[0].message;
  // 964 ordinary + 61 file_share + 6 file_comment. The only bot_id that is
  // not null is on the bot_add event (not content), so no content is dropped.
  EXPECT_EQ(sink.records.size(), 964u + 61u + 6u);
  std::set<std::string> authors, ids, channels;
  std::map<std::string, int> per_channel;
  int replies = 0;
  for (const Record& r : sink.records) {
    ASSERT_FALSE(r.author_key.empty()) << r.id;
    EXPECT_FALSE(r.author_name.empty()) << r.id;
    authors.insert(r.author_key);
    ids.insert(r.id);
    // id "slack:houstondatavis:<channel>:<ts>"
    const std::string channel = r.id.substr(21, r.id.rfind(':') - 21);
    channels.insert(channel);
    ++per_channel[channel];
    // #general (is_general) and "meetup-" (Slack's default #random purpose) are
    // the workspace's default channels: no topic; every other channel is one.
    const bool named = std::find(r.topics.begin(), r.topics.end(), channel) != r.topics.end();
    EXPECT_EQ(named, channel != "general" && channel != "meetup-") << r.id;
    EXPECT_GE(r.timestamp, 1433548800);  // 2015-06-06
    EXPECT_LT(r.timestamp, 1469664000);  // 2016-07-28
    EXPECT_EQ(r.text.find("<@"), std::string::npos) << r.id;
    if (!r.reply_to.empty()) ++replies;
  }
  EXPECT_EQ(authors.size(), 32u);
  EXPECT_EQ(ids.size(), sink.records.size());
  // 16 channels; "meetup" holds only events, "meetup-" 74 content messages.
  EXPECT_EQ(channels.size(), 15u);
  EXPECT_EQ(per_channel.count("meetup"), 0u);
  EXPECT_EQ(per_channel["meetup-"], 74);
  EXPECT_EQ(per_channel["general"], 403);
  // Conversations inferred with the 30-minute rule (checked independently with
  // a short Python script over the same files): 385 start one, 646 continue one.
  EXPECT_EQ(replies, 646);
  int roots = 0;
  for (const Record& r : sink.records) roots += r.thread_id == r.id;
  EXPECT_EQ(roots, 385);
}

}  // namespace
}  // namespace whoknows::indexer
