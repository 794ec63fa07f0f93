// Tests for `whoknows eval` (service/eval.cc, service/cli_eval.cc) on the
// hand-made fixtures in tests/data/eval/:
//   hand.stackexchange.com/Posts.xml  18 posts: 12 before the split (fraction
//       0.67 -> index 12), 3 test questions with accepted answers.
//       Answers before the split: user 3 (Carol) 4, user 2 (Bob) 3, user 1 (Alice) 1.
//   chat/replies.jsonl  20 mails: 12 before the split (fraction 0.62 -> index 12).
//       Messages before the split: bob 4, dave 3, alice 2, carol 2, erin 1.
// Expected metrics below are worked out by hand in the comments.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli_run.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/eval.h"

namespace whoknows::service {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(WK_TEST_DATA_DIR) + "/eval";
const std::string kSite = kData + "/hand.stackexchange.com";
const std::string kChat = kData + "/chat/replies.jsonl";

constexpr double kTol = 1e-9;
const double kInvLog3 = 1.0 / std::log2(3.0);  // gain at rank 2
const double kInvLog5 = 1.0 / std::log2(5.0);  // gain at rank 4

const MethodResult* Find(const DatasetResult& d, const std::string& method) {
  for (const MethodResult& m : d.methods) {
    if (m.method == method) return &m;
  }
  return nullptr;
}

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wk_eval_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    options_.temp_dir = tmp_;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  std::string tmp_;
  EvalOptions options_;
};

TEST_F(EvalTest, TaskNames) {
  ASSERT_OK_AND_ASSIGN(EvalTask t, ParseEvalTask("replies"));
  EXPECT_EQ(t, EvalTask::kReplies);
  EXPECT_EQ(EvalTaskName(EvalTask::kConnect), "connect");
  absl::StatusOr<EvalTask> bad = ParseEvalTask("routng");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("routng"), std::string_view::npos);
}

TEST_F(EvalTest, SplitTimeIsTheTimestampAtTheFraction) {
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::Record> recs, LoadRecords(kSite, nullptr));
  ASSERT_EQ(recs.size(), 18u);
  for (size_t i = 1; i < recs.size(); ++i) EXPECT_LE(recs[i - 1].timestamp, recs[i].timestamp);
  // floor(0.67 * 18) = 12: the first test question (post 13, 2020-02-01T10:00:00Z).
  EXPECT_EQ(SplitTime(recs, 0.67), 1580551200);
  EXPECT_EQ(recs[12].id, "se:hand.stackexchange.com:post:13");
  EXPECT_EQ(SplitTime(recs, 0.999), recs.back().timestamp);
  EXPECT_EQ(SplitTime({}, 0.5), 0);
}

