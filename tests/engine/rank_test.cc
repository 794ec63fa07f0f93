#include "whoknows/engine/rank.h"

#include <algorithm>

#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"

namespace whoknows::engine {
namespace {

using testing::Corpus;
using testing::kDay;
using testing::kT0;

std::vector<std::string> Ids(const std::vector<Expert>& experts) {
  std::vector<std::string> ids;
  for (const Expert& e : experts) ids.push_back(e.id);
  return ids;
}

const Expert* Find(const std::vector<Expert>& experts, const std::string& id) {
  for (const Expert& e : experts) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

double Component(const Expert& e, const std::string& name) {
  for (const auto& [n, v] : e.components) {
    if (n == name) return v;
  }
  return -1;
}

class RankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.Person("p:alice", "Alice");
    c_.Person("p:bob", "Bob");
    c_.Person("p:carol", "Carol");
    c_.Person("p:dave", "Dave");
    c_.Person("p:erin", "Erin", /*opted_out=*/true);
    c_.Person("p:ivan", "Ivan");
    q1_ = c_.Question("q1", "p:dave", kT0, {"neural-networks"});
    a1_ = c_.Answer("a1", "q1", "p:alice", kT0 + kDay, /*accepted=*/true);
    a2_ = c_.Answer("a2", "q1", "p:bob", kT0 + kDay);
    e1_ = c_.Answer("e1", "q1", "p:erin", kT0 + kDay);
    // Carol answered long ago, Bob recently; equal BM25.
    q2_ = c_.Question("q2", "p:dave", kT0 - 5 * 365 * kDay, {"backprop"});
    a3_ = c_.Answer("a3", "q2", "p:carol", kT0 - 5 * 365 * kDay);
    q3_ = c_.Question("q3", "p:dave", kT0 + 10 * kDay, {"backprop"});
    a4_ = c_.Answer("a4", "q3", "p:bob", kT0 + 10 * kDay);
    // Internal: Ivan is known only from internal docs.
    q4_ = c_.Question("q4", "p:alice", kT0 + 20 * kDay, {"backprop", "secret-project"}, "internal");
    a5_ = c_.Answer("a5", "q4", "p:ivan", kT0 + 21 * kDay, true, "internal");
    ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
  }
  Corpus c_;
  uint32_t q1_, a1_, a2_, e1_, q2_, a3_, q3_, a4_, q4_, a5_;
  std::shared_ptr<const Snapshot> snap_;
};

TEST_F(RankTest, AcceptedAnswererWinsAndOptedOutNeverReturned) {
  const std::vector<indexer::SearchHit> hits = {{q1_, 10}, {a1_, 8}, {a2_, 8}, {e1_, 9.5}};
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, {}));
  ASSERT_GE(experts.size(), 2u);
  EXPECT_EQ(experts[0].id, "p:alice");
  EXPECT_EQ(experts[1].id, "p:bob");
  EXPECT_EQ(Find(experts, "p:erin"), nullptr);
  // Evidence and reason.
  ASSERT_FALSE(experts[0].evidence.empty());
  EXPECT_EQ(experts[0].evidence[0].docid, a1_);
  EXPECT_EQ(experts[0].evidence[0].role, "accepted-answer");
  EXPECT_NE(experts[0].reason.find("answered 1 matching question (1 accepted)"), std::string::npos)
      << experts[0].reason;
  EXPECT_NE(experts[0].reason.find("neural-networks"), std::string::npos);
  EXPECT_EQ(experts[0].topics, std::vector<std::string>({"neural-networks"}));
  EXPECT_GT(Component(experts[0], "vote"), Component(experts[1], "vote"));
  EXPECT_DOUBLE_EQ(Component(experts[0], "vote"), 1.0);
  for (const Expert& e : experts) EXPECT_GT(e.score, 0);
}

