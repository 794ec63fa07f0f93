#include "whoknows/service/connect_training.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::service {

absl::StatusOr<ConnectTrainingReport> TrainConnectModel(const std::string& db,
                                                        const engine::ConnectTrainOptions& options,
                                                        bool only_if_changed) {
  using Clock = std::chrono::steady_clock;
  auto secs = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  ConnectTrainingReport report;
  const auto t0 = Clock::now();
  std::string bytes, trained_on;
  {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(db));
    WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, reader->ListPersons());
    trained_on = absl::StrFormat("docs %d, last docid %d, persons %d", reader->doc_count(), reader->last_docid(),
                                 persons.size());
    if (only_if_changed) {
      WK_ASSIGN_OR_RETURN(auto entries, reader->ListMetadata(kConnectTrainedOnKey));
      for (const auto& [k, v] : entries) {
        if (k != kConnectTrainedOnKey || v != trained_on) continue;
        WK_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ConnectModel> stored, LoadConnectModel(reader.get()));
        report.current = true;
        report.learned = stored != nullptr;
        if (stored != nullptr) {
          report.groups = stored->train_groups();
          report.rows = stored->train_rows();
        }
        report.note = absl::StrFormat("%s, current (trained on the same %s)",
                                      stored != nullptr ? "learned" : "hand-tuned", trained_on);
        return report;
      }
    }
    std::vector<indexer::StoredDoc> docs;
    WK_RETURN_IF_ERROR(reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
    WK_ASSIGN_OR_RETURN(std::shared_ptr<const engine::Snapshot> snap, engine::BuildSnapshot(docs, persons));
    docs.clear();
    docs.shrink_to_fit();
    const auto t1 = Clock::now();
    std::shared_ptr<const engine::InteractionGraph> g = engine::InteractionGraph::Build(*snap);
    const std::vector<engine::ConnectHistoryGroup> groups =
        engine::ConnectHistory(*snap, *g, snap->max_timestamp() + 1, options);
    const auto t2 = Clock::now();
    absl::StatusOr<std::shared_ptr<const engine::ConnectModel>> model = engine::ConnectModel::Train(groups, options);
    const auto t3 = Clock::now();
    report.seconds_snapshot = secs(t0, t1);
    report.seconds_features = secs(t1, t2);
    report.seconds_train = secs(t2, t3);
    if (model.ok()) {
      report.learned = true;
      report.groups = (*model)->train_groups();
      report.rows = (*model)->train_rows();
      report.note = absl::StrFormat("learned (xgboost %s %s, %d history groups, %d rows)", options.train.booster,
                                    options.train.objective, report.groups, report.rows);
      WK_ASSIGN_OR_RETURN(bytes, (*model)->ToBytes());
    } else if (model.status().code() == absl::StatusCode::kFailedPrecondition) {
      report.note = absl::StrCat("hand-tuned (", model.status().message(), ")");
    } else {
      return model.status();
    }
  }
  indexer::IndexOptions io;
  WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, io));
  // Empty bytes remove a stale model; both keys commit together.
  WK_RETURN_IF_ERROR(w->PutMetadata({{kConnectModelKey, bytes}, {kConnectTrainedOnKey, trained_on}}));
  return report;
}

absl::StatusOr<std::shared_ptr<const engine::ConnectModel>> LoadConnectModel(indexer::IndexReader* reader) {
  WK_ASSIGN_OR_RETURN(auto entries, reader->ListMetadata(kConnectModelKey));
  for (const auto& [k, v] : entries) {
    if (k == kConnectModelKey && !v.empty()) return engine::ConnectModel::FromBytes(v);
  }
  return std::shared_ptr<const engine::ConnectModel>();
}

}  // namespace whoknows::service