TEST_F(EvalTest, RoutingMetricsByHand) {
  options_.split_fraction = 0.67;
  options_.keep_index_dir = tmp_ + "/index";
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  ASSERT_EQ(r.datasets.size(), 1u);
  const DatasetResult& d = r.datasets[0];
  EXPECT_EQ(d.n, 3u);
  EXPECT_EQ(d.train_records, 12u);
  EXPECT_EQ(d.test_records, 6u);
  EXPECT_EQ(d.split_time, 1580551200);

  // Every routing method, in rank.h's order.
  std::vector<std::string> names;
  for (const MethodResult& m : d.methods) names.push_back(m.method);
  std::vector<std::string> want;
  for (engine::Method m : engine::AllMethods()) {
    want.emplace_back(engine::MethodName(m));
    if (m == engine::Method::kNoGraph) want.emplace_back("whoknows-blend");
  }
  EXPECT_EQ(names, want);

  // Popularity ranks Carol (4 answers), Bob (3), Alice (1). Truths: Alice (rank 3),
  // Bob (rank 2), Carol (rank 1).
  const MethodResult* pop = Find(d, "popularity");
  ASSERT_NE(pop, nullptr);
  EXPECT_NEAR(pop->mrr, (1.0 / 3 + 0.5 + 1.0) / 3, kTol);
  EXPECT_NEAR(pop->p_at_1, 1.0 / 3, kTol);
  EXPECT_NEAR(pop->ndcg_at_3, (0.5 + kInvLog3 + 1.0) / 3, kTol);
  EXPECT_NEAR(pop->ndcg_at_10, (0.5 + kInvLog3 + 1.0) / 3, kTol);
  EXPECT_NEAR(pop->hits_at_10, 1.0, kTol);

  // BM25 voting: each test question's words occur only in its topic's
  // question (asker vote 0.3) and the true expert's accepted answer (vote 2),
  // so the truth is first every time.
  const MethodResult* bm25 = Find(d, "bm25-voting");
  ASSERT_NE(bm25, nullptr);
  EXPECT_NEAR(bm25->mrr, 1.0, kTol);
  EXPECT_NEAR(bm25->p_at_1, 1.0, kTol);
  EXPECT_NEAR(bm25->ndcg_at_3, 1.0, kTol);
  EXPECT_NEAR(bm25->hits_at_10, 1.0, kTol);

  for (const MethodResult& m : d.methods) {
    for (double v : {m.mrr, m.p_at_1, m.ndcg_at_3, m.ndcg_at_10, m.hits_at_10}) {
      EXPECT_GE(v, 0.0) << m.method;
      EXPECT_LE(v, 1.0) << m.method;
    }
    EXPECT_LE(m.p_at_1, m.mrr + kTol) << m.method;
    EXPECT_LE(m.mrr, m.hits_at_10 + kTol) << m.method;
  }

  // Standard errors over the 3 cases: popularity's reciprocal ranks are 1/3, 1/2, 1;
  // bm25-voting's are all 1 (no spread).
  const double m = (1.0 / 3 + 0.5 + 1.0) / 3;
  const double var = ((1.0 / 3 - m) * (1.0 / 3 - m) + (0.5 - m) * (0.5 - m) + (1.0 - m) * (1.0 - m)) / 2;
  EXPECT_NEAR(pop->mrr_se, std::sqrt(var / 3), kTol);
  EXPECT_NEAR(bm25->mrr_se, 0.0, kTol);
  // whoknows minus each baseline, paired per case: the mean difference is the difference of
  // the MRRs; against bm25-voting (RR 1 everywhere) its spread is whoknows's own.
  const MethodResult* wk = Find(d, "whoknows");
  ASSERT_NE(wk, nullptr);
  ASSERT_EQ(d.paired.size(), 3u);
  EXPECT_EQ(d.paired[0].baseline, "popularity");
  EXPECT_EQ(d.paired[1].baseline, "recent-popularity");
  EXPECT_EQ(d.paired[2].baseline, "bm25-voting");
  for (const PairedDiff& p : d.paired) {
    EXPECT_NEAR(p.mrr_diff, wk->mrr - Find(d, p.baseline)->mrr, kTol) << p.baseline;
    EXPECT_GE(p.se, 0.0);
  }
  EXPECT_NEAR(d.paired[2].se, wk->mrr_se, kTol);

  // Pooled over one data set = that data set.
  EXPECT_EQ(r.pooled.n, 3u);
  EXPECT_NEAR(Find(r.pooled, "popularity")->mrr, pop->mrr, kTol);
  EXPECT_NEAR(Find(r.pooled, "popularity")->mrr_se, pop->mrr_se, kTol);
  ASSERT_EQ(r.pooled.paired.size(), 3u);
  EXPECT_NEAR(r.pooled.paired[0].mrr_diff, d.paired[0].mrr_diff, kTol);
}

// --cases-out: every case's reciprocal rank per method, one JSON line each,
// appended (two runs, say with and without a feature, pair up by case).
TEST_F(EvalTest, CasesOutHasEveryCasesReciprocalRankPerMethod) {
  options_.split_fraction = 0.67;
  options_.cases_out = tmp_ + "/cases.jsonl";
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  const DatasetResult& d = r.datasets[0];
  auto read = [&] {
    std::map<std::string, std::vector<std::pair<std::string, double>>> by_method;  // method -> (case, rr)
    std::ifstream in(options_.cases_out);
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j.at("data").get<std::string>(), kSite);
      by_method[j.at("method").get<std::string>()].emplace_back(j.at("case").get<std::string>(),
                                                               j.at("rr").get<double>());
    }
    return by_method;
  };
  auto once = read();
  ASSERT_EQ(once.size(), d.methods.size());
  const auto& cases = once.begin()->second;
  for (const MethodResult& m : d.methods) {
    const auto& v = once[m.method];
    ASSERT_EQ(v.size(), 3u) << m.method;
    double sum = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(v[i].first, cases[i].first) << m.method;  // the same cases in the same order
      sum += v[i].second;
    }
    EXPECT_NEAR(sum / 3, m.mrr, kTol) << m.method;
  }
  std::vector<double> pop;
  for (const auto& [c, rr] : once["popularity"]) pop.push_back(rr);
  std::sort(pop.begin(), pop.end());
  EXPECT_NEAR(pop[0], 1.0 / 3, kTol);
  EXPECT_NEAR(pop[1], 0.5, kTol);
  EXPECT_NEAR(pop[2], 1.0, kTol);
  EXPECT_NE(cases[0].first, cases[1].first);

  // A second run appends.
  ASSERT_OK(RunEval(EvalTask::kRouting, {kSite}, options_).status());
  EXPECT_EQ(read()["whoknows"].size(), 6u);

  // A file that cannot be written is an error naming it.
  options_.cases_out = tmp_ + "/no/such/dir/cases.jsonl";
  absl::StatusOr<EvalReport> bad = RunEval(EvalTask::kRouting, {kSite}, options_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(options_.cases_out), std::string_view::npos) << bad.status();
}

