// Two features of the learned ranker built from who replies to whom:
// reply_hop2 (a walk doc -> the hit thread's starter -> the people who
// usually write in that starter's threads; a graph feature) and
// newcomer_replies / regular_replies (the candidate's answers in threads
// started by newcomers or by regulars, by whether the asker is new).

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/person_activity.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/rank_model.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;
using testing::Corpus;
using testing::kDay;
using testing::kT0;

size_t Feature(const std::string& name) {  // kNumRankFeatures when absent
  const auto& names = FeatureNames();
  const auto it = std::find_if(names.begin(), names.end(), [&](const char* n) { return name == n; });
  return static_cast<size_t>(it - names.begin());
}

// A mailing list. Sam starts four threads: s1 (the one the query matches,
// answered by Uma), then s2, s3, s4, answered by Rob (all three) and Tom (s3).
// s1-s3 are a newcomer's threads (Sam had fewer than three messages before
// each); s4 is a regular's.
class ReplyGraphRankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"m:sam", "m:uma", "m:rob", "m:tom"}) c_.Person(p, p + 2);
    auto mail = [&](const std::string& id, const std::string& who, int64_t t, const std::string& thread,
                    const std::string& reply_to) { return c_.Add(RecordKind::kMail, id, who, t, thread, reply_to); };
    s1_ = mail("s1", "m:sam", kT0, "s1", "");
    mail("s1u", "m:uma", kT0 + kDay, "s1", "s1");
    mail("s2", "m:sam", kT0 + 10 * kDay, "s2", "");
    mail("s2r", "m:rob", kT0 + 11 * kDay, "s2", "s2");
    mail("s3", "m:sam", kT0 + 20 * kDay, "s3", "");
    mail("s3r", "m:rob", kT0 + 21 * kDay, "s3", "s3");
    mail("s3t", "m:tom", kT0 + 22 * kDay, "s3", "s3r");
    mail("s4", "m:sam", kT0 + 30 * kDay, "s4", "");
    mail("s4r", "m:rob", kT0 + 31 * kDay, "s4", "s4");
    ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
    hits_ = {{s1_, 10}};
  }

  // person id -> features, from ExtractFeatures.
  std::vector<std::pair<std::string, CandidateFeatures>> Features(const AskOptions& o) {
    absl::StatusOr<std::vector<CandidateFeatures>> f = ExtractFeatures(*snap_, hits_, o);
    EXPECT_TRUE(f.ok()) << f.status();
    std::vector<std::pair<std::string, CandidateFeatures>> out;
    if (f.ok()) {
      for (const CandidateFeatures& x : *f) out.emplace_back(snap_->person(x.person).id, x);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }
  static float Get(const std::vector<std::pair<std::string, CandidateFeatures>>& f, const std::string& id,
                   size_t feature) {
    for (const auto& [p, x] : f) {
      if (p == id) return x.x[feature];
    }
    return -1;  // not a candidate
  }

  Corpus c_;
  uint32_t s1_ = 0;
  std::vector<indexer::SearchHit> hits_;
  std::shared_ptr<const Snapshot> snap_;
};

