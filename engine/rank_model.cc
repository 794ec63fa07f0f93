#include "whoknows/engine/rank_model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/engine/ltr_booster.h"

namespace whoknows::engine {
namespace {

absl::Status XgbError(const char* what) {
  return absl::InternalError(absl::StrFormat("xgboost: %s: %s", what, XGBGetLastError()));
}

// Rows as a dense float matrix.
std::vector<float> Dense(std::span<const CandidateFeatures> rows) {
  std::vector<float> m;
  m.reserve(rows.size() * kNumRankFeatures);
  for (const CandidateFeatures& r : rows) m.insert(m.end(), r.x.begin(), r.x.end());
  return m;
}

// Rows to check a loaded model's own linear prediction against XGBoost's.
std::vector<CandidateFeatures> Probe() {
  std::vector<CandidateFeatures> probe(2);
  for (size_t i = 0; i < kNumRankFeatures; ++i) {
    probe[0].x[i] = 1.0f;
    probe[1].x[i] = 0.5f * static_cast<float>(i);
  }
  return probe;
}

constexpr size_t kBlendFeature = kNumRankFeatures - 1;  // FeatureNames().back() == "blend"

// Usable for training: rows match the labels and some candidate is relevant.
bool Usable(const TrainingGroup& g) {
  if (g.candidates.size() != g.relevant.size() || g.candidates.size() < 2) return false;
  for (uint8_t r : g.relevant) {
    if (r != 0) return true;
  }
  return false;
}

// Reciprocal rank of the first relevant candidate by `score` (ties share the
// average position).
double ReciprocalRank(std::span<const float> score, std::span<const uint8_t> relevant) {
  double best = 0;
  for (size_t i = 0; i < score.size(); ++i) {
    if (relevant[i] == 0) continue;
    size_t above = 0, tied = 0;
    for (size_t j = 0; j < score.size(); ++j) {
      if (j == i) continue;
      above += score[j] > score[i];
      tied += score[j] == score[i];
    }
    best = std::max(best, 1.0 / (1.0 + static_cast<double>(above) + 0.5 * static_cast<double>(tied)));
  }
  return best;
}

}  // namespace

std::vector<float> MixBlend(std::span<const float> raw, std::span<const CandidateFeatures> rows, double w) {
  std::vector<float> out(raw.begin(), raw.end());
  if (w <= 0 || raw.empty() || raw.size() != rows.size()) return out;
  const auto [lo, hi] = std::minmax_element(raw.begin(), raw.end());
  const double span = static_cast<double>(*hi) - static_cast<double>(*lo);
  for (size_t i = 0; i < raw.size(); ++i) {
    const double m = span > 0 ? (static_cast<double>(raw[i]) - *lo) / span : 0.0;
    out[i] = static_cast<float>((1 - w) * m + w * rows[i].x[kBlendFeature]);
  }
  return out;
}

RankModel::~RankModel() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

absl::StatusOr<std::shared_ptr<const RankModel>> RankModel::Train(std::span<const TrainingGroup> groups,
                                                                 const TrainOptions& o) {
  if (o.blend_weight >= 0) {
    WK_ASSIGN_OR_RETURN(std::shared_ptr<RankModel> m, TrainFixed(groups, o));
    m->blend_weight_ = std::min(1.0, o.blend_weight);
    return std::shared_ptr<const RankModel>(std::move(m));
  }
  // The blend weight: a model trained on the older three quarters of the
  // usable history ranks the newest quarter (as a model trained on the past
  // ranks the future); the weight with the best MRR there wins (ties: the
  // smaller). Then the model is trained on all of it.
  std::vector<size_t> usable;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (Usable(groups[i])) usable.push_back(i);
  }
  TrainOptions fixed = o;
  fixed.blend_weight = 0;
  double chosen = 0, mrr_model = 0, mrr_chosen = 0;
  size_t held = usable.size() / 4;
  if (held < 10 || usable.size() - held < o.min_groups) held = 0;  // too little history to hold some out
  if (held > 0) {
    const size_t cut = usable[usable.size() - held];  // groups before it train
    absl::StatusOr<std::shared_ptr<RankModel>> early = TrainFixed(groups.first(cut), fixed);
    if (!early.ok()) return early.status();
    std::vector<double> sums(std::size(kBlendWeightGrid), 0.0);
    for (size_t k = usable.size() - held; k < usable.size(); ++k) {
      const TrainingGroup& g = groups[usable[k]];
      WK_ASSIGN_OR_RETURN(std::vector<float> raw, (*early)->Predict(g.candidates));
      for (size_t w = 0; w < std::size(kBlendWeightGrid); ++w) {
        sums[w] += ReciprocalRank(MixBlend(raw, g.candidates, kBlendWeightGrid[w]), g.relevant);
      }
    }
    size_t best = 0;
    for (size_t w = 1; w < sums.size(); ++w) {
      if (sums[w] > sums[best] + 1e-9) best = w;
    }
    chosen = kBlendWeightGrid[best];
    mrr_model = sums[0] / static_cast<double>(held);
    mrr_chosen = sums[best] / static_cast<double>(held);
  }
  WK_ASSIGN_OR_RETURN(std::shared_ptr<RankModel> m, TrainFixed(groups, fixed));
  m->blend_weight_ = chosen;
  m->holdout_groups_ = held;
  m->holdout_mrr_model_ = mrr_model;
  m->holdout_mrr_chosen_ = mrr_chosen;
  return std::shared_ptr<const RankModel>(std::move(m));
}

