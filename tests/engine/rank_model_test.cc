#include "whoknows/engine/rank_model.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>

#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/rank.h"

namespace whoknows::engine {
namespace {

using testing::Corpus;
using testing::kDay;
using testing::kT0;

constexpr size_t kRecentActivity = 8;  // FeatureNames()[8]

// History where the one relevant candidate of each query is the most recently
// active one, while the blend feature is noise: only a trained model can tell.
std::vector<TrainingGroup> History(size_t queries, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<TrainingGroup> groups;
  for (size_t q = 0; q < queries; ++q) {
    TrainingGroup g;
    size_t best = 0;
    for (size_t i = 0; i < 12; ++i) {
      CandidateFeatures f;
      f.person = static_cast<uint32_t>(i);
      for (float& x : f.x) x = u(rng);
      g.candidates.push_back(f);
      if (g.candidates[i].x[kRecentActivity] > g.candidates[best].x[kRecentActivity]) best = i;
    }
    g.relevant.assign(g.candidates.size(), 0);
    g.relevant[best] = 1;
    groups.push_back(std::move(g));
  }
  return groups;
}

double Mrr(const RankModel& model, const std::vector<TrainingGroup>& groups) {
  double rr = 0;
  for (const TrainingGroup& g : groups) {
    auto pred = model.Predict(g.candidates);
    EXPECT_TRUE(pred.ok());
    size_t truth = 0;
    while (!g.relevant[truth]) ++truth;
    size_t rank = 1;
    for (size_t i = 0; i < pred->size(); ++i) rank += (*pred)[i] > (*pred)[truth];
    rr += 1.0 / static_cast<double>(rank);
  }
  return rr / static_cast<double>(groups.size());
}

TEST(RankModelTest, LearnsFromHistoryAndFallsBackWhenItIsTooSmall) {
  TrainOptions o;
  o.min_groups = 30;
  // Too little history: the caller keeps the hand-tuned blend.
  auto small = RankModel::Train(History(10, 1), o);
  EXPECT_EQ(small.status().code(), absl::StatusCode::kFailedPrecondition);
  // Groups without a relevant candidate do not count.
  std::vector<TrainingGroup> unlabeled = History(40, 2);
  for (TrainingGroup& g : unlabeled) g.relevant.assign(g.relevant.size(), 0);
  EXPECT_EQ(RankModel::Train(unlabeled, o).status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> model, RankModel::Train(History(200, 3), o));
  EXPECT_EQ(model->train_groups(), 200u);
  // Held-out queries: the learned order finds the most recently active (random order: MRR ~0.26).
  const std::vector<TrainingGroup> test = History(100, 4);
  EXPECT_GT(Mrr(*model, test), 0.8);

  // Stored beside an index and loaded back: the same scores.
  char dir[] = "/tmp/whoknows-rank-model-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/rank-model.json";
  ASSERT_OK(model->Save(path));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> loaded, RankModel::Load(path));
  ASSERT_OK_AND_ASSIGN(std::vector<float> a, model->Predict(test[0].candidates));
  ASSERT_OK_AND_ASSIGN(std::vector<float> b, loaded->Predict(test[0].candidates));
  EXPECT_EQ(a, b);
  unlink(path.c_str());
  rmdir(dir);
  EXPECT_FALSE(RankModel::Load(std::string(dir) + "/missing.json").ok());
}

constexpr size_t kBlend = kNumRankFeatures - 1;  // FeatureNames().back() == "blend"

size_t Top(const std::vector<float>& score) {
  return static_cast<size_t>(std::max_element(score.begin(), score.end()) - score.begin());
}

TEST(RankModelTest, BlendWeightIsChosenOnTheNewestHistory) {
  TrainOptions o;
  o.min_groups = 30;
  // The older 150 queries follow the recent activity; the newest 50 (the held-out quarter)
  // follow the hand-tuned blend: the weight that ranks them best is the blend's.
  std::vector<TrainingGroup> h = History(150, 5);
  std::vector<TrainingGroup> shifted = History(50, 6);
  for (TrainingGroup& g : shifted) {
    size_t best = 0;
    for (size_t i = 0; i < g.candidates.size(); ++i) {
      if (g.candidates[i].x[kBlend] > g.candidates[best].x[kBlend]) best = i;
    }
    g.relevant.assign(g.candidates.size(), 0);
    g.relevant[best] = 1;
  }
  h.insert(h.end(), shifted.begin(), shifted.end());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> mixed, RankModel::Train(h, o));
  EXPECT_EQ(mixed->holdout_groups(), 50u);
  EXPECT_GE(mixed->blend_weight(), 0.5);
  EXPECT_GT(mixed->holdout_mrr_chosen(), mixed->holdout_mrr_model() + 0.2);