TEST_F(EvalTest, NoTestPeriodDocumentIsIndexed) {
  options_.split_fraction = 0.67;
  options_.keep_index_dir = tmp_ + "/index";
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  const int64_t split = r.datasets[0].split_time;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(options_.keep_index_dir));
  EXPECT_EQ(reader->doc_count(), 12u);
  size_t seen = 0;
  ASSERT_OK(reader->ForEachDocument([&](const indexer::StoredDoc& d) {
    ++seen;
    EXPECT_LT(d.timestamp, split) << d.id;
  }));
  EXPECT_EQ(seen, 12u);
  // The test questions' own words are not retrievable.
  ASSERT_OK_AND_ASSIGN(auto hits, reader->Search("spoonful litre", {}, 10));
  EXPECT_TRUE(hits.empty());
  // Temporary indexes are removed: only the kept one is left in temp_dir.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(EvalTest, RepliesMetricsByHand) {
  options_.split_fraction = 0.62;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kReplies, {kChat}, options_));
  const DatasetResult& d = r.datasets[0];
  // t1 (frank): truth {bob} (gina was not active before). t4 (alice):
  // truth {dave, erin} (alice's own reply does not count). t8: no replies.
  EXPECT_EQ(d.n, 2u);
  EXPECT_EQ(d.train_records, 12u);
  // Popularity: bob 4, dave 3, alice 2, carol 2, erin 1.
  // t1: bob first. t4 (alice excluded): bob, dave, carol, erin -> dave 2nd, erin 4th.
  const MethodResult* pop = Find(d, "popularity");
  ASSERT_NE(pop, nullptr);
  const double idcg2 = 1.0 + kInvLog3;
  EXPECT_NEAR(pop->mrr, (1.0 + 0.5) / 2, kTol);
  EXPECT_NEAR(pop->p_at_1, 0.5, kTol);
  EXPECT_NEAR(pop->ndcg_at_3, (1.0 + kInvLog3 / idcg2) / 2, kTol);
  EXPECT_NEAR(pop->ndcg_at_10, (1.0 + (kInvLog3 + kInvLog5) / idcg2) / 2, kTol);
  EXPECT_NEAR(pop->hits_at_10, 1.0, kTol);
}

TEST_F(EvalTest, ConnectMetricsByHand) {
  options_.split_fraction = 0.62;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kConnect, {kChat}, options_));
  const DatasetResult& d = r.datasets[0];
  // Only erin -> alice (t7) is a first interaction between people active
  // before the split (alice-dave shared thread m1; frank and gina are new).
  EXPECT_EQ(d.n, 2u);
  std::vector<std::string> names;
  for (const MethodResult& m : d.methods) names.push_back(m.method);
  EXPECT_EQ(names, (std::vector<std::string>{"common-neighbours", "adamic-adar", "resource-allocation", "jaccard",
                                             "popularity", "recent-popularity", "whoknows", "whoknows-ppr"}));
  // Reply graph: alice-bob, alice-dave, bob-dave, bob-erin, carol-dave, carol-erin (bob-carol only
  // shared thread m3, a contact but no reply edge). alice: carol (via dave) and erin (via bob) tie
  // on every score (degrees 3 and 3) and carol wins by id; erin: dave (via bob and carol) beats
  // alice (via bob) on every score.
  for (const char* m : {"common-neighbours", "adamic-adar", "resource-allocation", "jaccard"}) {
    const MethodResult* x = Find(d, m);
    ASSERT_NE(x, nullptr);
    EXPECT_NEAR(x->mrr, 0.5, kTol) << m;
    EXPECT_NEAR(x->p_at_1, 0.0, kTol) << m;
    EXPECT_NEAR(x->ndcg_at_3, kInvLog3, kTol) << m;
    EXPECT_NEAR(x->hits_at_10, 1.0, kTol) << m;
    EXPECT_NEAR(x->candidate_recall, 1.0, kTol) << m;
  }
  // Two people with a handful of earlier first interactions: too little history, so whoknows is the
  // hand-tuned ranking (the fallback) and scores exactly as whoknows-ppr.
  EXPECT_NE(d.ranker.find("fallback"), std::string::npos) << d.ranker;
  EXPECT_NEAR(Find(d, "whoknows")->mrr, Find(d, "whoknows-ppr")->mrr, kTol);
}

