// Person-topic strength (engine/topic_strength.cc) and the snapshot's one
// topic vocabulary (spellings merged by indexer::TopicKey).
#include "whoknows/engine/topic_strength.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fixtures.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;
using testing::Corpus;
using testing::kDay;
using testing::kT0;

const PersonTopicStrength* Find(const std::vector<PersonTopicStrength>& v, const Snapshot& s, std::string_view topic) {
  for (const PersonTopicStrength& e : v) {
    if (s.topic_name(e.topic) == topic) return &e;
  }
  return nullptr;
}

size_t Rank(const std::vector<PersonTopicStrength>& v, const Snapshot& s, std::string_view topic) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (s.topic_name(v[i].topic) == topic) return i;
  }
  return v.size();
}

// Mail threads started by "zed"; "ann" replies. Two replies on "lapack" three
// years before the newest document, two on "graphics" last month.
Corpus RecencyCorpus() {
  Corpus c;
  const int64_t old_t = kT0 - 3 * 365 * kDay, new_t = kT0 - 30 * kDay;
  int n = 0;
  auto thread = [&](int64_t t, const std::string& topic) {
    const std::string root = "m" + std::to_string(n++), reply = "m" + std::to_string(n++);
    c.Add(RecordKind::kMail, root, "zed", t, root, "", {topic});
    c.Add(RecordKind::kMail, reply, "ann", t + 3600, root, root, {topic});
  };
  thread(old_t, "lapack");
  thread(old_t + kDay, "lapack");
  thread(new_t, "graphics");
  thread(new_t + kDay, "graphics");
  c.Add(RecordKind::kMail, "last", "zed", kT0, "last", "", {"other"});
  return c;
}

TEST(TopicStrengthTest, RecentTopicOutranksOldOneWithTheSameCount) {
  Corpus c = RecencyCorpus();
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  const auto v = PersonTopicStrengths(*snap, snap->FindPerson("ann"));
  const PersonTopicStrength* old_topic = Find(v, *snap, "lapack");
  const PersonTopicStrength* new_topic = Find(v, *snap, "graphics");
  ASSERT_NE(old_topic, nullptr);
  ASSERT_NE(new_topic, nullptr);
  EXPECT_EQ(old_topic->docs, 2u);
  EXPECT_EQ(new_topic->docs, 2u);
  EXPECT_LT(Rank(v, *snap, "graphics"), Rank(v, *snap, "lapack"));
  // Three half-lives (365 days) apart: about an eighth.
  // Each document 0.1 + 0.9 x decay: 2 x (0.1 + 0.9 x 2^-3) against 2 x (0.1 + 0.9 x 2^-(30/365)).
  EXPECT_NEAR(old_topic->strength / new_topic->strength, 0.4252 / 1.9020, 0.001);
  EXPECT_EQ(old_topic->by_role[static_cast<size_t>(TopicRole::kReplied)], 2u);
  EXPECT_EQ(old_topic->last_active, kT0 - 3 * 365 * kDay + kDay + 3600);
  // Trend over 365-day windows: lapack is older than both windows, graphics is recent.
  EXPECT_EQ(old_topic->trend, TopicTrend::kInactive);
  EXPECT_EQ(new_topic->recent, 2u);
  EXPECT_EQ(new_topic->trend, TopicTrend::kRising);
  // With no decay the two are equal: recency is what separates them.
  TopicStrengthOptions flat;
  flat.half_life_days = 0;
  const auto f = PersonTopicStrengths(*snap, snap->FindPerson("ann"), flat);
  EXPECT_DOUBLE_EQ(Find(f, *snap, "lapack")->strength, Find(f, *snap, "graphics")->strength);
  // The per-query bound reads only the newest documents.
  const uint32_t topics[] = {snap->FindTopic("lapack"), snap->FindTopic("graphics")};
  TopicStrengthOptions newest;
  newest.max_docs = 2;
  const auto b = TopicStrengthsOf(*snap, snap->FindPerson("ann"), topics, newest);
  EXPECT_EQ(b[0], 0.0);
  EXPECT_DOUBLE_EQ(b[1], new_topic->strength);
}

