// `whoknows eval routing --balance`: the replay ranks as `whoknows eval`
// does (the learned ranker of the split), and balance changes only the
// routing, on the real coffee.stackexchange.com dump (592 posts).

#include "whoknows/service/eval_balance.h"

#include <filesystem>
#include <set>
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

  // Per-source settings: mail ones leave a Q&A site's replay exactly as it was.
  BalanceEvalOptions mail = bo;
  mail.balance.mail_weight = 0;
  mail.balance.mail_share_cap = 0.9;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport mr, RunBalanceEval(EvalTask::kRouting, {kSite}, options_, mail));
  const LoadMethodResult* mb = Method(mr.datasets[0], "whoknows-balanced");
  EXPECT_NEAR(mb->mrr, b->mrr, 1e-12);
  EXPECT_EQ(mb->load.max_share, b->load.max_share);
  EXPECT_EQ(mb->load.distinct_people, b->load.distinct_people);
  EXPECT_EQ(BalanceEvalReportToJson(mr)["balance"]["mail_weight"], 0.0);

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

// A mail archive's questions are mail questions in the replay, as in
// FindExperts: the mail settings apply there (one year of the real r-devel
// archive, 777 messages). With no load price for mail (and no feedback), the
// balanced routing is the unbalanced one; with the mail setting unset, the
// general weight spreads it.
TEST_F(EvalBalanceTest, MailSettingsApplyToAMailArchive) {
  const std::string year = std::string(WK_SHARED_DATA_DIR) + "/mbox/r-devel/r-devel-1998.mbox.xz";
  ASSERT_TRUE(std::filesystem::exists(year)) << year;
  BalanceEvalOptions bo;
  bo.balance.mail_weight = 0;
  bo.balance.decline_weight = 0;
  bo.balance.outcome_weight = 0;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport m, RunBalanceEval(EvalTask::kReplies, {year}, options_, bo));
  const LoadMethodResult* w = Method(m.pooled, "whoknows");
  const LoadMethodResult* b = Method(m.pooled, "whoknows-balanced");
  ASSERT_TRUE(w && b);
  ASSERT_GT(m.pooled.n, 10u);
  EXPECT_NEAR(b->mrr, w->mrr, 1e-12);
  EXPECT_EQ(b->load.max_share, w->load.max_share);
  EXPECT_EQ(b->load.distinct_people, w->load.distinct_people);
  bo.balance.mail_weight = -1;
  ASSERT_OK_AND_ASSIGN(BalanceEvalReport g, RunBalanceEval(EvalTask::kReplies, {year}, options_, bo));
  EXPECT_NEAR(Method(g.pooled, "whoknows")->mrr, w->mrr, 1e-12);
  EXPECT_LT(Method(g.pooled, "whoknows-balanced")->load.max_share, w->load.max_share);
  EXPECT_GT(Method(g.pooled, "whoknows-balanced")->load.distinct_people, w->load.distinct_people);
}

// --balance-grid: the mail grid varies only the mail settings and chooses by
// the margin rule; an unknown grid is refused before any work.
TEST_F(EvalBalanceTest, MailGridAndUnknownGrid) {
  BalanceEvalOptions bo;
  bo.grid = "nonsense";
  absl::StatusOr<BalanceTuneResult> bad = TuneBalance(EvalTask::kRouting, {kSite}, options_, bo, 0.95);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("nonsense"), std::string::npos) << bad.status();

  bo.grid = "mail";
  ASSERT_OK_AND_ASSIGN(BalanceTuneResult r, TuneBalance(EvalTask::kRouting, {kSite}, options_, bo, 0.95));
  EXPECT_EQ(r.rule, "margin");
  ASSERT_EQ(r.grid.size(), 12u);
  for (const auto& [b, d] : r.grid) {
    EXPECT_GE(b.mail_weight, 0);
    EXPECT_GE(b.mail_share_cap, 0);
    EXPECT_GE(b.mail_free_load, 0);
    EXPECT_EQ(b.weight, bo.balance.weight);  // the general setting as given
    EXPECT_EQ(b.share_cap, bo.balance.share_cap);
    // Coffee is Q&A, not mail: every point replays the same.
    EXPECT_NEAR(d.methods[1].mrr, r.grid[0].second.methods[1].mrr, 1e-12);
  }
  // The margin rule picks a point inside every target, or none.
  if (r.met) {
    const BalanceDataset& d = r.grid[r.chosen_index].second;
    EXPECT_GE(d.methods[1].mrr, 0.95 * d.methods[0].mrr);
    EXPECT_LE(d.methods[1].load.max_share, 0.5 * d.methods[0].load.max_share);
  }
}

// --balance-grid capacity: the weekly capacity x the share cap, the rest as
// given, chosen by the margin rule (the point furthest inside all targets).
TEST_F(EvalBalanceTest, CapacityGridVariesCapacityAndShareCap) {
  BalanceEvalOptions bo;
  bo.grid = "capacity";
  ASSERT_OK_AND_ASSIGN(BalanceTuneResult r, TuneBalance(EvalTask::kRouting, {kSite}, options_, bo, 0.95));
  EXPECT_EQ(r.rule, "margin");
  ASSERT_EQ(r.grid.size(), 12u);
  std::set<double> capacities, caps;
  auto margin = [](const BalanceDataset& d) {  // as the margin rule states it (README)
    const LoadMethodResult& w = d.methods[0];
    const LoadMethodResult& z = d.methods[1];
    const double mrr = w.mrr > 0 ? z.mrr / (0.95 * w.mrr) : 1.0;
    const double share = z.load.max_share > 0 ? 0.5 * w.load.max_share / z.load.max_share : 1.0;
    const double distinct =
        w.load.distinct_people > 0 ? z.load.distinct_people / (1.5 * w.load.distinct_people) : 1.0;
    return std::min({mrr, share, distinct}) - 1;
  };
  double best = -1e9;
  for (const auto& [b, d] : r.grid) {
    capacities.insert(b.default_capacity);
    caps.insert(b.share_cap);
    EXPECT_EQ(b.weight, bo.balance.weight);  // the rest as given
    EXPECT_EQ(b.gain_depth, bo.balance.gain_depth);
    EXPECT_LT(b.mail_weight, 0);
    ASSERT_EQ(d.methods[0].method, "whoknows");
    ASSERT_EQ(d.methods[1].method, "whoknows-balanced");
    best = std::max(best, margin(d));
  }
  EXPECT_EQ(capacities, (std::set<double>{3, 6, 10, 1000}));
  EXPECT_EQ(caps, (std::set<double>{0.3, 0.4, 0.5}));
  EXPECT_EQ(r.met, best >= 0);
  if (r.met) {
    EXPECT_NEAR(margin(r.grid[r.chosen_index].second), best, 1e-9);
    EXPECT_EQ(r.chosen.default_capacity, r.grid[r.chosen_index].first.default_capacity);
  }
}

}  // namespace
}  // namespace whoknows::service