TEST_F(RankTest, AnswerersAreCreditedWithTheQuestionTheyAnswered) {
  // Only the question's text matches: in Q&A the thread is the unit of expertise,
  // so its answerers are credited with it as answerers (not as thread bystanders).
  const std::vector<indexer::SearchHit> hits = {{q1_, 10}};
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, {}));
  ASSERT_GE(experts.size(), 3u);
  EXPECT_EQ(experts[0].id, "p:alice");  // accepted answer
  const Expert* dave = Find(experts, "p:dave");
  const Expert* bob = Find(experts, "p:bob");
  ASSERT_NE(dave, nullptr);
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(experts[0].evidence[0].role, "accepted-answer");
  EXPECT_EQ(experts[0].evidence[0].docid, a1_);
  EXPECT_EQ(bob->evidence[0].role, "answer");
  EXPECT_EQ(bob->evidence[0].docid, a2_);
  EXPECT_GT(Component(*bob, "vote_raw"), Component(*dave, "vote_raw"));  // answerer 1.0 > asker 0.3
  EXPECT_EQ(Find(experts, "p:erin"), nullptr);
  // The answers carry the question's tags to the answerer.
  EXPECT_EQ(experts[0].topics, std::vector<std::string>({"neural-networks"}));

  // Switched off (and no thread votes): only the asker is left.
  AskOptions off;
  off.credit_answerers = false;
  off.w_thread_qa = 0;
  off.w_ppr = 0;
  off.recent_candidates = off.topic_candidates = 0;
  ASSERT_OK_AND_ASSIGN(auto asker_only, RankExperts(*snap_, hits, off));
  EXPECT_EQ(Ids(asker_only), std::vector<std::string>({"p:dave"}));

  // bm25-voting is Model 2 with the thread text: answerers first, the asker after.
  AskOptions o;
  o.method = Method::kBm25Voting;
  ASSERT_OK_AND_ASSIGN(auto voting, RankExperts(*snap_, hits, o));
  EXPECT_EQ(Ids(voting), std::vector<std::string>({"p:alice", "p:bob", "p:dave"}));
  EXPECT_GT(voting[0].score, voting[1].score);  // the accepted bonus
}

TEST_F(RankTest, RecentPopularityCountsOnlyTheRecentWindow) {
  AskOptions o;
  o.method = Method::kRecentPopularity;
  o.now = kT0 + 30 * kDay;
  o.recent_days = 365;
  ASSERT_OK_AND_ASSIGN(auto recent, RankExperts(*snap_, {}, o));
  // Carol's only answer is five years old; Bob has two recent answers.
  EXPECT_EQ(Ids(recent), std::vector<std::string>({"p:bob", "p:alice", "p:ivan"}));
  o.method = Method::kPopularity;
  ASSERT_OK_AND_ASSIGN(auto all, RankExperts(*snap_, {}, o));
  EXPECT_NE(Find(all, "p:carol"), nullptr);
  // Nothing after `now` counts: before a4 (q3's answer), Bob has one answer like Alice.
  o.method = Method::kRecentPopularity;
  o.now = kT0 + 5 * kDay;
  ASSERT_OK_AND_ASSIGN(auto early, RankExperts(*snap_, {}, o));
  EXPECT_EQ(Ids(early), std::vector<std::string>({"p:alice", "p:bob"}));
  o.recent_days = 0;
  EXPECT_EQ(RankExperts(*snap_, {}, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RankTest, CandidatesComeFromTopicsAndRecentActivityNotOnlyHits) {
  // Only Bob's q3 answer matches. Carol answered a backprop question long ago:
  // she is reachable through the topic vertex, not through the hits.
  const std::vector<indexer::SearchHit> hits = {{a4_, 5}};
  AskOptions o;
  o.w_ppr = 0;
  o.recent_candidates = 0;
  o.w_topic = 1;
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> cand, CandidatePeople(*snap_, hits, o));
  const uint32_t carol = snap_->FindPerson("p:carol");
  EXPECT_NE(std::find(cand.begin(), cand.end(), carol), cand.end());
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  const Expert* c = Find(experts, "p:carol");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Component(*c, "vote_raw"), 0);
  EXPECT_GT(Component(*c, "topic"), 0);
  // No graph: no topic candidates and no topic component.
  o.method = Method::kNoGraph;
  ASSERT_OK_AND_ASSIGN(cand, CandidatePeople(*snap_, hits, o));
  EXPECT_EQ(std::find(cand.begin(), cand.end(), carol), cand.end());
  // Recent activity brings in the recently active (Alice answered q1) without a topic.
  o.recent_candidates = 10;
  o.now = kT0 + 30 * kDay;
  ASSERT_OK_AND_ASSIGN(cand, CandidatePeople(*snap_, hits, o));
  EXPECT_NE(std::find(cand.begin(), cand.end(), snap_->FindPerson("p:alice")), cand.end());
  EXPECT_EQ(std::find(cand.begin(), cand.end(), snap_->FindPerson("p:erin")), cand.end());  // opted out
}

