#ifndef WHOKNOWS_ENGINE_RANK_MODEL_H_
#define WHOKNOWS_ENGINE_RANK_MODEL_H_

// Learning to rank for `ask`: an XGBoost ranker (objective rank:pairwise by
// default) over the per-candidate features of RankExperts (FeatureNames()),
// trained on the organisation's own history: past questions with their
// accepted answerer, past threads with their repliers. Each history query is
// one group; a candidate's label is its grade in the truth set (0 = not in
// it; graded labels such as accepted answerer 2, other answerer 1 are allowed).
//
// When AskOptions::model is set, RankExperts orders its candidates by the
// model's score instead of the hand-tuned blend (the blend stays the
// fallback when there is too little history: Train returns
// FailedPrecondition below TrainOptions::min_groups useful groups).
// Every component is still reported per expert, plus "model".
//
// Thread-safe: Predict may be called concurrently (serialised inside).

#include <array>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/rank.h"

namespace whoknows::engine {

struct TrainOptions {
  std::string objective = "rank:pairwise";  // or "rank:ndcg"
  // A linear ranker generalised best on the validation splits (a few hundred
  // history queries per site); "gbtree" fits the history better but not the future.
  std::string booster = "gblinear";  // or "gbtree"
  int rounds = 200;
  int max_depth = 3;
  double eta = 0.1;
  double min_child_weight = 1;
  double subsample = 0.8;
  int seed = 1;
  int threads = 1;
  // L2 / L1 regularisation of the weights (XGBoost's lambda / alpha); 0 = XGBoost's default.
  double reg_lambda = 0;
  double reg_alpha = 0;
  // Fewer groups with a relevant candidate than this: FailedPrecondition.
  size_t min_groups = 30;
  // RankModel only: the weight of the hand-tuned blend (feature "blend")
  // mixed into the model's score (RankModel::Score), a shrinkage towards the
  // fallback for small histories. < 0: chosen on the newest quarter of the
  // history by a model trained on the rest (kBlendWeightGrid); 0: the model alone.
  double blend_weight = -1;
};

// The options `ask`'s ranker trains with: TrainOptions with L2 regularisation
// (lambda 10: with a few hundred history queries the unregularised linear
// ranker fitted the history, not the future, on the routing validation splits).
inline TrainOptions RankTrainOptions() {
  TrainOptions t;
  t.reg_lambda = 10;
  return t;
}

// The blend weights RankModel::Train chooses from.
inline constexpr double kBlendWeightGrid[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

// One history query: its candidates (ExtractFeatures) and which are relevant.
struct TrainingGroup {
  std::vector<CandidateFeatures> candidates;
  std::vector<uint8_t> relevant;  // parallel to candidates: the grade, 0 = not relevant
};

class RankModel {
 public:
  ~RankModel();
  RankModel(const RankModel&) = delete;
  RankModel& operator=(const RankModel&) = delete;

  // Trains a model. Groups without a relevant candidate are skipped (they
  // carry no pairwise signal). FailedPrecondition when fewer than
  // options.min_groups remain; Internal for an XGBoost error.
  static absl::StatusOr<std::shared_ptr<const RankModel>> Train(std::span<const TrainingGroup> groups,
                                                               const TrainOptions& options);
  // Loads a model saved with Save (XGBoost's JSON model format).
  static absl::StatusOr<std::shared_ptr<const RankModel>> Load(const std::string& path);
  absl::Status Save(const std::string& path) const;
  // The model as bytes (XGBoost's JSON model format), e.g. to store it with
  // the index, and back. Deserialize: InvalidArgument for bytes it cannot load.
  absl::StatusOr<std::string> Serialize() const;
  static absl::StatusOr<std::shared_ptr<const RankModel>> Deserialize(std::string_view bytes,
                                                                     double blend_weight = 0);

  // The model's raw scores, parallel to `rows`.
  absl::StatusOr<std::vector<float>> Predict(std::span<const CandidateFeatures> rows) const;
  // The ranking score of one query's candidates, parallel to `rows`:
  // (1 - w) * the raw score min-max normalised over `rows` + w * feature
  // "blend" (the hand-tuned blend's score, a sum of max-normalised
  // components), w = blend_weight(). With w = 0, the raw score.
  absl::StatusOr<std::vector<float>> Score(std::span<const CandidateFeatures> rows) const;
  double blend_weight() const { return blend_weight_; }
  // A linear model's weights, one per feature (FeatureNames() order), then the
  // bias; empty for a tree model. For reports (eval prints them).
  std::span<const double> linear_weights() const { return linear_; }
  // When Train chose the blend weight: the held-out history queries it was
  // chosen on and their MRR with the model alone and with the chosen weight.
  size_t holdout_groups() const { return holdout_groups_; }
  double holdout_mrr_model() const { return holdout_mrr_model_; }
  double holdout_mrr_chosen() const { return holdout_mrr_chosen_; }

  size_t train_groups() const { return train_groups_; }
  size_t train_rows() const { return train_rows_; }

 private:
  RankModel() = default;
  // Train with options.blend_weight ignored (the model alone).
  static absl::StatusOr<std::shared_ptr<RankModel>> TrainFixed(std::span<const TrainingGroup> groups,
                                                               const TrainOptions& options);
  // A linear booster's weights (one per feature, then the bias + base score):
  // Predict computes w.x itself, without a DMatrix or the lock (checked
  // against XGBoost's own prediction when the model is made). Empty: XGBoost.
  void ExtractLinear(std::span<const CandidateFeatures> check);
  absl::StatusOr<std::vector<float>> PredictXgboost(std::span<const CandidateFeatures> rows) const;
  std::vector<double> linear_;
  void* booster_ = nullptr;  // BoosterHandle
  mutable std::mutex mu_;
  size_t train_groups_ = 0, train_rows_ = 0;
  double blend_weight_ = 0;
  size_t holdout_groups_ = 0;
  double holdout_mrr_model_ = 0, holdout_mrr_chosen_ = 0;
};

// `raw` (one query's model scores) mixed with the candidates' "blend" feature:
// see RankModel::Score.
std::vector<float> MixBlend(std::span<const float> raw, std::span<const CandidateFeatures> rows, double blend_weight);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_RANK_MODEL_H_