// The connect ranking's history is ranked as of times before the split and labelled only by
// interactions before it; with the bar lowered it trains and is used.
TEST_F(EvalTest, ConnectHistoryIsBeforeTheSplit) {
  options_.split_fraction = 0.62;
  options_.connect_train.train.min_groups = 2;
  options_.connect_train.train.rounds = 20;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kConnect, {kChat}, options_));
  const DatasetResult& d = r.datasets[0];
  ASSERT_GT(d.history_queries, 0u);
  EXPECT_LT(d.history_latest, d.split_time);
  EXPECT_NE(d.ranker.find("learned"), std::string::npos) << d.ranker;
  // No training: the hand-tuned ranking, exactly whoknows-ppr.
  options_.max_history = 0;
  ASSERT_OK_AND_ASSIGN(EvalReport off, RunEval(EvalTask::kConnect, {kChat}, options_));
  EXPECT_EQ(off.datasets[0].ranker.find("learned"), std::string::npos);
  EXPECT_NEAR(Find(off.datasets[0], "whoknows")->ndcg_at_10, Find(off.datasets[0], "whoknows-ppr")->ndcg_at_10, kTol);
}

// The tool's adamic-adar and common-neighbours rows against networkx on the
// same fixture (the reference script rebuilds the split, reply graph,
// contacts and truth on its own). The engine's PredictLinks() is tested by
// the engine tests.
TEST_F(EvalTest, ConnectAdamicAdarMatchesNetworkx) {
 for (const char* method : {"adamic-adar", "common-neighbours"}) {
  if (std::system("/usr/bin/python3 -c 'import networkx' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-networkx not available";
  }
  const std::string cmd = "/usr/bin/python3 " + kData + "/aa_reference.py " + kChat + " 0.62 " + method;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  const nlohmann::json ref = nlohmann::json::parse(out);

  options_.split_fraction = 0.62;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kConnect, {kChat}, options_));
  const DatasetResult& d = r.datasets[0];
  EXPECT_EQ(d.n, ref["n"].get<size_t>());
  const MethodResult* aa = Find(d, method);
  ASSERT_NE(aa, nullptr);
  EXPECT_NEAR(aa->mrr, ref["mrr"].get<double>(), 1e-9);
  EXPECT_NEAR(aa->p_at_1, ref["p_at_1"].get<double>(), 1e-9);
  EXPECT_NEAR(aa->ndcg_at_3, ref["ndcg_at_3"].get<double>(), 1e-9);
  EXPECT_NEAR(aa->ndcg_at_10, ref["ndcg_at_10"].get<double>(), 1e-9);
  EXPECT_NEAR(aa->hits_at_10, ref["hits_at_10"].get<double>(), 1e-9);
 }
}

TEST_F(EvalTest, PooledIsTheMicroAverage) {
  options_.split_fraction = 0.62;
  ASSERT_OK_AND_ASSIGN(EvalReport one, RunEval(EvalTask::kReplies, {kChat}, options_));
  ASSERT_OK_AND_ASSIGN(EvalReport two, RunEval(EvalTask::kReplies, {kChat, kChat}, options_));
  ASSERT_EQ(two.datasets.size(), 2u);
  EXPECT_EQ(two.pooled.n, 2 * one.pooled.n);
  for (size_t i = 0; i < one.pooled.methods.size(); ++i) {
    EXPECT_NEAR(two.pooled.methods[i].mrr, one.pooled.methods[i].mrr, kTol);
    EXPECT_NEAR(two.pooled.methods[i].ndcg_at_10, one.pooled.methods[i].ndcg_at_10, kTol);
  }
}

TEST_F(EvalTest, MaxQueriesSamplesDeterministically) {
  options_.split_fraction = 0.67;
  options_.max_queries = 2;
  ASSERT_OK_AND_ASSIGN(EvalReport a, RunEval(EvalTask::kRouting, {kSite}, options_));
  ASSERT_OK_AND_ASSIGN(EvalReport b, RunEval(EvalTask::kRouting, {kSite}, options_));
  EXPECT_EQ(a.datasets[0].n, 2u);
  EXPECT_EQ(a.datasets[0].candidates, 3u);
  // Everything but the wall-clock times (rounded to 0.1 ms, they differ between runs under load).
  auto without_times = [](const EvalReport& r) {
    nlohmann::json j = EvalReportToJson(r);
    for (nlohmann::json& d : j["datasets"]) {
      d["ranker"].erase("feature_seconds");
      d["ranker"].erase("train_seconds");
    }
    return j.dump();
  };
  EXPECT_EQ(without_times(a), without_times(b));
}

