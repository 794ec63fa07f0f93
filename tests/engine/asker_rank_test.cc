// The asker's reply neighbourhood in the ranking (graph features
// asker_reply / asker_hop2, asker candidates) and the log_starts feature.

#include <algorithm>
#include <string>
#include <vector>

#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/rank_model.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;
using testing::Corpus;
using testing::kDay;
using testing::kT0;

size_t Feature(const std::string& name) {
  const auto& names = FeatureNames();
  const auto it = std::find_if(names.begin(), names.end(), [&](const char* n) { return name == n; });
  return static_cast<size_t>(it - names.begin());
}

// A mailing list. Ann asks; Rob replies to her (twice, t1 and t2); Sue writes
// in Ann's thread t1 but replies to Rob; Tom shares Rob's thread t3 (never one
// of Ann's); Uma only wrote the message that matches the query best.
class AskerRankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"m:ann", "m:rob", "m:sue", "m:tom", "m:uma"}) c_.Person(p, p + 2);
    auto mail = [&](const std::string& id, const std::string& who, int64_t t, const std::string& thread,
                    const std::string& reply_to) { return c_.Add(RecordKind::kMail, id, who, t, thread, reply_to); };
    t1_ = mail("t1", "m:ann", kT0, "t1", "");
    r1_ = mail("t1r", "m:rob", kT0 + kDay, "t1", "t1");
    s1_ = mail("t1s", "m:sue", kT0 + 2 * kDay, "t1", "t1r");
    mail("t2", "m:ann", kT0 + 10 * kDay, "t2", "");
    r2_ = mail("t2r", "m:rob", kT0 + 11 * kDay, "t2", "t2");
    mail("t3", "m:rob", kT0 + 20 * kDay, "t3", "");
    t3t_ = mail("t3t", "m:tom", kT0 + 21 * kDay, "t3", "t3");
    // Uma: a thread of her own and a reply to it from Sue (so Uma is active and matches).
    u1_ = mail("u1", "m:uma", kT0 + 30 * kDay, "u1", "");
    u2_ = mail("u1r", "m:uma", kT0 + 31 * kDay, "u1", "u1");
    ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
  }

  // Features of every candidate, by person id.
  std::vector<std::pair<std::string, CandidateFeatures>> Features(const std::vector<indexer::SearchHit>& hits,
                                                                  const AskOptions& o) {
    auto f = ExtractFeatures(*snap_, hits, o);
    EXPECT_TRUE(f.ok()) << f.status();
    std::vector<std::pair<std::string, CandidateFeatures>> out;
    if (f.ok()) {
      for (const CandidateFeatures& x : *f) out.emplace_back(snap_->person(x.person).id, x);
    }
    return out;
  }
  static const CandidateFeatures* Of(const std::vector<std::pair<std::string, CandidateFeatures>>& f,
                                     const std::string& id) {
    for (const auto& [p, x] : f) {
      if (p == id) return &x;
    }
    return nullptr;
  }

  Corpus c_;
  uint32_t t1_, r1_, r2_, s1_, t3t_, u1_, u2_;
  std::shared_ptr<const Snapshot> snap_;
};

TEST_F(AskerRankTest, NeighbourhoodFeaturesFollowTheReplyGraphAsOfNow) {
  const size_t reply = Feature("asker_reply"), hop2 = Feature("asker_hop2"), contact = Feature("contact");
  ASSERT_LT(hop2, kNumRankFeatures);
  const std::vector<indexer::SearchHit> hits = {{u2_, 10}, {r2_, 5}, {s1_, 1}, {t3t_, 1}};
  AskOptions o;
  o.asker = "m:ann";
  o.exclude_persons = {"m:ann"};
  o.recent_candidates = 0;
  auto f = Features(hits, o);
  const CandidateFeatures* rob = Of(f, "m:rob");
  const CandidateFeatures* sue = Of(f, "m:sue");
  const CandidateFeatures* tom = Of(f, "m:tom");
  const CandidateFeatures* uma = Of(f, "m:uma");
  ASSERT_NE(rob, nullptr);
  ASSERT_NE(uma, nullptr);
  EXPECT_FLOAT_EQ(rob->x[reply], 1.0f);  // the asker's strongest replier (normalised)
  EXPECT_GT(rob->x[contact], 0.0f);
  EXPECT_EQ(uma->x[reply], 0.0f);
  EXPECT_EQ(uma->x[contact], 0.0f);
  EXPECT_EQ(uma->x[hop2], 0.0f);
  // Sue wrote in Ann's thread but replied to Rob: contact, no reply to the asker.
  ASSERT_NE(sue, nullptr);
  EXPECT_GT(sue->x[contact], 0.0f);
  EXPECT_EQ(sue->x[reply], 0.0f);
  // Tom never met Ann: two threads away, through Rob.
  ASSERT_NE(tom, nullptr);
  EXPECT_EQ(tom->x[contact], 0.0f);
  EXPECT_GT(tom->x[hop2], 0.0f);

  // As of a time before Rob's first reply nothing of it counts (history queries see only their past).
  o.now = o.to = kT0 + kDay;
  f = Features({{t1_, 10}}, o);
  for (const auto& [id, x] : f) {
    EXPECT_EQ(x.x[reply], 0.0f) << id;
    EXPECT_EQ(x.x[hop2], 0.0f) << id;
  }
  // Between his two replies: one reply counts.
  o.now = o.to = kT0 + 5 * kDay;
  f = Features({{r1_, 10}}, o);
  rob = Of(f, "m:rob");
  ASSERT_NE(rob, nullptr);
  EXPECT_GT(rob->x[reply], 0.0f);

  // No asker, or the no-graph ablation: all zero.
  for (Method m : {Method::kWhoknows, Method::kNoGraph}) {
    AskOptions p;
    p.method = m;
    p.recent_candidates = 0;
    if (m == Method::kNoGraph) p.asker = "m:ann";
    for (const auto& [id, x] : Features(hits, p)) {
      EXPECT_EQ(x.x[reply], 0.0f) << id;
      EXPECT_EQ(x.x[hop2], 0.0f) << id;
      EXPECT_EQ(x.x[contact], 0.0f) << id;
    }
  }
}

