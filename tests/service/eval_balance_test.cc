// `whoknows eval routing --balance`: the replay ranks as `whoknows eval`
// does (the learned ranker of the split), and balance changes only the
// routing, on the real coffee.stackexchange.com dump (592 posts).

#include "whoknows/service/eval_balance.h"

#include <filesystem>
#include <string>

#include "../indexer/test_util.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/eval.h"

namespace whoknows::service {
namespace {

const std::string kSite = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/coffee.stackexchange.com";

const LoadMethodResult* Method(const BalanceDataset& d, const std::string& name) {
  for (const LoadMethodResult& m : d.methods) {
    if (m.method == name) return &m;
  }
  return nullptr;
}

class EvalBalanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kSite)) << kSite;
    options_.temp_dir = dir_.path();
  }
  whoknows::testing::TempDir dir_;
  EvalOptions options_;
};

TEST_F(EvalBalanceTest, ReplayRanksAsEvalAndBalanceSpreadsTheRouting) {
  ASSERT_OK_AND_ASSIGN(EvalReport plain, RunEval(EvalTask::kRouting, {kSite}, options_));
  double eval_whoknows = -1, eval_popularity = -1;
  for (const MethodResult& m : plain.pooled.methods) {
    if (m.method == "whoknows") eval_whoknows = m.mrr;
    if (m.method == "popularity") eval_popularity = m.mrr;
  }
  ASSERT_GE(eval_whoknows, 0);

  BalanceEvalOptions bo;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport r, RunBalanceEval(EvalTask::kRouting, {kSite}, options_, bo));
  ASSERT_EQ(r.datasets.size(), 1u);
  const BalanceDataset& d = r.datasets[0];
  EXPECT_EQ(d.n, plain.pooled.n);
  EXPECT_NE(d.ranker.find("learned"), std::string::npos) << d.ranker;
  const LoadMethodResult* w = Method(d, "whoknows");
  const LoadMethodResult* b = Method(d, "whoknows-balanced");
  const LoadMethodResult* p = Method(d, "popularity");
  ASSERT_TRUE(w && b && p && Method(d, "round-robin"));
  // The same rankings as RunEval's whoknows and popularity.
  EXPECT_NEAR(w->mrr, eval_whoknows, 1e-9);
  EXPECT_NEAR(p->mrr, eval_popularity, 1e-9);
  // Unbalanced, the same few people get everything; balance spreads it.
  EXPECT_GT(w->load.max_share, 0.5);
  EXPECT_LT(b->load.max_share, w->load.max_share);
  EXPECT_GT(b->load.distinct_people, w->load.distinct_people);

  // The other mode spreads it too (the default is the marginal-gain assignment).
  ASSERT_GT(bo.balance.gain_depth, 0u);
  BalanceEvalOptions spread = bo;
  spread.balance.gain_depth = 0;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport sr, RunBalanceEval(EvalTask::kRouting, {kSite}, options_, spread));
  const LoadMethodResult* sb = Method(sr.datasets[0], "whoknows-balanced");
  EXPECT_NEAR(Method(sr.datasets[0], "whoknows")->mrr, w->mrr, 1e-12);
  EXPECT_LT(sb->load.max_share, w->load.max_share);
  EXPECT_GT(sb->load.distinct_people, w->load.distinct_people);

  // Outcomes fed back: whoknows-outcomes (unbalanced, the same feedback) is reported beside them; people
  // who let routed questions go unanswered move down, so it routes to more people than whoknows.
  ASSERT_TRUE(bo.outcomes);
  const LoadMethodResult* o = Method(d, "whoknows-outcomes");
  ASSERT_TRUE(o);
  EXPECT_GT(o->load.distinct_people, w->load.distinct_people);

  // No load charge and no outcomes in the replay (the feedback weight stays on, with nothing to learn
  // from): the balanced routing, and whoknows-outcomes, are the unbalanced one.
  bo.balance.weight = 0;
  bo.balance.decline_weight = 0;
  ASSERT_GT(bo.balance.outcome_weight, 0);
  bo.outcomes = false;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport same, RunBalanceEval(EvalTask::kRouting, {kSite}, options_, bo));
  const LoadMethodResult* w0 = Method(same.datasets[0], "whoknows");
  const LoadMethodResult* b0 = Method(same.datasets[0], "whoknows-balanced");
  EXPECT_NEAR(b0->mrr, w0->mrr, 1e-12);
  EXPECT_EQ(b0->load.max_share, w0->load.max_share);
  EXPECT_EQ(b0->load.distinct_people, w0->load.distinct_people);
  const LoadMethodResult* o0 = Method(same.datasets[0], "whoknows-outcomes");
  EXPECT_NEAR(o0->mrr, w0->mrr, 1e-12);
  EXPECT_EQ(o0->load.max_share, w0->load.max_share);
}

}  // namespace
}  // namespace whoknows::service