TEST_F(RankTest, TheQuestionsOwnTagsAreTheQueryTopics) {
  // The hit is about neural networks (q1, answered by Alice, accepted, and Bob); the asker
  // tagged the question "backprop": people strong on backprop (Bob, Carol) gain the topic
  // component, and Carol, who is in no hit, becomes a candidate (after everyone with a
  // matching document).
  const std::vector<indexer::SearchHit> hits = {{q1_, 5}};
  AskOptions o;
  o.w_ppr = 0;
  o.recent_candidates = 0;
  o.w_topic = 2;
  const uint32_t carol = snap_->FindPerson("p:carol");
  ASSERT_OK_AND_ASSIGN(auto untagged, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(untagged.empty());
  EXPECT_EQ(untagged[0].id, "p:alice");
  EXPECT_EQ(Find(untagged, "p:carol"), nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> cand, CandidatePeople(*snap_, hits, o));
  EXPECT_EQ(std::find(cand.begin(), cand.end(), carol), cand.end());

  o.query_topics = {"Backprop"};  // any spelling of the topic
  ASSERT_OK_AND_ASSIGN(auto tagged, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(tagged.empty());
  EXPECT_EQ(tagged[0].id, "p:bob");  // the ranking changes: Bob answered backprop questions
  const Expert* alice = Find(tagged, "p:alice");
  const Expert* c = Find(tagged, "p:carol");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Component(*alice, "topic"), 0);
  EXPECT_GT(Component(*c, "topic"), 0);
  EXPECT_EQ(Component(*c, "vote_raw"), 0);
  EXPECT_EQ(c, &tagged.back());
  EXPECT_NE(c->reason.find("no matching document; writes on the question's topics"), std::string::npos) << c->reason;
  EXPECT_EQ(c->topics, std::vector<std::string>{"backprop"});
  ASSERT_OK_AND_ASSIGN(cand, CandidatePeople(*snap_, hits, o));
  EXPECT_NE(std::find(cand.begin(), cand.end(), carol), cand.end());

  // Tags the snapshot does not know: the hits' topics, as without tags.
  o.query_topics = {"no-such-tag"};
  ASSERT_OK_AND_ASSIGN(auto unknown, RankExperts(*snap_, hits, o));
  EXPECT_EQ(Ids(unknown), Ids(untagged));
  // No graph: the tags change nothing.
  o.query_topics = {"backprop"};
  o.method = Method::kNoGraph;
  ASSERT_OK_AND_ASSIGN(auto nograph_tagged, RankExperts(*snap_, hits, o));
  o.query_topics.clear();
  ASSERT_OK_AND_ASSIGN(auto nograph, RankExperts(*snap_, hits, o));
  EXPECT_EQ(Ids(nograph_tagged), Ids(nograph));
}

TEST_F(RankTest, ContactWithTheAskerIsAGraphComponent) {
  // Dave asked q1..q3; Alice, Bob and Carol answered him. Ivan never met him.
  const std::vector<indexer::SearchHit> hits = {{a5_, 5}, {a2_, 5}};
  AskOptions o;
  o.asker = "p:dave";
  o.w_contact = 1;
  o.exclude_persons = {"p:dave"};
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  const Expert* bob = Find(experts, "p:bob");
  const Expert* ivan = Find(experts, "p:ivan");
  ASSERT_NE(bob, nullptr);
  ASSERT_NE(ivan, nullptr);
  EXPECT_GT(Component(*bob, "contact"), 0);
  EXPECT_EQ(Component(*ivan, "contact"), 0);
  // Only contacts before `now` count: at kT0 - 1 day Bob had not met Dave yet, Carol had (q2).
  o.now = kT0 - kDay;
  ASSERT_OK_AND_ASSIGN(std::vector<CandidateFeatures> f, ExtractFeatures(*snap_, hits, o));
  ASSERT_EQ(std::string(FeatureNames()[5]), "contact");
  bool saw_bob = false, saw_carol = false;
  for (const CandidateFeatures& x : f) {
    const std::string& id = snap_->person(x.person).id;
    if (id == "p:bob") {
      saw_bob = true;
      EXPECT_EQ(x.x[5], 0.0f);
    } else if (id == "p:carol") {
      saw_carol = true;
      EXPECT_GT(x.x[5], 0.0f);
    }
  }
  EXPECT_TRUE(saw_bob);
  EXPECT_TRUE(saw_carol);
  o.now = 0;
  o.method = Method::kNoGraph;
  ASSERT_OK_AND_ASSIGN(experts, RankExperts(*snap_, hits, o));
  for (const Expert& e : experts) EXPECT_EQ(Component(e, "contact"), 0);
}

TEST_F(RankTest, StaleExpertDecaysBelowRecentOne) {
  const std::vector<indexer::SearchHit> hits = {{a3_, 5}, {a4_, 5}};
  AskOptions o;
  o.w_ppr = 0;
  o.w_prior = 0;
  o.w_thread = o.w_thread_qa = 0;
  o.half_life_days_qa = 730;  // explicit: the ratio below assumes a two-year half-life
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  ASSERT_EQ(experts.size(), 2u);
  EXPECT_EQ(experts[0].id, "p:bob");
  EXPECT_EQ(experts[1].id, "p:carol");
  // Carol's answer is 5 years + 10 days older; half-life 2 years.
  EXPECT_NEAR(Component(experts[1], "vote_raw") / Component(experts[0], "vote_raw"),
              std::exp2(-(5 * 365.0 + 10) / 730.0), 1e-9);
  // No decay: a tie, broken by id.
  o.use_decay = false;
  ASSERT_OK_AND_ASSIGN(auto flat, RankExperts(*snap_, hits, o));
  ASSERT_EQ(flat.size(), 2u);
  EXPECT_DOUBLE_EQ(flat[0].score, flat[1].score);
  // Time window: only docs before q3 count, so only carol remains.
  AskOptions w;
  w.to = kT0 + 5 * kDay;
  ASSERT_OK_AND_ASSIGN(auto windowed, RankExperts(*snap_, hits, w));
  for (const Expert& e : windowed) {
    for (const Evidence& ev : e.evidence) EXPECT_NE(ev.docid, a4_);
  }
  ASSERT_FALSE(windowed.empty());
  EXPECT_EQ(windowed[0].id, "p:carol");
}

TEST_F(RankTest, PersonKnownOnlyFromInternalDocsNeverAppearsForPublicCaller) {
  const std::vector<indexer::SearchHit> hits = {{q4_, 10}, {a5_, 9}, {a4_, 5}, {a3_, 4}, {q2_, 3}, {q3_, 3}};
  const std::vector<std::string> pub = {"public"};
  AskOptions o;
  o.group_mask = snap_->GroupMask(pub);
  o.k = 100;
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(experts.empty());
  EXPECT_EQ(Find(experts, "p:ivan"), nullptr);
  for (const Expert& e : experts) {
    for (const Evidence& ev : e.evidence) {
      EXPECT_NE(ev.docid, q4_);
      EXPECT_NE(ev.docid, a5_);
    }
    for (const std::string& t : e.topics) EXPECT_NE(t, "secret-project");
    EXPECT_EQ(e.reason.find("secret-project"), std::string::npos);
    // last_active comes from visible docs only (alice's newest is internal q4).
    if (e.id == "p:alice") {
      EXPECT_EQ(e.last_active, kT0 + kDay);
    }
  }
  // With internal access Ivan is found, and ranks first (accepted answer).
  o.group_mask = kAllGroups;
  ASSERT_OK_AND_ASSIGN(auto all, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].id, "p:ivan");
  // A caller who sees nothing gets nothing.
  o.group_mask = 0;
  ASSERT_OK_AND_ASSIGN(auto none, RankExperts(*snap_, hits, o));
  EXPECT_TRUE(none.empty());
}

