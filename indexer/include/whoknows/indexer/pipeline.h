#ifndef WHOKNOWS_INDEXER_PIPELINE_H_
#define WHOKNOWS_INDEXER_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/base/source_pos.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/readers.h"

namespace whoknows::indexer {

struct PipelineOptions {
  ReadOptions read;
  IndexOptions index;
  std::string aliases_file;  // optional
  // Called for every skipped record (already counted). May be null.
  std::function<void(const SourcePos&, std::string_view reason, const absl::Status&)> on_bad;
  // Called for every warning about a record that was kept (already counted). May be null.
  std::function<void(const SourcePos&, std::string_view reason, const absl::Status&)> on_warning;
  // Called now and then with the current file, bytes done/total of it, and
  // records read so far. May be null.
  std::function<void(std::string_view file, uint64_t done, uint64_t total, uint64_t records)> on_progress;
};

struct PipelineResult {
  IndexSummary summary;
  std::vector<std::pair<std::string, std::string>> failed_paths;  // path, error
  // Records kept but reported as suspect (e.g. "suspect-split"), by reason.
  uint64_t warnings = 0;
  std::vector<std::pair<std::string, uint64_t>> warnings_by_reason;
};

// Reads every path (format detected), writes new records into the index at
// `db_dir` (created when missing), commits in batches and at the end.
// Returns an error only when the index cannot be opened or written; a path
// that cannot be read is reported in failed_paths.
absl::StatusOr<PipelineResult> IndexPaths(const std::string& db_dir, const std::vector<std::string>& paths,
                                          const PipelineOptions& options);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_PIPELINE_H_