TEST_F(EvalTest, RecentPopularityAndModel2Baselines) {
  options_.split_fraction = 0.67;  // split 2020-02-01T10:00Z
  options_.baseline_ask.recent_days = 22;  // from 2020-01-10T10:00Z: Bob 2 answers (11, 12), Carol 1 (10)
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  const DatasetResult& d = r.datasets[0];
  // Truths Alice (never ranked), Bob (rank 1), Carol (rank 2).
  const MethodResult* recent = Find(d, "recent-popularity");
  ASSERT_NE(recent, nullptr);
  EXPECT_NEAR(recent->mrr, (0 + 1.0 + 0.5) / 3, kTol);
  EXPECT_NEAR(recent->candidate_recall, 2.0 / 3, kTol);  // Alice is not among its candidates
  const MethodResult* pop = Find(d, "popularity");
  EXPECT_NEAR(pop->candidate_recall, 1.0, kTol);
  // Model 2 with the thread text: every truth answered a matching question before.
  const MethodResult* bm25 = Find(d, "bm25-voting");
  EXPECT_NEAR(bm25->candidate_recall, 1.0, kTol);
}

TEST_F(EvalTest, NoTestPeriodRecordReachesTraining) {
  // Split at post 10 (2020-01-10T10:00Z), the accepted answer of question 9: question 9
  // is before the split but its label is not, so it must not be a history query. Question 7
  // (accepted answer 8 by Carol, active before it) is the only history query.
  options_.split_fraction = 0.5;
  options_.train.min_groups = 1;
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::Record> recs, LoadRecords(kSite, nullptr));
  ASSERT_EQ(recs[9].id, "se:hand.stackexchange.com:post:10");
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  const DatasetResult& d = r.datasets[0];
  EXPECT_EQ(d.split_time, recs[9].timestamp);
  EXPECT_EQ(d.history_queries, 1u);
  EXPECT_EQ(d.history_latest, recs[6].timestamp);  // question 7
  EXPECT_EQ(recs[6].id, "se:hand.stackexchange.com:post:7");
  EXPECT_LT(d.history_latest, d.split_time);
  // One history query with a single candidate gives no pair to learn from: the blend.
  EXPECT_NE(d.ranker.find("blend"), std::string::npos) << d.ranker;

  // Default split (0.67): two history queries (7 and 9); too few for the default minimum
  // (the hand-tuned blend is the fallback), enough when the minimum is lowered.
  options_.split_fraction = 0.67;
  options_.train.min_groups = 30;
  ASSERT_OK_AND_ASSIGN(r, RunEval(EvalTask::kRouting, {kSite}, options_));
  EXPECT_EQ(r.datasets[0].history_queries, 2u);
  EXPECT_NE(r.datasets[0].ranker.find("blend (fallback"), std::string::npos) << r.datasets[0].ranker;
  EXPECT_LT(r.datasets[0].history_latest, r.datasets[0].split_time);
  // Neither has a matching document before its own time (the fixture's topics are new each
  // time), so neither has candidates: nothing to learn from even with the minimum at 1.
  options_.train.min_groups = 1;
  ASSERT_OK_AND_ASSIGN(r, RunEval(EvalTask::kRouting, {kSite}, options_));
  EXPECT_NE(r.datasets[0].ranker.find("0 history queries with a known answerer"), std::string::npos)
      << r.datasets[0].ranker;
  // The chat fixture's history threads do have earlier matches: a learned ranker.
  options_.split_fraction = 0.62;
  ASSERT_OK_AND_ASSIGN(r, RunEval(EvalTask::kReplies, {kChat}, options_));
  EXPECT_NE(r.datasets[0].ranker.find("learned (xgboost"), std::string::npos) << r.datasets[0].ranker;
  EXPECT_GT(r.datasets[0].history_queries, 0u);
  EXPECT_LT(r.datasets[0].history_latest, r.datasets[0].split_time);
  // The learned (linear) ranker's weights are reported, one per feature in FeatureNames()
  // order, graph features included: in the text and in the JSON.
  {
    const auto& w = r.datasets[0].ranker_weights;
    ASSERT_EQ(w.size(), engine::kNumRankFeatures);
    bool any = false;
    for (size_t i = 0; i < w.size(); ++i) {
      EXPECT_EQ(w[i].first, engine::FeatureNames()[i]);
      EXPECT_TRUE(std::isfinite(w[i].second)) << w[i].first;
      any |= w[i].second != 0;
    }
    EXPECT_TRUE(any);
    const std::string text = FormatEvalReport(r);
    EXPECT_NE(text.find("whoknows ranker weights: vote "), std::string::npos) << text;
    const nlohmann::json j = EvalReportToJson(r);
    ASSERT_TRUE(j["datasets"][0]["ranker"]["weights"].is_object());
    EXPECT_EQ(j["datasets"][0]["ranker"]["weights"].size(), engine::kNumRankFeatures);
    EXPECT_TRUE(j["datasets"][0]["ranker"]["weights"]["ppr"].is_number());
  }
  options_.max_history = 0;
  options_.split_fraction = 0.67;
  ASSERT_OK_AND_ASSIGN(r, RunEval(EvalTask::kRouting, {kSite}, options_));
  EXPECT_EQ(r.datasets[0].history_queries, 0u);
  EXPECT_NE(r.datasets[0].ranker.find("blend"), std::string::npos);
  EXPECT_TRUE(r.datasets[0].ranker_weights.empty());  // the blend: no weights reported
  EXPECT_FALSE(EvalReportToJson(r)["datasets"][0]["ranker"].contains("weights"));
}