  // A history that stays the same: the model alone (or nearly) wins.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> steady, RankModel::Train(History(200, 3), o));
  EXPECT_EQ(steady->holdout_groups(), 50u);
  EXPECT_LE(steady->blend_weight(), 0.2);
  EXPECT_GE(steady->holdout_mrr_chosen(), steady->holdout_mrr_model());

  // Too little history to hold a quarter out: no blend.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> small, RankModel::Train(History(35, 7), o));
  EXPECT_EQ(small->holdout_groups(), 0u);
  EXPECT_EQ(small->blend_weight(), 0);

  // A fixed weight: 0 scores with the model alone, 1 with the blend alone.
  const std::vector<TrainingGroup> test = History(20, 8);
  o.blend_weight = 0;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> alone, RankModel::Train(h, o));
  o.blend_weight = 1;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> blend, RankModel::Train(h, o));
  EXPECT_EQ(blend->blend_weight(), 1);
  for (const TrainingGroup& g : test) {
    ASSERT_OK_AND_ASSIGN(std::vector<float> raw, alone->Predict(g.candidates));
    ASSERT_OK_AND_ASSIGN(std::vector<float> a, alone->Score(g.candidates));
    EXPECT_EQ(a, raw);
    ASSERT_OK_AND_ASSIGN(std::vector<float> b, blend->Score(g.candidates));
    size_t best = 0;
    for (size_t i = 0; i < g.candidates.size(); ++i) {
      if (g.candidates[i].x[kBlend] > g.candidates[best].x[kBlend]) best = i;
    }
    EXPECT_EQ(Top(b), best);
  }
}

TEST(RankModelTest, RankExpertsOrdersByTheModelAndKeepsEveryComponent) {
  Corpus c;
  c.Person("p:asker", "Asker");
  c.Person("p:old", "Old");
  c.Person("p:new", "New");
  // Old wrote the best-matching answer five years ago; New answered many questions last month.
  const uint32_t q0 = c.Question("q0", "p:asker", kT0 - 5 * 365 * kDay, {"t"});
  const uint32_t a0 = c.Answer("a0", "q0", "p:old", kT0 - 5 * 365 * kDay);
  uint32_t last = 0;
  for (int i = 1; i <= 6; ++i) {
    const std::string q = "q" + std::to_string(i);
    c.Question(q, "p:asker", kT0 - (40 - i) * kDay, {"t"});
    last = c.Answer("a" + std::to_string(i), q, "p:new", kT0 - (40 - i) * kDay);
  }
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const std::vector<indexer::SearchHit> hits = {{a0, 10}, {last, 2}, {q0, 1}};
  AskOptions o;
  o.now = kT0;
  o.use_decay = false;
  o.w_prior = 0;
  o.exclude_persons = {"p:asker"};
  ASSERT_OK_AND_ASSIGN(auto blend, RankExperts(*snap, hits, o));
  ASSERT_EQ(blend.size(), 2u);
  EXPECT_EQ(blend[0].id, "p:old");  // the blend follows the votes

  TrainOptions to;
  ASSERT_OK_AND_ASSIGN(o.model, RankModel::Train(History(200, 5), to));
  ASSERT_OK_AND_ASSIGN(auto learned, RankExperts(*snap, hits, o));
  ASSERT_EQ(learned.size(), 2u);
  EXPECT_EQ(learned[0].id, "p:new");  // the model learned that recent activity decides
  for (const Expert& e : learned) {
    std::vector<std::string> names;
    double model_score = -1e9;
    for (const auto& [n, v] : e.components) {
      names.push_back(n);
      if (n == "model") model_score = v;
    }
    for (const char* want : {"vote", "ppr", "prior", "recent", "topic", "contact", "model"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
    EXPECT_FLOAT_EQ(static_cast<float>(e.score), static_cast<float>(model_score));
  }
  // bm25-voting never uses the model.
  o.method = Method::kBm25Voting;
  ASSERT_OK_AND_ASSIGN(auto voting, RankExperts(*snap, hits, o));
  EXPECT_EQ(voting[0].id, "p:old");
}

}  // namespace
}  // namespace whoknows::engine