TEST(TopicStrengthTest, AnsweringOutweighsAsking) {
  Corpus c;
  // "bea" asks two questions on "sql" and answers two on "regex", all at the same times.
  c.Question("q1", "bea", kT0, {"sql"});
  c.Question("q2", "bea", kT0 + kDay, {"sql"});
  c.Question("q3", "cid", kT0, {"regex"});
  c.Question("q4", "cid", kT0 + kDay, {"regex"});
  c.Answer("a3", "q3", "bea", kT0);
  c.Answer("a4", "q4", "bea", kT0 + kDay);
  // On "sql", "cid" answered as often as "bea" asked.
  c.Answer("a1", "q1", "cid", kT0);
  c.Answer("a2", "q2", "cid", kT0 + kDay);
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  const auto v = PersonTopicStrengths(*snap, snap->FindPerson("bea"));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(snap->topic_name(v[0].topic), "regex");
  EXPECT_EQ(v[0].by_role[static_cast<size_t>(TopicRole::kAnswered)], 2u);
  EXPECT_EQ(v[1].by_role[static_cast<size_t>(TopicRole::kAsked)], 2u);
  EXPECT_GT(v[0].strength, 2 * v[1].strength);
  // In topic "sql", the answerer ranks above the asker with the same count.
  const uint32_t sql = snap->FindTopic("sql");
  std::vector<TopicPersonStrength> in_sql;
  for (const TopicPersonStrength& e : AllTopicStrengths(*snap)) {
    if (e.topic == sql) in_sql.push_back(e);
  }
  ASSERT_EQ(in_sql.size(), 2u);
  EXPECT_EQ(snap->person(in_sql[0].person).id, "cid");
  EXPECT_EQ(in_sql[0].docs, in_sql[1].docs);
  // TopicStrengthsOf agrees with the full list, in the order asked.
  const uint32_t topics[] = {snap->FindTopic("sql"), snap->FindTopic("regex")};
  const auto one = TopicStrengthsOf(*snap, snap->FindPerson("bea"), topics);
  EXPECT_DOUBLE_EQ(one[0], v[1].strength);
  EXPECT_DOUBLE_EQ(one[1], v[0].strength);
}

TEST(TopicStrengthTest, HiddenDocumentsAddNothing) {
  Corpus c;
  c.Question("q1", "ann", kT0, {"secret"}, "staff");
  c.Question("q2", "ann", kT0, {"open"}, "public");
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  TopicStrengthOptions o;
  o.group_mask = snap->GroupMask(std::vector<std::string>{"public"});
  const auto v = PersonTopicStrengths(*snap, snap->FindPerson("ann"), o);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(snap->topic_name(v[0].topic), "open");
}

TEST(TopicStrengthTest, TrendNeedsADifferenceOfTwoAndAHalf) {
  EXPECT_EQ(TrendOf(0, 0), TopicTrend::kInactive);
  EXPECT_EQ(TrendOf(1, 0), TopicTrend::kSteady);
  EXPECT_EQ(TrendOf(3, 1), TopicTrend::kRising);
  EXPECT_EQ(TrendOf(11, 10), TopicTrend::kSteady);
  EXPECT_EQ(TrendOf(1, 4), TopicTrend::kDeclining);
}

TEST(TopicVocabularyTest, SpellingsOfOneTopicMergeWithTheTagAsDisplay) {
  Corpus c;
  c.Question("q1", "ann", kT0, {"neural-networks"});
  c.Question("q2", "ann", kT0, {"neural-networks", "Neural Networks"});
  // Derived from mail text (marked so in the index), on more documents than the tag.
  for (int i = 0; i < 4; ++i) {
    c.Add(RecordKind::kMail, "m" + std::to_string(i), "bob", kT0, "", "", {"neural-network"});
  }
  c.Question("q3", "cid", kT0, {"regex"});
  SnapshotOptions so;
  so.derived_topics = {"neural-network"};
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}, so));
  ASSERT_EQ(snap->num_topics(), 2u);
  const uint32_t t = snap->FindTopic("neural network");
  ASSERT_NE(t, kNone);
  EXPECT_EQ(snap->topic_name(t), "neural-networks");  // the tag, though the derived spelling has more documents
  EXPECT_EQ(snap->topic_key(t), "neural network");
  for (const char* spelling : {"neural-networks", "Neural Networks", "neural-network", "NEURAL_NETWORK", "neural networks"}) {
    EXPECT_EQ(snap->FindTopic(spelling), t) << spelling;
  }
  EXPECT_EQ(snap->FindTopic("neural"), kNone);
  const auto sp = snap->TopicSpellings(t);
  EXPECT_EQ(std::vector<std::string>(sp.begin(), sp.end()),
            (std::vector<std::string>{"Neural Networks", "neural-network", "neural-networks"}));
  EXPECT_EQ(snap->topic_doc_count(t), 6u);  // a document with two spellings counts once
  // Both people are in the one topic.
  EXPECT_EQ(PersonTopicStrengths(*snap, snap->FindPerson("bob"))[0].topic, t);
  EXPECT_EQ(PersonTopicStrengths(*snap, snap->FindPerson("ann"))[0].topic, t);
  EXPECT_EQ(PersonTopicStrengths(*snap, snap->FindPerson("ann"))[0].docs, 2u);
  // Without the derived list, the most used spelling is the display form.
  ASSERT_OK_AND_ASSIGN(auto plain, BuildSnapshot(c.docs, {}));
  EXPECT_EQ(plain->topic_name(plain->FindTopic("neural networks")), "neural-network");
}