// --pooled-training: rankers trained on several data sets' histories, each from
// before its own split. The same data set twice: leaving one out trains on the
// other's (identical) history, so whoknows-loo ranks exactly as whoknows.
TEST_F(EvalTest, PooledTrainingRanksWithTheOtherDataSetsHistories) {
  options_.split_fraction = 0.62;
  options_.train.min_groups = 1;
  options_.pooled_training = true;
  options_.pooled_other_weights = {1.0, 0.5};
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kReplies, {kChat, kChat}, options_));
  ASSERT_EQ(r.datasets.size(), 2u);
  for (const DatasetResult& d : r.datasets) {
    ASSERT_GT(d.n, 0u);
    const size_t h = d.history_queries;
    ASSERT_GT(h, 0u);
    EXPECT_LT(d.history_latest, d.split_time);
    EXPECT_NE(d.ranker.find("learned (xgboost"), std::string::npos) << d.ranker;
    const MethodResult* own = Find(d, "whoknows");
    const MethodResult* loo = Find(d, "whoknows-loo");
    const MethodResult* pooled = Find(d, "whoknows-pooled");
    const MethodResult* mix1 = Find(d, "whoknows-mix[1]");
    ASSERT_TRUE(own && loo && pooled && mix1 && Find(d, "whoknows-mix[0.5]"));
    EXPECT_NEAR(loo->mrr, own->mrr, kTol);
    EXPECT_NEAR(mix1->mrr, pooled->mrr, kTol);  // the others at weight 1: the pool itself
    // What each pooled ranker was trained on: the history queries of both data sets (each
    // before its own split), this one's counted once, left out, or twice (others at 0.5).
    std::map<std::string, std::string> notes(d.pooled_rankers.begin(), d.pooled_rankers.end());
    ASSERT_EQ(notes.size(), 4u);
    for (const auto& [method, note] : notes) EXPECT_TRUE(note.starts_with("learned (xgboost")) << method << ": " << note;
    EXPECT_NE(notes["whoknows-pooled"].find(absl::StrFormat("; %d history queries, %d of them this data set's", 2 * h, h)),
              std::string::npos) << notes["whoknows-pooled"];
    EXPECT_NE(notes["whoknows-loo"].find(absl::StrFormat("; %d history queries, 0 of them this data set's", h)),
              std::string::npos) << notes["whoknows-loo"];
    EXPECT_NE(notes["whoknows-mix[0.5]"].find(absl::StrFormat("; %d history queries, %d of them this data set's (2 copies of each)", 3 * h, 2 * h)),
              std::string::npos) << notes["whoknows-mix[0.5]"];
    // Paired against the data set's own ranker.
    bool found = false;
    for (const PairedDiff& p : d.paired) {
      if (p.method != "whoknows-loo") continue;
      found = true;
      EXPECT_EQ(p.baseline, "whoknows");
      EXPECT_NEAR(p.mrr_diff, 0, kTol);
      EXPECT_NEAR(p.se, 0, kTol);
    }
    EXPECT_TRUE(found);
  }
  const std::string text = FormatEvalReport(r);
  EXPECT_NE(text.find("whoknows-loo ranker: learned (xgboost"), std::string::npos) << text;
  EXPECT_NE(text.find("pooled rankers minus whoknows"), std::string::npos) << text;
  const nlohmann::json j = EvalReportToJson(r);
  EXPECT_TRUE(j["datasets"][1]["pooled_rankers"]["whoknows-pooled"].is_string());
  bool paired = false;
  for (const auto& p : j["pooled"]["paired"]) paired |= p["method"] == "whoknows-mix[0.5]" && p["baseline"] == "whoknows";
  EXPECT_TRUE(paired) << j["pooled"]["paired"].dump();

  options_.pooled_other_weights = {0};
  EXPECT_EQ(RunEval(EvalTask::kReplies, {kChat}, options_).status().code(), absl::StatusCode::kInvalidArgument);
}