TEST_F(RankTest, FiltersExcludeAndPaging) {
  const std::vector<indexer::SearchHit> hits = {{q1_, 10}, {a1_, 8}, {a2_, 8}, {a3_, 6}, {a4_, 6}};
  AskOptions o;
  o.exclude_persons = {"p:alice"};
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  EXPECT_EQ(Find(experts, "p:alice"), nullptr);
  o = AskOptions();
  o.topics = {"backprop"};
  ASSERT_OK_AND_ASSIGN(auto topical, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(topical.empty());
  for (const Expert& e : topical) {
    for (const Evidence& ev : e.evidence) EXPECT_TRUE(ev.docid == a3_ || ev.docid == a4_) << ev.docid;
  }
  o = AskOptions();
  o.k = 1;
  ASSERT_OK_AND_ASSIGN(auto first, RankExperts(*snap_, hits, o));
  o.offset = 1;
  ASSERT_OK_AND_ASSIGN(auto second, RankExperts(*snap_, hits, o));
  o = AskOptions();
  o.k = 2;
  ASSERT_OK_AND_ASSIGN(auto both, RankExperts(*snap_, hits, o));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(first[0].id, both[0].id);
  EXPECT_EQ(second[0].id, both[1].id);
  // Unknown docids and an empty hit list are fine.
  const std::vector<indexer::SearchHit> junk = {{999, 1}};
  ASSERT_OK_AND_ASSIGN(auto nothing, RankExperts(*snap_, junk, {}));
  EXPECT_TRUE(nothing.empty());
  o.w_vote = -1;
  EXPECT_EQ(RankExperts(*snap_, hits, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RankTest, PprPropagatesToConnectedPeople) {
  // Only q3 is a hit; PPR reaches beyond the voters through the graph.
  const std::vector<indexer::SearchHit> hits = {{a4_, 5}};
  AskOptions o;
  o.k = 10;
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(experts.empty());
  EXPECT_EQ(experts[0].id, "p:bob");
  const Expert* dave = Find(experts, "p:dave");  // asker of q3: thread vote
  ASSERT_NE(dave, nullptr);
  const Expert* carol = Find(experts, "p:carol");  // shares the backprop topic only
  ASSERT_NE(carol, nullptr);
  EXPECT_EQ(Component(*carol, "vote_raw"), 0);
  EXPECT_GT(Component(*carol, "ppr"), 0);
  EXPECT_NE(carol->reason.find("no matching document; "), std::string::npos) << carol->reason;
  EXPECT_NE(carol->reason.find("connected to the matching discussions in the graph"), std::string::npos);
  o.method = Method::kNoPpr;
  o.topic_candidates = o.recent_candidates = 0;  // other candidate sources would bring Carol back
  ASSERT_OK_AND_ASSIGN(auto no_ppr, RankExperts(*snap_, hits, o));
  EXPECT_EQ(Find(no_ppr, "p:carol"), nullptr);
}

TEST_F(RankTest, PopularityBaselineCountsAnswersBeforeTheSplit) {
  PopularityOptions o;
  ASSERT_OK_AND_ASSIGN(Method m, ParseMethod("popularity"));
  EXPECT_EQ(m, Method::kPopularity);
  auto top = RankByPopularity(*snap_, o);
  ASSERT_GE(top.size(), 3u);
  EXPECT_EQ(top[0].id, "p:bob");  // 2 answers
  EXPECT_EQ(Find(top, "p:erin"), nullptr);
  EXPECT_EQ(Find(top, "p:dave"), nullptr);  // questions do not count
  o.to = kT0 + 5 * kDay;
  const std::vector<std::string> pub = {"public"};
  o.group_mask = snap_->GroupMask(pub);
  top = RankByPopularity(*snap_, o);
  EXPECT_EQ(Ids(top), std::vector<std::string>({"p:alice", "p:bob", "p:carol"}));
  // Through RankExperts with the method set.
  AskOptions ao;
  ao.method = Method::kPopularity;
  ASSERT_OK_AND_ASSIGN(auto via, RankExperts(*snap_, {}, ao));
  EXPECT_EQ(via[0].id, "p:bob");
  for (Method method : AllMethods()) {
    ASSERT_OK_AND_ASSIGN(Method parsed, ParseMethod(MethodName(method)));
    EXPECT_EQ(parsed, method);
  }
  EXPECT_FALSE(ParseMethod("bogus").ok());
}

TEST(RankDecayTest, AgeIsMeasuredWithinEachCommunity) {
  // An archive that ended ten years before a live list: its experts are not
  // all "stale" because the other community kept talking.
  Corpus c;
  c.Person("p:old", "Old");
  c.Person("p:live", "Live");
  const int64_t ten_years = 10 * 365 * kDay;
  const uint32_t archive = c.Add(indexer::RecordKind::kMail, "m1", "p:old", kT0, "", "", {}, "public", false, {}, "archive");
  c.Add(indexer::RecordKind::kMail, "m2", "p:old", kT0 - 30 * kDay, "", "", {}, "public", false, {}, "archive");
  const uint32_t live = c.Add(indexer::RecordKind::kMail, "m3", "p:live", kT0 + ten_years, "", "", {}, "public",
                              false, {}, "live");
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const std::vector<indexer::SearchHit> hits = {{archive, 5}, {live, 5}};
  AskOptions o;
  o.w_ppr = 0;
  o.w_prior = 0;
  o.w_thread = o.w_thread_qa = 0;
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap, hits, o));
  ASSERT_EQ(experts.size(), 2u);
  // Each hit is the newest doc of its community: no decay for either.
  EXPECT_DOUBLE_EQ(Component(experts[0], "vote_raw"), Component(experts[1], "vote_raw"));
  // With an explicit reference time the archive decays by ten years.
  o.now = kT0 + ten_years;
  ASSERT_OK_AND_ASSIGN(auto fixed, RankExperts(*snap, hits, o));
  ASSERT_EQ(fixed.size(), 2u);
  EXPECT_EQ(fixed[0].id, "p:live");
  EXPECT_NEAR(Component(fixed[1], "vote_raw") / Component(fixed[0], "vote_raw"),
              std::exp2(-static_cast<double>(ten_years) / (o.half_life_days * kDay)), 1e-9);
}

// The same for activity: recent activity and idle days of an archive's
// expert are measured by the archive's clock when no `now` is given (a server
// answering over an old archive and a live list), not by the live list's.
TEST(RankDecayTest, ActivityIsMeasuredByTheClockOfThePersonsCommunity) {
  Corpus c;
  c.Person("p:asker", "Asker");
  c.Person("p:old", "Old");
  c.Person("p:live", "Live");
  const int64_t ten_years = 10 * 365 * kDay;
  uint32_t archive = 0;
  for (int i = 0; i < 6; ++i) {  // Old answers six threads in the archive's last two months
    const std::string t = "a" + std::to_string(i);
    const int64_t at = kT0 - (60 - 10 * i) * kDay;
    c.Add(indexer::RecordKind::kMail, t, "p:asker", at, t, "", {}, "public", false, {}, "archive");
    archive = c.Add(indexer::RecordKind::kMail, t + "r", "p:old", at + 3600, t, t, {}, "public", false, {}, "archive");
  }
  c.Add(indexer::RecordKind::kMail, "l0", "p:asker", kT0 + ten_years - kDay, "l0", "", {}, "public", false, {}, "live");
  const uint32_t live = c.Add(indexer::RecordKind::kMail, "l0r", "p:live", kT0 + ten_years, "l0", "l0", {}, "public",
                              false, {}, "live");
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const std::vector<indexer::SearchHit> hits = {{archive, 5}, {live, 5}};
  AskOptions o;
  o.exclude_persons = {"p:asker"};
  const auto& names = FeatureNames();
  const size_t idle = static_cast<size_t>(std::find(names.begin(), names.end(), std::string_view("log_idle_days")) -
                                          names.begin());
  ASSERT_LT(idle, names.size());
  auto features_of = [&](const std::vector<CandidateFeatures>& f, const std::string& id) {
    for (const CandidateFeatures& x : f) {
      if (snap->person(x.person).id == id) return x;
    }
    ADD_FAILURE() << id << " is not a candidate";
    return CandidateFeatures{};
  };

  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap, hits, o));
  ASSERT_EQ(experts.size(), 2u);
  EXPECT_EQ(experts[0].id, "p:old");  // six recent replies in the archive against one
  for (const Expert& e : experts) EXPECT_GT(Component(e, "recent"), 0) << e.id;
  ASSERT_OK_AND_ASSIGN(auto f, ExtractFeatures(*snap, hits, o));
  EXPECT_LT(features_of(f, "p:old").x[idle], std::log1p(2.0));  // his last reply was the archive's last document

  // With an explicit reference time, the archive's activity is ten years old.
  o.now = kT0 + ten_years + 1;
  ASSERT_OK_AND_ASSIGN(auto fixed, RankExperts(*snap, hits, o));
  ASSERT_EQ(fixed.size(), 2u);
  for (const Expert& e : fixed) EXPECT_EQ(Component(e, "recent") > 0, e.id == "p:live") << e.id;
  ASSERT_OK_AND_ASSIGN(f, ExtractFeatures(*snap, hits, o));
  EXPECT_GT(features_of(f, "p:old").x[idle], std::log1p(3000.0));
}

