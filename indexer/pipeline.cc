#include "whoknows/indexer/pipeline.h"

#include <map>
#include <string>

#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/aliases.h"

namespace whoknows::indexer {
namespace {

class WriterSink final : public RecordSink {
 public:
  WriterSink(IndexWriter* writer, const PipelineOptions& options) : writer_(writer), options_(options) {}

  absl::Status OnRecord(Record record) override {
    ++records_;
    return writer_->Add(std::move(record));
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    ++records_;
    writer_->CountBad(reason);
    if (options_.on_bad) options_.on_bad(pos, reason, status);
  }
  void OnWarning(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    ++warnings_[std::string(reason)];
    if (options_.on_warning) options_.on_warning(pos, reason, status);
  }
  const std::map<std::string, uint64_t>& warnings() const { return warnings_; }
  void OnProgress(std::string_view file, uint64_t done, uint64_t total) override {
    if (options_.on_progress) options_.on_progress(file, done, total, records_);
  }

 private:
  IndexWriter* writer_;
  const PipelineOptions& options_;
  uint64_t records_ = 0;
  std::map<std::string, uint64_t> warnings_;
};

}  // namespace

absl::StatusOr<PipelineResult> IndexPaths(const std::string& db_dir, const std::vector<std::string>& paths,
                                          const PipelineOptions& options) {
  WK_ASSIGN_OR_RETURN(std::unique_ptr<IndexWriter> writer, IndexWriter::Open(db_dir, options.index));
  PipelineResult result;
  if (!options.aliases_file.empty()) {
    WK_ASSIGN_OR_RETURN(std::vector<AliasGroup> groups, LoadAliasesFile(options.aliases_file));
    WK_RETURN_IF_ERROR(writer->ApplyAliases(groups));
  }
  WriterSink sink(writer.get(), options);
  for (const std::string& path : paths) {
    absl::Status s = ReadAny(path, options.read, &sink);
    if (!s.ok()) {
      // A sink (index) failure is fatal; a read failure is per path.
      if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnavailable) return s;
      result.failed_paths.emplace_back(path, std::string(s.message()));
    }
  }
  WK_RETURN_IF_ERROR(writer->Commit());
  result.summary = writer->summary();
  for (const auto& [reason, n] : sink.warnings()) {
    result.warnings += n;
    result.warnings_by_reason.emplace_back(reason, n);
  }
  return result;
}

}  // namespace whoknows::indexer
