#ifndef WHOKNOWS_SERVICE_CONNECT_TRAINING_H_
#define WHOKNOWS_SERVICE_CONNECT_TRAINING_H_

// The learned connect ranking (engine/connect_model.h) with the index: trained
// from the index's whole history at index time (`whoknows index`) and stored
// in Xapian user metadata under kConnectModelKey, so servers load it with
// each snapshot instead of training it. Training replaces a stored model;
// with too little history it removes a stale one (the hand-tuned ranking is
// then used). The engine stays free of Xapian: this is service code.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "whoknows/engine/connect_model.h"
#include "whoknows/indexer/index.h"

namespace whoknows::service {

inline constexpr char kConnectModelKey[] = "whoknows.connect_model";
// What the stored model (or its absence) was trained on: document count, last
// docid and person count of the index at the time (see only_if_changed).
inline constexpr char kConnectTrainedOnKey[] = "whoknows.connect_trained_on";

struct ConnectTrainingReport {
  bool learned = false;
  std::string note;  // "learned (...)" or why the hand-tuned ranking stays
  size_t groups = 0, rows = 0;
  double seconds_snapshot = 0, seconds_features = 0, seconds_train = 0;
  bool current = false;  // only_if_changed and nothing changed: the stored result stands, nothing trained
};

// Reads the index at `db` (a local directory), trains, and stores (or
// clears) the model in one commit. With only_if_changed, an index whose
// documents and persons are those the stored result was trained on (a re-run
// of `whoknows index` that added nothing) is left as it is and the report says
// `current`. Errors: the index's (Unavailable when locked, NotFound), Internal
// from XGBoost.
absl::StatusOr<ConnectTrainingReport> TrainConnectModel(const std::string& db,
                                                        const engine::ConnectTrainOptions& options = {},
                                                        bool only_if_changed = false);

// The model stored in an open index; null when there is none. InvalidArgument
// when the stored bytes are not a model of this build.
absl::StatusOr<std::shared_ptr<const engine::ConnectModel>> LoadConnectModel(indexer::IndexReader* reader);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_CONNECT_TRAINING_H_