// Evidence shows what the person wrote before the threads they only took part
// in, and one document per thread before a second of the same thread: Sam's
// reply to Kim's long matching message is worth more vote than each of his own
// short matching messages, but "wrote 4 matching messages" lists those.
TEST(RankEvidenceTest, OwnWritingFirstAndOneDocumentPerThread) {
  using indexer::RecordKind;
  Corpus c;
  c.Person("p:sam", "Sam");
  c.Person("p:kim", "Kim");
  const uint32_t kim = c.Add(RecordKind::kMail, "t1", "p:kim", kT0, "t1");
  c.Add(RecordKind::kMail, "t1-re", "p:sam", kT0 + 60, "t1", "t1");
  const uint32_t a = c.Add(RecordKind::kMail, "t2", "p:sam", kT0 + kDay, "t2");
  const uint32_t b = c.Add(RecordKind::kMail, "t2-re", "p:sam", kT0 + kDay + 60, "t2", "t2");
  const uint32_t d = c.Add(RecordKind::kMail, "t2-re2", "p:sam", kT0 + kDay + 120, "t2", "t2-re");
  const uint32_t e = c.Add(RecordKind::kMail, "t3", "p:sam", kT0 + 2 * kDay, "t3");
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const std::vector<indexer::SearchHit> hits = {{kim, 40}, {a, 3}, {b, 2.9}, {d, 2.8}, {e, 1}};
  auto evidence_of_sam = [&](size_t max) {
    AskOptions o;
    o.max_evidence = max;
    auto experts = RankExperts(*snap, hits, o);
    EXPECT_TRUE(experts.ok()) << experts.status();
    std::vector<std::pair<uint32_t, std::string>> out;
    const Expert* sam = experts.ok() ? Find(*experts, "p:sam") : nullptr;
    if (sam == nullptr) {
      ADD_FAILURE() << "Sam is not ranked";
      return out;
    }
    for (const Evidence& ev : sam->evidence) out.emplace_back(ev.docid, ev.role);
    return out;
  };
  using Ev = std::vector<std::pair<uint32_t, std::string>>;
  // The thread's match is the largest single contribution...
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap, hits, {}));
  const Expert* sam = Find(experts, "p:sam");
  ASSERT_NE(sam, nullptr);
  EXPECT_NE(sam->reason.find("wrote 4 matching messages"), std::string::npos) << sam->reason;
  // ...yet his own messages come first: t2's best, then t3's (another thread), then t2's others.
  EXPECT_EQ(evidence_of_sam(2), (Ev{{a, "author"}, {e, "author"}}));
  EXPECT_EQ(evidence_of_sam(4), (Ev{{a, "author"}, {e, "author"}, {b, "author"}, {d, "author"}}));
  EXPECT_EQ(evidence_of_sam(5), (Ev{{a, "author"}, {e, "author"}, {b, "author"}, {d, "author"}, {kim, "thread"}}));
}