// No test-period record reaches a pooled ranker: the routing fixture split at post 10 has one
// history query (question 7; question 9's accepted answer is after the split), and that is all
// the chat data set's pooled ranker gets from it; the site's leave-one-out ranker has none of
// its own.
TEST_F(EvalTest, PooledTrainingTakesNoTestPeriodRecord) {
  options_.split_fraction = 0.5;
  options_.train.min_groups = 1;
  options_.pooled_training = true;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite, kChat}, options_));
  ASSERT_EQ(r.datasets.size(), 2u);
  const DatasetResult& site = r.datasets[0];
  const DatasetResult& chat = r.datasets[1];
  EXPECT_EQ(site.history_queries, 1u);
  const size_t h = chat.history_queries;
  ASSERT_GT(h, 0u);
  EXPECT_LT(chat.history_latest, chat.split_time);
  std::map<std::string, std::string> sn(site.pooled_rankers.begin(), site.pooled_rankers.end());
  std::map<std::string, std::string> cn(chat.pooled_rankers.begin(), chat.pooled_rankers.end());
  EXPECT_NE(cn["whoknows-pooled"].find(absl::StrFormat("; %d history queries, %d of them this data set's", h + 1, h)),
            std::string::npos) << cn["whoknows-pooled"];
  EXPECT_NE(sn["whoknows-pooled"].find(absl::StrFormat("; %d history queries, 1 of them this data set's", h + 1)),
            std::string::npos) << sn["whoknows-pooled"];
  EXPECT_NE(sn["whoknows-loo"].find(absl::StrFormat("; %d history queries, 0 of them this data set's", h)),
            std::string::npos) << sn["whoknows-loo"];
  EXPECT_NE(cn["whoknows-loo"].find("; 1 history queries, 0 of them this data set's"), std::string::npos)
      << cn["whoknows-loo"];
}

TEST_F(EvalTest, JsonShape) {
  options_.split_fraction = 0.67;
  ASSERT_OK_AND_ASSIGN(EvalReport r, RunEval(EvalTask::kRouting, {kSite}, options_));
  const nlohmann::json j = EvalReportToJson(r);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j["task"], "routing");
  ASSERT_TRUE(j["datasets"].is_array());
  ASSERT_EQ(j["datasets"].size(), 1u);
  const nlohmann::json& d = j["datasets"][0];
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d["path"], kSite);
  ASSERT_TRUE(d["ranker"].is_object());
  EXPECT_EQ(d["ranker"]["history_queries"], 2);
  EXPECT_LT(d["ranker"]["history_latest"].get<int64_t>(), d["ranker"]["split_time"].get<int64_t>());
  EXPECT_EQ(d["n"], 3);
  ASSERT_TRUE(d["methods"].is_array());
  EXPECT_EQ(d["methods"].size(), engine::AllMethods().size() + 1);  // + whoknows-blend
  for (const nlohmann::json& m : d["methods"]) {
    EXPECT_EQ(m.size(), 8u);
    EXPECT_TRUE(m["method"].is_string());
    for (const char* k : {"mrr", "p_at_1", "ndcg_at_3", "ndcg_at_10", "hits_at_10", "candidate_recall", "mrr_se"}) {
      EXPECT_TRUE(m[k].is_number()) << k;
    }
  }
  // whoknows minus popularity, recent-popularity and bm25-voting, paired per case.
  ASSERT_TRUE(d["paired"].is_array());
  ASSERT_EQ(d["paired"].size(), 3u);
  for (const nlohmann::json& p : d["paired"]) {
    EXPECT_EQ(p["method"], "whoknows");
    EXPECT_TRUE(p["baseline"].is_string());
    EXPECT_TRUE(p["mrr_diff"].is_number());
    EXPECT_GE(p["se"].get<double>(), 0.0);
  }
  EXPECT_EQ(d["paired"][1]["baseline"], "recent-popularity");
  EXPECT_EQ(j["pooled"].size(), 3u);
  EXPECT_EQ(j["pooled"]["paired"].size(), 3u);
  EXPECT_EQ(j["pooled"]["n"], 3);
  EXPECT_EQ(j["pooled"]["methods"].size(), engine::AllMethods().size() + 1);
  EXPECT_EQ(j["datasets"][0]["methods"][1]["method"], "popularity");
  EXPECT_NEAR(j["datasets"][0]["methods"][1]["mrr"].get<double>(), 0.6111, 1e-9);  // rounded to 4 places
}