TEST_F(AskerRankTest, WhoRepliedToTheAskerBecomesACandidate) {
  // Only Uma's messages match; Rob enters as the asker's replier (graph candidate), not without an asker.
  const std::vector<indexer::SearchHit> hits = {{u1_, 10}, {u2_, 9}};
  AskOptions o;
  o.recent_candidates = 0;
  o.topic_candidates = 0;
  o.w_ppr = 0;
  EXPECT_EQ(Of(Features(hits, o), "m:rob"), nullptr);
  o.asker = "m:ann";
  EXPECT_NE(Of(Features(hits, o), "m:rob"), nullptr);
  o.asker_candidates = 0;
  EXPECT_EQ(Of(Features(hits, o), "m:rob"), nullptr);
}

TEST_F(AskerRankTest, ThreadStartsAreCounted) {
  const size_t starts = Feature("log_starts");
  AskOptions o;
  o.recent_candidates = 0;
  auto f = Features({{u2_, 10}, {r2_, 9}}, o);
  const CandidateFeatures* rob = Of(f, "m:rob");
  const CandidateFeatures* uma = Of(f, "m:uma");
  ASSERT_NE(rob, nullptr);
  ASSERT_NE(uma, nullptr);
  EXPECT_FLOAT_EQ(rob->x[starts], static_cast<float>(std::log1p(1.0)));  // t3
  EXPECT_FLOAT_EQ(uma->x[starts], static_cast<float>(std::log1p(1.0)));  // u1
  // The same counts through the precomputed per-person table.
  o.activity = PersonActivity::Build(*snap_);
  o.method = Method::kNoGraph;  // the table serves runs without the topic scan
  f = Features({{u2_, 10}, {r2_, 9}}, o);
  ASSERT_NE(Of(f, "m:rob"), nullptr);
  EXPECT_FLOAT_EQ(Of(f, "m:rob")->x[starts], static_cast<float>(std::log1p(1.0)));
}

// A model that learned "who replied to the asker replies again" moves the
// asker's replier above the best text match only when the asker is known.
TEST_F(AskerRankTest, LearnedAskerFeatureChangesTheRanking) {
  const size_t reply = Feature("asker_reply"), vote = Feature("vote");
  std::vector<TrainingGroup> groups;
  // Half the history: the best text match replies. The other half: the asker's
  // replier does, though three others match the text better.
  for (int g = 0; g < 60; ++g) {
    TrainingGroup tg;
    const bool asker_group = g % 2 == 1;
    const int truth = g % 4;
    for (int c = 0; c < 4; ++c) {
      CandidateFeatures x;
      x.person = static_cast<uint32_t>(c);
      const bool best_text = c == truth;
      x.x[vote] = asker_group ? (best_text ? 0.2f : 0.6f + 0.1f * static_cast<float>(c))
                              : (best_text ? 1.0f : 0.2f * static_cast<float>(c));
      x.x[reply] = asker_group && c == truth ? 1.0f : 0.0f;
      tg.candidates.push_back(x);
      tg.relevant.push_back(c == truth ? 1 : 0);
    }
    groups.push_back(std::move(tg));
  }
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> model, RankModel::Train(groups, TrainOptions{}));
  const std::vector<indexer::SearchHit> hits = {{u2_, 10}, {r2_, 4}};
  AskOptions o;
  o.model = model;
  o.recent_candidates = 0;
  o.exclude_persons = {"m:ann"};
  ASSERT_OK_AND_ASSIGN(auto without, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(without.empty());
  EXPECT_EQ(without[0].id, "m:uma");
  o.asker = "m:ann";
  ASSERT_OK_AND_ASSIGN(auto with, RankExperts(*snap_, hits, o));
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with[0].id, "m:rob");
  EXPECT_NE(with[0].reason.find("replied to the asker"), std::string::npos) << with[0].reason;
  bool shown = false;
  for (const auto& [n, v] : with[0].components) shown |= n == "asker_reply" && v == 1.0;
  EXPECT_TRUE(shown);
}

// In Q&A, answering someone's question is contact, not a reply to them.
TEST(AskerRankQaTest, AnswersToTheAskersQuestionsAreContactOnly) {
  Corpus c;
  c.Person("p:dave", "Dave");
  c.Person("p:bob", "Bob");
  c.Question("q1", "p:dave", kT0, {"backprop"});
  const uint32_t a1 = c.Answer("a1", "q1", "p:bob", kT0 + kDay);
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  AskOptions o;
  o.asker = "p:dave";
  o.exclude_persons = {"p:dave"};
  const std::vector<indexer::SearchHit> hits = {{a1, 5}};
  ASSERT_OK_AND_ASSIGN(std::vector<CandidateFeatures> f, ExtractFeatures(*snap, hits, o));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_GT(f[0].x[Feature("contact")], 0.0f);
  EXPECT_EQ(f[0].x[Feature("asker_reply")], 0.0f);
}

}  // namespace
}  // namespace whoknows::engine
