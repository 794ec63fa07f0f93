// The asker in the ranking: the contact component (shared threads with the
// asker, a graph feature of the learned ranker) needs AskOptions::asker,
// which FindExperts / `ask --asker` now pass.

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

size_t Feature(const std::string& name) {  // kNumRankFeatures when absent
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

  Corpus c_;
  uint32_t t1_, r1_, r2_, s1_, t3t_, u1_, u2_;
  std::shared_ptr<const Snapshot> snap_;
};

// A model that learned "who shares the asker's threads replies again" moves
// the asker's contact above the best text match only when the asker is known;
// the why text says so, the no-graph ablation never uses it.
TEST_F(AskerRankTest, LearnedAskerFeatureChangesTheRanking) {
  const size_t reply = Feature("contact"), vote = Feature("vote");
  ASSERT_LT(reply, kNumRankFeatures);
  std::vector<TrainingGroup> groups;
  // Half the history: the best text match replies. The other half: the asker's
  // contact does, though three others match the text better.
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
  EXPECT_NE(with[0].reason.find("has shared threads with the asker"), std::string::npos) << with[0].reason;
  EXPECT_EQ(without[0].reason.find("asker"), std::string::npos) << without[0].reason;
  bool shown = false;
  for (const auto& [n, v] : with[0].components) shown |= n == "contact" && v == 1.0;
  EXPECT_TRUE(shown);
  // Before Rob ever wrote in Ann's threads, the asker changes nothing.
  o.now = o.to = kT0 + kDay;
  const std::vector<indexer::SearchHit> early = {{t1_, 10}};
  ASSERT_OK_AND_ASSIGN(auto before, RankExperts(*snap_, early, o));
  for (const Expert& e : before) EXPECT_EQ(e.reason.find("asker"), std::string::npos) << e.id;
}

}  // namespace
}  // namespace whoknows::engine