// An expert's topics start with the question's own: Rip's matches on LAPACK
// also carry the big generic topic "builds", his strongest, but "lapack" is
// what the question is about and comes first; his other topics follow by
// strength.
TEST(RankEvidenceTest, TheQuestionsTopicsComeFirstInTheWhy) {
  using indexer::RecordKind;
  Corpus c;
  c.Person("rip", "Rip");
  c.Person("x", "X");
  std::vector<indexer::SearchHit> hits;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "b" + std::to_string(i);
    c.Add(RecordKind::kMail, id, i % 2 == 0 ? "rip" : "x", kT0 + i * kDay, id, "", {"builds", "windows"});
  }
  for (int i = 0; i < 3; ++i) {
    const std::string id = "l" + std::to_string(i);
    hits.push_back({c.Add(RecordKind::kMail, id, "rip", kT0 + (40 + i) * kDay, id, "", {"lapack", "builds"}), 5.0});
  }
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  AskOptions o;
  o.max_topics = 3;
  ASSERT_OK_AND_ASSIGN(auto experts, RankExperts(*snap, hits, o));
  const Expert* rip = Find(experts, "rip");
  ASSERT_NE(rip, nullptr);
  EXPECT_EQ(rip->topics, (std::vector<std::string>{"lapack", "builds"})) << rip->reason;
}

}  // namespace
}  // namespace whoknows::engine