TEST_F(ReplyGraphRankTest, Hop2FindsWhoUsuallyAnswersTheStarterOnlyFromThePastAndOnlyWithTheGraph) {
  const size_t hop2 = Feature("reply_hop2"), vote = Feature("vote");
  ASSERT_LT(hop2, kNumRankFeatures);
  AskOptions o;
  o.recent_candidates = 0;
  o.exclude_persons = {"m:sam"};
  const auto f = Features(o);
  // Rob wrote in none of the matching threads (no vote) but in 3 of Sam's 4 threads; Tom and Uma in 1.
  EXPECT_EQ(Get(f, "m:rob", vote), 0.0f);
  EXPECT_FLOAT_EQ(Get(f, "m:rob", hop2), 1.0f);
  EXPECT_FLOAT_EQ(Get(f, "m:tom", hop2), 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(Get(f, "m:uma", hop2), 1.0f / 3.0f);
  EXPECT_GT(Get(f, "m:uma", vote), 0.0f);

  // As of a time before Sam's later threads, only s1 counts: Rob and Tom have no walk mass
  // (0, or not candidates at all).
  AskOptions early = o;
  early.now = early.to = kT0 + 5 * kDay;
  const auto fe = Features(early);
  EXPECT_LE(Get(fe, "m:rob", hop2), 0.0f);
  EXPECT_LE(Get(fe, "m:tom", hop2), 0.0f);
  EXPECT_FLOAT_EQ(Get(fe, "m:uma", hop2), 1.0f);

  // The no-graph ablation drops the walk and its candidates.
  const auto fn = Features(WithMethod(o, Method::kNoGraph));
  EXPECT_EQ(Get(fn, "m:rob", hop2), -1.0f);
  EXPECT_EQ(Get(fn, "m:uma", hop2), 0.0f);
}

TEST_F(ReplyGraphRankTest, NewcomerAndRegularRepliesFollowTheAskersState) {
  const size_t nw = Feature("newcomer_replies"), rg = Feature("regular_replies");
  ASSERT_LT(rg, kNumRankFeatures);
  EXPECT_TRUE(StartedByNewcomer(*snap_, snap_->doc(snap_->DocIndex(s1_)).thread));
  AskOptions o;
  o.recent_candidates = 0;
  o.exclude_persons = {"m:sam"};
  // Without an asker both are 0.
  auto f = Features(o);
  EXPECT_EQ(Get(f, "m:rob", nw), 0.0f);
  EXPECT_EQ(Get(f, "m:rob", rg), 0.0f);
  // An asker the snapshot does not know is a newcomer: Rob answered newcomers twice (s2, s3).
  o.asker = "m:someone-new";
  f = Features(o);
  EXPECT_FLOAT_EQ(Get(f, "m:rob", nw), static_cast<float>(std::log1p(2.0)));
  EXPECT_EQ(Get(f, "m:rob", rg), 0.0f);
  EXPECT_FLOAT_EQ(Get(f, "m:tom", nw), static_cast<float>(std::log1p(1.0)));
  // Sam, with four messages, is a regular: Rob answered one regular's thread (s4).
  o.asker = "m:sam";
  f = Features(o);
  EXPECT_EQ(Get(f, "m:rob", nw), 0.0f);
  EXPECT_FLOAT_EQ(Get(f, "m:rob", rg), static_cast<float>(std::log1p(1.0)));
  // ... but as of before s3 Sam was still new, and only Rob's reply to s2 was there.
  o.now = o.to = kT0 + 15 * kDay;
  f = Features(o);
  EXPECT_FLOAT_EQ(Get(f, "m:rob", nw), static_cast<float>(std::log1p(1.0)));
  EXPECT_EQ(Get(f, "m:rob", rg), 0.0f);
  // The precomputed per-person table gives the same features as the scan.
  AskOptions t = o;
  t.activity = PersonActivity::Build(*snap_);
  const auto scan = Features(o), table = Features(t);
  ASSERT_EQ(scan.size(), table.size());
  for (size_t i = 0; i < scan.size(); ++i) {
    EXPECT_EQ(scan[i].first, table[i].first);
    EXPECT_EQ(scan[i].second.x, table[i].second.x) << scan[i].first;
  }
}

// A model that learned to weigh reply_hop2 ranks Rob (no matching message)
// first, shows the component and says why.
TEST_F(ReplyGraphRankTest, LearnedHop2IsVisiblePerExpert) {
  const size_t hop2 = Feature("reply_hop2"), vote = Feature("vote");
  std::vector<TrainingGroup> groups;
  for (int g = 0; g < 40; ++g) {
    TrainingGroup tg;
    const int truth = g % 4;
    for (int c = 0; c < 4; ++c) {
      CandidateFeatures x;
      x.person = static_cast<uint32_t>(c);
      x.x[vote] = c == truth ? 0.1f : 0.5f + 0.1f * static_cast<float>(c);
      x.x[hop2] = c == truth ? 1.0f : 0.2f;
      tg.candidates.push_back(x);
      tg.relevant.push_back(c == truth ? 1 : 0);
    }
    groups.push_back(std::move(tg));
  }
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> model, RankModel::Train(groups, TrainOptions{}));
  AskOptions o;
  o.model = model;
  o.recent_candidates = 0;
  o.exclude_persons = {"m:sam"};
  ASSERT_OK_AND_ASSIGN(auto r, RankExperts(*snap_, hits_, o));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].id, "m:rob");
  EXPECT_NE(r[0].reason.find("often replies to the people who started matching threads"), std::string::npos)
      << r[0].reason;
  bool shown = false;
  for (const auto& [n, v] : r[0].components) shown |= n == "reply_hop2" && v == 1.0;
  EXPECT_TRUE(shown);
}

}  // namespace
}  // namespace whoknows::engine
