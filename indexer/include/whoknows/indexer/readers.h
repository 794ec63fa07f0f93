#ifndef WHOKNOWS_INDEXER_READERS_H_
#define WHOKNOWS_INDEXER_READERS_H_

// The source readers. Each streams one input into a RecordSink, one record at
// a time. Bad records go to sink->OnBadRecord() (naming file and line or
// record) and reading continues. The returned Status is non-OK only when the
// input cannot be read at all, or when the sink returned an error.
// None of these is thread-safe; `sink` must outlive the call.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {

enum class InputFormat { kUnknown, kStackExchange, kMbox, kSlack, kJsonl };
std::string_view FormatName(InputFormat f);

// Detects the format of `path` by name and content: a directory holding
// Posts.xml[.zst] or a Posts.xml file -> Stack Exchange; a directory with
// users.json and channels.json -> Slack; *.jsonl[.zst] or a first line that is
// a JSON object -> JSONL; a first line "From " -> mbox (also *.mbox[.xz|.zst]).
absl::StatusOr<InputFormat> DetectFormat(const std::string& path);

// Stack Exchange data dump: a directory with Posts.xml (and optionally
// Users.xml, Comments.xml), each possibly .zst, or a single Posts.xml file.
// Default source "se:<site>" where <site> is the directory name; default
// community <site>; default visibility "public".
absl::Status ReadStackExchange(const std::string& path, const ReadOptions& options, RecordSink* sink);

// mbox archive (mboxo, mboxrd, mboxcl2; LF or CRLF), possibly .xz/.zst. Default
// source "mbox:<list>" where <list> is the parent directory name; community
// <list>; visibility "public". Messages that look like a split failure are
// kept and reported through sink->OnWarning().
absl::Status ReadMbox(const std::string& path, const ReadOptions& options, RecordSink* sink);

// Slack workspace export directory. Default source "slack:<workspace>" (the
// directory name), community <workspace>, visibility "internal".
absl::Status ReadSlackExport(const std::string& path, const ReadOptions& options, RecordSink* sink);

// JSON Lines, one message per line (schema in README.md). Default source
// "jsonl:<file stem>", visibility "internal".
absl::Status ReadJsonl(const std::string& path, const ReadOptions& options, RecordSink* sink);

// Parses one JSONL message (also the shape of gRPC streaming ingest).
// `default_source` is used when the object has no "source".
absl::StatusOr<Record> ParseJsonRecord(std::string_view json, const ReadOptions& options,
                                       std::string_view default_source);

// Dispatches on DetectFormat.
absl::Status ReadAny(const std::string& path, const ReadOptions& options, RecordSink* sink);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_READERS_H_