TEST_F(EvalTest, Errors) {
  absl::StatusOr<EvalReport> r = RunEval(EvalTask::kRouting, {kData + "/does-not-exist"}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  r = RunEval(EvalTask::kRouting, {kData + "/empty"}, options_);  // nothing readable in it
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = RunEval(EvalTask::kRouting, {}, options_);
  EXPECT_FALSE(r.ok());
  options_.split_fraction = 1.0;
  r = RunEval(EvalTask::kRouting, {kSite}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  options_.split_fraction = 0.01;  // nothing before the split
  r = RunEval(EvalTask::kRouting, {kSite}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

int RunCli(const std::vector<std::string>& args, std::string* out) {
  return testing::RunCli(RegisterEvalCommand, args, out);
}

TEST_F(EvalTest, Cli) {
  std::string out;
  EXPECT_EQ(RunCli({"eval", "routing", kSite, "--split-fraction", "0.67", "--json", "--quiet", "--temp-dir", tmp_},
                   &out),
            0);
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["task"], "routing");
  EXPECT_EQ(j["pooled"]["n"], 3);

  EXPECT_EQ(RunCli({"eval", "replies", kChat, "--split-fraction", "0.62", "--quiet", "--temp-dir", tmp_}, &out), 0);
  EXPECT_NE(out.find("popularity"), std::string::npos);
  EXPECT_NE(out.find("MRR"), std::string::npos);

  EXPECT_NE(RunCli({"eval", "nonsense", kSite, "--quiet"}, &out), 0);
  EXPECT_NE(RunCli({"eval", "routing", kSite, "--quiet", "--param", "w_bogus=1"}, &out), 0);
  EXPECT_NE(RunCli({"eval", "routing", kSite, "--quiet", "--param", "w_ppr"}, &out), 0);
  EXPECT_NE(RunCli({"eval", "routing", kData + "/missing", "--quiet"}, &out), 0);
}

TEST_F(EvalTest, SetEvalParam) {
  engine::AskOptions ask;
  engine::ConnectOptions connect;
  ASSERT_OK(SetEvalParam("w_ppr", 0.7, &ask, &connect));
  EXPECT_EQ(ask.w_ppr, 0.7);
  ASSERT_OK(SetEvalParam("ppr.alpha", 0.4, &ask, &connect));
  EXPECT_EQ(ask.ppr.alpha, 0.4);
  ASSERT_OK(SetEvalParam("connect.beta", 0.25, &ask, &connect));
  EXPECT_EQ(connect.beta, 0.25);
  EXPECT_EQ(SetEvalParam("w_nothing", 1, &ask, &connect).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetEvalParam("w_ppr", -1, &ask, &connect).code(), absl::StatusCode::kInvalidArgument);
  // --param changes what the whoknows method computes but not the baselines.
  options_.split_fraction = 0.67;
  ASSERT_OK_AND_ASSIGN(EvalReport a, RunEval(EvalTask::kRouting, {kSite}, options_));
  options_.ask.w_vote = 0;  // no votes: only PPR and the prior rank people
  options_.ask.w_ppr = 0;
  ASSERT_OK_AND_ASSIGN(EvalReport b, RunEval(EvalTask::kRouting, {kSite}, options_));
  EXPECT_EQ(Find(a.datasets[0], "popularity")->mrr, Find(b.datasets[0], "popularity")->mrr);
  EXPECT_EQ(Find(a.datasets[0], "bm25-voting")->mrr, Find(b.datasets[0], "bm25-voting")->mrr);
}

TEST_F(EvalTest, ValidateUsesOnlyTheTrainingPeriod) {
  // The routing fixture's validation split: its 12 training posts split again
  // at 0.67 (index 8) leave the question 9 (Carol's accepted answer) as the
  // only validation case.
  options_.split_fraction = 0.67;
  ASSERT_OK_AND_ASSIGN(TuneResult t, TuneOnValidation(EvalTask::kRouting, {kSite}, options_));
  EXPECT_EQ(t.n, 1u);
  EXPECT_EQ(t.objective_name, "mrr");
  EXPECT_GE(t.best, t.baseline);
  // Every AskOptions weight in the grid (half_life_days, w_thread, half_life_days_qa,
  // w_thread_qa, w_ppr, w_asker, w_prior, w_comment, w_accepted, ppr.alpha, ppr.r_max),
  // none of ConnectOptions.
  EXPECT_EQ(t.chosen.size(), 14u);  // every routing weight in TunableParams()
  for (const auto& [name, value] : t.chosen) EXPECT_EQ(name.rfind("connect.", 0), std::string::npos) << name;
  const nlohmann::json j = TuneResultToJson(t);
  EXPECT_EQ(j["chosen"].size(), 14u);
}

}  // namespace
}  // namespace whoknows::service
