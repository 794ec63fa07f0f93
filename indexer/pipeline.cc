#include "whoknows/indexer/pipeline.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
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

// What a reader reported, kept for the writer's thread in the order it came.
struct ReadEvent {
  enum class Kind { kRecord, kBad, kWarning, kProgress, kPathDone };
  Kind kind = Kind::kRecord;
  Record record;
  SourcePos pos;
  std::string label;  // reason (bad, warning), file (progress) or path (path done)
  absl::Status status;
  uint64_t done = 0, total = 0;
};

// The readers run on their own thread (decompression, XML and MIME parsing,
// HTML to text) while the index writer works on the records they produced
// before: a bounded first-in first-out queue of everything the readers report,
// which the writer's thread replays into the WriterSink in the same order, so
// the index, the counts and the callbacks (all on the caller's thread) are
// those of reading and writing one after the other.
class ReadAhead final : public RecordSink {
 public:
  // Room for this many events or this many bytes of record text, whichever
  // fills first (one event always fits).
  static constexpr size_t kMaxEvents = 256;
  static constexpr size_t kMaxBytes = 32u << 20;

  absl::Status OnRecord(Record record) override {
    ReadEvent e;
    e.kind = ReadEvent::Kind::kRecord;
    e.record = std::move(record);
    return Push(std::move(e));
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    Push(Report(ReadEvent::Kind::kBad, pos, reason, status)).IgnoreError();
  }
  void OnWarning(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    Push(Report(ReadEvent::Kind::kWarning, pos, reason, status)).IgnoreError();
  }
  void OnProgress(std::string_view file, uint64_t done, uint64_t total) override {
    ReadEvent e = Report(ReadEvent::Kind::kProgress, {}, file, absl::OkStatus());
    e.done = done;
    e.total = total;
    Push(std::move(e)).IgnoreError();
  }
  void PathDone(const std::string& path, absl::Status s) {
    Push(Report(ReadEvent::Kind::kPathDone, {}, path, std::move(s))).IgnoreError();
  }

  // Reader side: no more events.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  // Writer side: stop the readers; their next report returns `why`.
  void Stop(const absl::Status& why) {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = why;
    queue_.clear();
    bytes_ = 0;
    not_full_.notify_all();
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return !stopped_.ok();
  }
  // Writer side: the next event, false once the readers closed and all were taken.
  bool Pop(ReadEvent* out) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.empty() && !closed_) {
      consumer_waiting_ = true;
      not_empty_.wait(lock, [&] { return !queue_.empty() || closed_; });
      consumer_waiting_ = false;
    }
    if (queue_.empty()) return false;
    *out = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= Bytes(*out);
    // Wake a waiting reader only once half the room is free: one wake-up per
    // many records rather than a thread switch for each.
    if (producer_waiting_ && (queue_.empty() || (queue_.size() <= kMaxEvents / 2 && bytes_ <= kMaxBytes / 2))) {
      not_full_.notify_one();
    }
    return true;
  }

 private:
  static ReadEvent Report(ReadEvent::Kind kind, const SourcePos& pos, std::string_view label,
                          const absl::Status& status) {
    ReadEvent e;
    e.kind = kind;
    e.pos = pos;
    e.label = std::string(label);
    e.status = status;
    return e;
  }
  static size_t Bytes(const ReadEvent& e) { return e.record.text.size() + e.record.title.size(); }

  absl::Status Push(ReadEvent e) {
    const size_t bytes = Bytes(e);
    std::unique_lock<std::mutex> lock(mu_);
    auto room = [&] {
      return !stopped_.ok() || queue_.empty() || (queue_.size() < kMaxEvents && bytes_ + bytes <= kMaxBytes);
    };
    if (!room()) {
      producer_waiting_ = true;
      not_full_.wait(lock, room);
      producer_waiting_ = false;
    }
    if (!stopped_.ok()) return stopped_;
    bytes_ += bytes;
    queue_.push_back(std::move(e));
    if (consumer_waiting_) not_empty_.notify_one();
    return absl::OkStatus();
  }

  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<ReadEvent> queue_;
  size_t bytes_ = 0;
  bool closed_ = false;
  bool producer_waiting_ = false, consumer_waiting_ = false;
  absl::Status stopped_;
};

// A sink failure (the index) stops the run; a read failure is per path.
bool Fatal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnavailable;
}

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
  ReadAhead ahead;
  std::thread reader([&] {
    for (const std::string& path : paths) {
      if (ahead.stopped()) break;
      absl::Status s;
      try {
        s = ReadAny(path, options.read, &ahead);
      } catch (const std::exception& e) {  // readers return statuses; never let one end the process
        s = absl::InternalError(absl::StrCat("reading ", path, ": ", e.what()));
      } catch (...) {
        s = absl::InternalError(absl::StrCat("reading ", path, ": unknown exception"));
      }
      ahead.PathDone(path, std::move(s));
    }
    ahead.Close();
  });
  // Whatever way this function is left, the reader is stopped and joined first.
  absl::Cleanup join_reader = [&] {
    if (!reader.joinable()) return;
    ahead.Stop(absl::CancelledError("the index writer stopped"));
    reader.join();
  };
  absl::Status fatal;
  // A writer error on a record that is not fatal ends that path, as it did when
  // the reader got it back from the sink: the path's later events are dropped and
  // the path is reported failed with that error.
  absl::Status path_error;
  ReadEvent e;
  while (fatal.ok() && ahead.Pop(&e)) {
    if (!path_error.ok() && e.kind != ReadEvent::Kind::kPathDone) continue;
    switch (e.kind) {
      case ReadEvent::Kind::kRecord:
        if (absl::Status s = sink.OnRecord(std::move(e.record)); Fatal(s)) {
          fatal = s;
        } else {
          path_error = s;
        }
        break;
      case ReadEvent::Kind::kBad:
        sink.OnBadRecord(e.pos, e.label, e.status);
        break;
      case ReadEvent::Kind::kWarning:
        sink.OnWarning(e.pos, e.label, e.status);
        break;
      case ReadEvent::Kind::kProgress:
        sink.OnProgress(e.label, e.done, e.total);
        break;
      case ReadEvent::Kind::kPathDone: {
        const absl::Status s = path_error.ok() ? e.status : path_error;
        path_error = absl::OkStatus();
        if (Fatal(s)) {
          fatal = s;
        } else if (!s.ok()) {
          result.failed_paths.emplace_back(e.label, std::string(s.message()));
        }
        break;
      }
    }
  }
  if (!fatal.ok()) ahead.Stop(fatal);
  reader.join();
  WK_RETURN_IF_ERROR(fatal);
  WK_RETURN_IF_ERROR(writer->Commit());
  result.summary = writer->summary();
  for (const auto& [reason, n] : sink.warnings()) {
    result.warnings += n;
    result.warnings_by_reason.emplace_back(reason, n);
  }
  return result;
}

}  // namespace whoknows::indexer
