#include "whoknows/engine/ltr_booster.h"

#include <xgboost/c_api.h>

#include <limits>
#include <utility>

#include "absl/strings/str_format.h"
#include "whoknows/base/status_macros.h"

namespace whoknows::engine {
namespace {

absl::Status XgbError(const char* what) {
  return absl::InternalError(absl::StrFormat("xgboost: %s: %s", what, XGBGetLastError()));
}

}  // namespace

absl::Status TrainXgbBooster(std::span<const float> x, size_t num_features, std::span<const float> labels,
                             std::span<const unsigned> group_sizes, const TrainOptions& o, void** booster) {
  const size_t rows = labels.size();
  DMatrixHandle dm = nullptr;
  if (XGDMatrixCreateFromMat(x.data(), rows, num_features, std::numeric_limits<float>::quiet_NaN(), &dm) != 0) {
    return XgbError("create matrix");
  }
  absl::Status st;
  auto check = [&](int rc, const char* what) {
    if (rc != 0 && st.ok()) st = XgbError(what);
    return rc == 0;
  };
  bool ok = check(XGDMatrixSetFloatInfo(dm, "label", labels.data(), rows), "labels") &&
            check(XGDMatrixSetUIntInfo(dm, "group", group_sizes.data(), group_sizes.size()), "groups") &&
            check(XGBoosterCreate(&dm, 1, booster), "create booster");
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", o.objective},
      {"booster", o.booster},
      {"eta", absl::StrFormat("%g", o.eta)},
      {"max_depth", absl::StrFormat("%d", o.max_depth)},
      {"min_child_weight", absl::StrFormat("%g", o.min_child_weight)},
      {"subsample", absl::StrFormat("%g", o.subsample)},
      {"seed", absl::StrFormat("%d", o.seed)},
      {"nthread", absl::StrFormat("%d", o.threads)},
      {"tree_method", "hist"},
      {"verbosity", "0"},
  };
  if (o.reg_lambda > 0) params.emplace_back("lambda", absl::StrFormat("%g", o.reg_lambda));
  if (o.reg_alpha > 0) params.emplace_back("alpha", absl::StrFormat("%g", o.reg_alpha));
  for (const auto& [k, v] : params) {
    if (!ok) break;
    ok = check(XGBoosterSetParam(*booster, k.c_str(), v.c_str()), "set parameter");
  }
  for (int i = 0; ok && i < o.rounds; ++i) ok = check(XGBoosterUpdateOneIter(*booster, i, dm), "train");
  XGDMatrixFree(dm);
  return st;
}

absl::StatusOr<std::vector<float>> PredictXgbBooster(void* booster, std::span<const float> rows, size_t num_features) {
  std::vector<float> out;
  const size_t n = rows.size() / num_features;
  if (n == 0) return out;
  DMatrixHandle dm = nullptr;
  if (XGDMatrixCreateFromMat(rows.data(), n, num_features, std::numeric_limits<float>::quiet_NaN(), &dm) != 0) {
    return XgbError("create matrix");
  }
  bst_ulong len = 0;
  const float* pred = nullptr;
  const int rc = XGBoosterPredict(booster, dm, 0, 0, 0, &len, &pred);
  if (rc == 0) out.assign(pred, pred + len);
  XGDMatrixFree(dm);
  if (rc != 0) return XgbError("predict");
  if (out.size() != n) return absl::InternalError("xgboost: prediction size mismatch");
  return out;
}

LtrBooster::~LtrBooster() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

absl::StatusOr<std::unique_ptr<LtrBooster>> LtrBooster::Train(const LtrData& d, const TrainOptions& o) {
  const size_t rows = d.labels.size();
  size_t grouped = 0;
  for (unsigned g : d.group_sizes) grouped += g;
  if (d.num_features == 0 || rows == 0 || d.x.size() != rows * d.num_features || grouped != rows) {
    return absl::InvalidArgumentError("ltr: inconsistent training data sizes");
  }
  std::unique_ptr<LtrBooster> b(new LtrBooster());
  b->num_features_ = d.num_features;
  WK_RETURN_IF_ERROR(TrainXgbBooster(d.x, d.num_features, d.labels, d.group_sizes, o, &b->booster_));
  return b;
}

absl::StatusOr<std::unique_ptr<LtrBooster>> LtrBooster::FromBytes(std::string_view bytes, size_t num_features) {
  std::unique_ptr<LtrBooster> b(new LtrBooster());
  b->num_features_ = num_features;
  if (XGBoosterCreate(nullptr, 0, &b->booster_) != 0) return XgbError("create booster");
  if (bytes.empty() || XGBoosterLoadModelFromBuffer(b->booster_, bytes.data(), bytes.size()) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("ltr: cannot load model: %s", XGBGetLastError()));
  }
  return b;
}

absl::StatusOr<std::string> LtrBooster::ToBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(booster_, R"({"format": "json"})", &len, &buf) != 0) return XgbError("save");
  return std::string(buf, len);
}

absl::StatusOr<std::vector<float>> LtrBooster::Predict(std::span<const float> rows) const {
  if (rows.empty()) return std::vector<float>();
  if (rows.size() % num_features_ != 0) return absl::InvalidArgumentError("ltr: row width mismatch");
  std::lock_guard<std::mutex> lock(mu_);
  return PredictXgbBooster(booster_, rows, num_features_);
}

}  // namespace whoknows::engine
