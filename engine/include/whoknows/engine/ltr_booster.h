#ifndef WHOKNOWS_ENGINE_LTR_BOOSTER_H_
#define WHOKNOWS_ENGINE_LTR_BOOSTER_H_

// A learning-to-rank booster over dense float rows of any width (XGBoost's C
// API), for rankers whose feature set is not RankExperts' (connect_model.h).
// Each group is one query; labels are 0/1 relevance.
//
// Thread-safe: Predict may be called concurrently (serialised inside).

#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/rank_model.h"  // TrainOptions

namespace whoknows::engine {

struct LtrData {
  size_t num_features = 0;
  std::vector<float> x;              // row-major, rows * num_features
  std::vector<float> labels;         // one per row
  std::vector<unsigned> group_sizes;  // rows per group, in order; sums to the row count
};

// Trains an XGBoost booster on row-major `x` (labels.size() rows of
// `num_features`) grouped by `group_sizes`, with `o`'s parameters, into
// *booster (a BoosterHandle the caller frees with XGBoosterFree). The one place
// that drives XGBoost's training loop: LtrBooster and RankModel both use it.
// Internal for an XGBoost error (*booster may then be set and must be freed).
absl::Status TrainXgbBooster(std::span<const float> x, size_t num_features, std::span<const float> labels,
                             std::span<const unsigned> group_sizes, const TrainOptions& o, void** booster);

// XGBoost's scores of row-major `rows` (rows.size() / num_features rows) from
// `booster` (a BoosterHandle). Not thread-safe for one booster: callers hold
// their own lock. The one place that drives XGBoost's prediction.
absl::StatusOr<std::vector<float>> PredictXgbBooster(void* booster, std::span<const float> rows, size_t num_features);

class LtrBooster {
 public:
  ~LtrBooster();
  LtrBooster(const LtrBooster&) = delete;
  LtrBooster& operator=(const LtrBooster&) = delete;

  // InvalidArgument for inconsistent sizes; Internal for an XGBoost error.
  static absl::StatusOr<std::unique_ptr<LtrBooster>> Train(const LtrData& data, const TrainOptions& options);
  // A model serialised with ToBytes (XGBoost's JSON model). InvalidArgument when it cannot be read.
  static absl::StatusOr<std::unique_ptr<LtrBooster>> FromBytes(std::string_view bytes, size_t num_features);
  absl::StatusOr<std::string> ToBytes() const;

  // Scores of `rows` (row-major, num_features() columns).
  absl::StatusOr<std::vector<float>> Predict(std::span<const float> rows) const;
  size_t num_features() const { return num_features_; }

 private:
  LtrBooster() = default;
  void* booster_ = nullptr;  // BoosterHandle
  size_t num_features_ = 0;
  mutable std::mutex mu_;
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_LTR_BOOSTER_H_