TEST(TopicStrengthTest, ConnectReasonsListSharedTopicsByStrength) {
  Corpus c;
  // "me" and "you" share "alpha" (one old reply each) and "beta" (recent
  // replies), in threads started by others; "beta" is the stronger shared topic.
  const int64_t old_t = kT0 - 4 * 365 * kDay;
  int n = 0;
  auto reply = [&](const std::string& who, int64_t t, const std::string& topic) {
    const std::string root = "r" + std::to_string(n++), msg = "r" + std::to_string(n++);
    c.Add(RecordKind::kMail, root, "starter" + std::to_string(n), t, root, "", {topic});
    c.Add(RecordKind::kMail, msg, who, t + 60, root, root, {topic});
  };
  for (int i = 0; i < 3; ++i) reply("me", old_t + i, "alpha");
  for (int i = 0; i < 3; ++i) reply("you", old_t + i, "alpha");
  reply("me", kT0, "beta");
  reply("you", kT0, "beta");
  // A common contact (in two threads) so "you" is suggested to "me".
  c.Add(RecordKind::kMail, "x1", "hub", kT0, "x1", "", {});
  c.Add(RecordKind::kMail, "x2", "me", kT0, "x1", "x1", {});
  c.Add(RecordKind::kMail, "y1", "hub", kT0, "y1", "", {});
  c.Add(RecordKind::kMail, "y2", "you", kT0, "y1", "y1", {});
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  ConnectOptions o;
  o.k = 20;
  ASSERT_OK_AND_ASSIGN(auto conns, SuggestConnections(*snap, "me", {}, o));
  const Connection* you = nullptr;
  for (const Connection& x : conns) {
    if (x.id == "you") you = &x;
  }
  ASSERT_NE(you, nullptr);
  // More shared documents in alpha, but beta is recent: beta first.
  EXPECT_EQ(you->shared_topics, (std::vector<std::string>{"beta", "alpha"}));
}

// A reply carries its thread's topics; a person's strength counts each thread
// once for them: "bob", chatty in one conversation about shiny (six replies),
// is weaker in it than "cy", who replied in three conversations about it. A
// topic of bob's own text counts per message.
TEST(TopicStrengthTest, TheThreadsTopicCountsOncePerThread) {
  Corpus c;
  c.Add(RecordKind::kChat, "r1", "ann", kT0, "r1", "", {"shiny"});
  for (int i = 0; i < 6; ++i) {
    const std::string id = "b" + std::to_string(i);
    c.Add(RecordKind::kChat, id, "bob", kT0 + 60 * (i + 1), "r1", "r1", i < 2 ? std::vector<std::string>{"figs"}
                                                                              : std::vector<std::string>{});
  }
  for (int t = 2; t <= 4; ++t) {
    const std::string root = "r" + std::to_string(t);
    c.Add(RecordKind::kChat, root, "ann", kT0 + t * kDay, root, "", {"shiny"});
    c.Add(RecordKind::kChat, root + "-cy", "cy", kT0 + t * kDay + 60, root, root);
  }
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  TopicStrengthOptions o;
  o.now = kT0 + 5 * kDay;
  const auto bob = PersonTopicStrengths(*snap, snap->FindPerson("bob"), o);
  const auto cy = PersonTopicStrengths(*snap, snap->FindPerson("cy"), o);
  const PersonTopicStrength* bob_shiny = Find(bob, *snap, "shiny");
  const PersonTopicStrength* bob_figs = Find(bob, *snap, "figs");
  const PersonTopicStrength* cy_shiny = Find(cy, *snap, "shiny");
  ASSERT_TRUE(bob_shiny && bob_figs && cy_shiny);
  EXPECT_EQ(bob_shiny->docs, 6u);  // the documents are all listed...
  EXPECT_EQ(cy_shiny->docs, 3u);
  EXPECT_GT(cy_shiny->strength, 2.5 * bob_shiny->strength);  // ...but bob's count as one conversation
  EXPECT_GT(bob_figs->strength, 1.5 * bob_shiny->strength);  // his own topic: two messages
  // The same rule in the per-topic lookup and in the listing of every topic.
  const uint32_t shiny = snap->FindTopic("shiny");
  ASSERT_NE(shiny, kNone);
  const std::vector<uint32_t> q = {shiny};
  EXPECT_DOUBLE_EQ(TopicStrengthsOf(*snap, snap->FindPerson("bob"), q, o)[0], bob_shiny->strength);
  for (const TopicPersonStrength& e : AllTopicStrengths(*snap, o)) {
    if (e.topic == shiny && snap->person(e.person).id == "bob") EXPECT_DOUBLE_EQ(e.strength, bob_shiny->strength);
  }
}

}  // namespace
}  // namespace whoknows::engine
