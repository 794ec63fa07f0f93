#ifndef WHOKNOWS_INDEXER_RECORD_H_
#define WHOKNOWS_INDEXER_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "whoknows/base/source_pos.h"

namespace whoknows::indexer {

// What a record is. Stored as a one-letter term/value in the index.
enum class RecordKind : char {
  kQuestion = 'q',  // Stack Exchange question
  kAnswer = 'a',    // Stack Exchange answer
  kComment = 'c',   // Stack Exchange comment
  kMail = 'm',      // mail message
  kChat = 's',      // chat message (Slack)
  kPost = 'p',      // generic message (JSONL, gRPC ingest)
};

std::string_view KindName(RecordKind kind);         // "question", "answer", ...
bool ParseKindName(std::string_view name, RecordKind* kind);

// One message or post, as every reader produces it. Identity keys
// (`author_key`, `mentions`) are source-scoped strings such as
// "se:ai.stackexchange.com:12", "mail:ripley@stats.ox.ac.uk",
// "slack:houstondatavis:U064KUGRJ"; the index writer maps them to persons.
struct Record {
  std::string id;          // stable, source-scoped, unique: "se:ai.stackexchange.com:post:17"
  RecordKind kind = RecordKind::kPost;
  std::string source;      // "se:ai.stackexchange.com", "mbox:r-devel", "slack:houstondatavis"
  std::string thread_id;   // record id (or synthetic id) of the thread root; == id for a root
  std::string reply_to;    // record id of the parent; empty for a root
  std::string author_key;  // identity key; empty when unknown (record still indexed)
  std::string author_name; // display name as seen in this record
  std::vector<std::string> mentions;  // identity keys of mentioned people
  int64_t timestamp = 0;   // seconds since the Unix epoch, UTC
  std::string title;       // question title, mail subject; may be empty
  std::string text;        // plain text: the author's own words (quotes/signatures removed)
  std::vector<std::string> topics;  // lower-case tags, hashtags, channel, list
  std::string community;   // e.g. "r-devel", "ai.stackexchange.com"
  std::string visibility;  // internal | external | partner | public (or a custom group)
  int32_t score = 0;       // votes where the source has them
  bool accepted = false;   // answer accepted by the asker
  std::string accepted_answer_id;  // for questions: record id of the accepted answer
};

// Receives records from a reader. Readers call OnRecord for each good record
// and OnBadRecord for each record they skip, then continue with the next one
// (as leveldb's log::Reporter). `reason` is a short stable label used to count
// skips ("malformed-xml", "bad-utf8", "too-large", ...).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Returns non-OK only for failures that must stop the run (I/O, index).
  virtual absl::Status OnRecord(Record record) = 0;
  virtual void OnBadRecord(const SourcePos& pos, std::string_view reason,
                           const absl::Status& status) = 0;
  // A record that was kept but looks suspect (e.g. an mbox message that may
  // hold several mails because splitting failed). `reason` is a short label
  // ("suspect-split", "large-message") used to count warnings.
  virtual void OnWarning(const SourcePos& /*pos*/, std::string_view /*reason*/, const absl::Status& /*status*/) {}
  // Progress: bytes of the current input consumed so far (of `total`, 0 if unknown).
  virtual void OnProgress(std::string_view /*file*/, uint64_t /*bytes_done*/,
                          uint64_t /*bytes_total*/) {}
};

// Per-run options readers apply to every record they produce.
struct ReadOptions {
  std::string community;   // overrides the reader's default community when non-empty
  std::string visibility;  // overrides the reader's default visibility when non-empty
  std::string source;      // overrides the source name when non-empty
  // Records or lines larger than this are skipped as "too-large".
  size_t max_record_bytes = 16 << 20;
};

// Replaces invalid UTF-8 sequences with U+FFFD. Returns true when `s` was valid.
bool SanitizeUtf8(std::string* s);
// Lower-cases ASCII.
std::string AsciiLower(std::string_view s);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_RECORD_H_