absl::StatusOr<std::shared_ptr<RankModel>> RankModel::TrainFixed(std::span<const TrainingGroup> groups,
                                                                      const TrainOptions& o) {
  std::vector<float> data, labels;
  std::vector<unsigned> sizes;
  size_t used = 0;
  for (const TrainingGroup& g : groups) {
    if (g.candidates.size() != g.relevant.size() || g.candidates.size() < 2) continue;
    bool any = false;
    for (uint8_t r : g.relevant) any |= r != 0;
    if (!any) continue;
    ++used;
    for (size_t i = 0; i < g.candidates.size(); ++i) {
      data.insert(data.end(), g.candidates[i].x.begin(), g.candidates[i].x.end());
      labels.push_back(static_cast<float>(g.relevant[i]));
    }
    sizes.push_back(static_cast<unsigned>(g.candidates.size()));
  }
  if (used < o.min_groups) {
    return absl::FailedPreconditionError(
        absl::StrFormat("rank model: %d history queries with a known answerer, need %d", used, o.min_groups));
  }
  std::shared_ptr<RankModel> model(new RankModel());
  model->train_groups_ = used;
  model->train_rows_ = labels.size();
  WK_RETURN_IF_ERROR(TrainXgbBooster(data, kNumRankFeatures, labels, sizes, o, &model->booster_));
  for (const TrainingGroup& g : groups) {
    if (g.candidates.size() != g.relevant.size() || g.candidates.size() < 2) continue;
    model->ExtractLinear(g.candidates);
    break;
  }
  return model;
}

void RankModel::ExtractLinear(std::span<const CandidateFeatures> check) {
  linear_.clear();
  absl::StatusOr<std::string> bytes = Serialize();
  if (!bytes.ok()) return;
  const nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  try {
    const nlohmann::json& learner = j.at("learner");
    const nlohmann::json& gb = learner.at("gradient_booster");
    if (gb.at("name") != "gblinear") return;
    const nlohmann::json& param = learner.at("learner_model_param");
    if (std::stoul(param.at("num_feature").get<std::string>()) != kNumRankFeatures) return;
    const std::string nclass = param.value("num_class", std::string("0"));
    if (nclass != "0" && nclass != "1") return;
    std::vector<double> w = gb.at("model").at("weights").get<std::vector<double>>();
    if (w.size() != kNumRankFeatures + 1) return;
    w.back() += std::stod(param.at("base_score").get<std::string>());
    linear_ = std::move(w);
  } catch (const std::exception&) {
    return;
  }
  // Must agree with XGBoost itself, or XGBoost it is.
  absl::StatusOr<std::vector<float>> want = PredictXgboost(check);
  absl::StatusOr<std::vector<float>> got = Predict(check);
  bool same = want.ok() && got.ok() && want->size() == got->size();
  for (size_t i = 0; same && i < want->size(); ++i) {
    same = std::fabs((*want)[i] - (*got)[i]) <= 1e-4f * std::max(1.0f, std::fabs((*want)[i]));
  }
  if (!same) linear_.clear();
}

absl::StatusOr<std::shared_ptr<const RankModel>> RankModel::Load(const std::string& path) {
  std::shared_ptr<RankModel> model(new RankModel());
  if (XGBoosterCreate(nullptr, 0, &model->booster_) != 0) return XgbError("create booster");
  if (XGBoosterLoadModel(model->booster_, path.c_str()) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: cannot load rank model: %s", path, XGBGetLastError()));
  }
  model->ExtractLinear(Probe());
  return std::shared_ptr<const RankModel>(std::move(model));
}

absl::Status RankModel::Save(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (XGBoosterSaveModel(booster_, path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrFormat("%s: cannot save rank model: %s", path, XGBGetLastError()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RankModel::Serialize() const {
  std::lock_guard<std::mutex> lock(mu_);
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(booster_, R"({"format": "json"})", &len, &buf) != 0) return XgbError("save model");
  return std::string(buf, len);
}

absl::StatusOr<std::shared_ptr<const RankModel>> RankModel::Deserialize(std::string_view bytes, double blend_weight) {
  std::shared_ptr<RankModel> model(new RankModel());
  model->blend_weight_ = std::clamp(std::isfinite(blend_weight) ? blend_weight : 0.0, 0.0, 1.0);
  if (XGBoosterCreate(nullptr, 0, &model->booster_) != 0) return XgbError("create booster");
  if (bytes.empty() || XGBoosterLoadModelFromBuffer(model->booster_, bytes.data(), bytes.size()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot load a rank model from %d bytes: %s", bytes.size(), XGBGetLastError()));
  }
  model->ExtractLinear(Probe());
  return std::shared_ptr<const RankModel>(std::move(model));
}

absl::StatusOr<std::vector<float>> RankModel::Predict(std::span<const CandidateFeatures> rows) const {
  if (!linear_.empty()) {
    std::vector<float> out;
    out.reserve(rows.size());
    for (const CandidateFeatures& r : rows) {
      double v = linear_.back();
      for (size_t i = 0; i < kNumRankFeatures; ++i) v += linear_[i] * r.x[i];
      out.push_back(static_cast<float>(v));
    }
    return out;
  }
  return PredictXgboost(rows);
}

absl::StatusOr<std::vector<float>> RankModel::Score(std::span<const CandidateFeatures> rows) const {
  WK_ASSIGN_OR_RETURN(std::vector<float> raw, Predict(rows));
  if (blend_weight_ <= 0) return raw;
  return MixBlend(raw, rows, blend_weight_);
}

absl::StatusOr<std::vector<float>> RankModel::PredictXgboost(std::span<const CandidateFeatures> rows) const {
  if (rows.empty()) return std::vector<float>();
  const std::vector<float> data = Dense(rows);
  std::lock_guard<std::mutex> lock(mu_);
  return PredictXgbBooster(booster_, data, kNumRankFeatures);
}

}  // namespace whoknows::engine
