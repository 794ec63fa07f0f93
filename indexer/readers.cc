// Format detection and dispatch over all readers.
//
// ReadAny accepts:
//   - a Stack Exchange site directory or Posts.xml[.zst|.xz] file,
//   - a Slack export directory (users.json + channels.json),
//   - an mbox file, or a directory of *.mbox* files (read in name order, so
//     r-devel-1997.mbox.xz .. r-devel-2026.mbox.xz are read chronologically),
//   - a JSONL file, or a directory of *.jsonl* / *.ndjson* files (name order),
//   - a directory of such inputs (shared/data/stackexchange: one directory
//     per site), or a directory of those (shared/data): unrecognised
//     directories are searched up to kMaxDepth levels below `path`, entries in
//     name order; files that are not recognised there (README, checksums) are
//     ignored. Nothing recognised at all -> InvalidArgument naming `path`.

#include "whoknows/indexer/readers.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/input.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;

// shared/data -> stackexchange -> ai.stackexchange.com is two levels down.
constexpr int kMaxDepth = 2;
// Enough of the first line to recognise a format.
constexpr size_t kSniffBytes = 4096;

std::string BaseName(const std::string& path) { return fs::path(StripCompressionSuffix(path)).filename().string(); }

bool IsMboxName(const std::string& name) {
  const std::string base = AsciiLower(fs::path(StripCompressionSuffix(name)).filename().string());
  return std::string_view(base).ends_with(".mbox") || base == "mbox";
}

bool IsJsonlName(const std::string& name) {
  const std::string base = AsciiLower(fs::path(StripCompressionSuffix(name)).filename().string());
  return std::string_view(base).ends_with(".jsonl") || std::string_view(base).ends_with(".ndjson");
}

bool IsPostsName(const std::string& name) { return BaseName(name) == "Posts.xml"; }

// Sorted regular files in `dir` whose name satisfies `pred`.
std::vector<std::string> FilesIn(const std::string& dir, bool (*pred)(const std::string&)) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && pred(it->path().filename().string())) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

InputFormat SniffFile(const std::string& path) {
  absl::StatusOr<std::unique_ptr<InputFile>> in = InputFile::Open(path);
  if (!in.ok()) return InputFormat::kUnknown;
  std::string line;
  bool too_long = false;
  // The first non-blank line decides (an XML prolog may precede <posts>).
  for (int lines = 0; lines < 4 && (*in)->ReadLine(&line, kSniffBytes, &too_long); ++lines) {
    std::string_view s = line;
    if (std::string_view(s).starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
    while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    if (s.empty()) continue;
    if (std::string_view(s).starts_with("From ")) return InputFormat::kMbox;
    if (std::string_view(s).starts_with("{")) return InputFormat::kJsonl;
    if (std::string_view(s).starts_with("<posts")) return InputFormat::kStackExchange;
    if (std::string_view(s).starts_with("<?xml") || std::string_view(s).starts_with("<!DOCTYPE")) {
      if (s.find("<posts") != std::string_view::npos) return InputFormat::kStackExchange;
      continue;
    }
    return InputFormat::kUnknown;
  }
  return InputFormat::kUnknown;
}

absl::Status ReadEach(const std::vector<std::string>& files, const ReadOptions& options, RecordSink* sink,
                      absl::Status (*reader)(const std::string&, const ReadOptions&, RecordSink*)) {
  for (const std::string& f : files) WK_RETURN_IF_ERROR(reader(f, options, sink));
  return absl::OkStatus();
}

// Reads `path` if recognised; *found is set when something was read.
absl::Status ReadRecursive(const std::string& path, const ReadOptions& options, RecordSink* sink, int depth,
                           bool* found) {
  absl::StatusOr<InputFormat> format = DetectFormat(path);
  if (!format.ok()) return format.status();
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  switch (*format) {
    case InputFormat::kStackExchange:
      *found = true;
      return ReadStackExchange(path, options, sink);
    case InputFormat::kSlack:
      *found = true;
      return ReadSlackExport(path, options, sink);
    case InputFormat::kMbox:
      *found = true;
      if (is_dir) return ReadEach(FilesIn(path, IsMboxName), options, sink, ReadMbox);
      return ReadMbox(path, options, sink);
    case InputFormat::kJsonl:
      *found = true;
      if (is_dir) return ReadEach(FilesIn(path, IsJsonlName), options, sink, ReadJsonl);
      return ReadJsonl(path, options, sink);
    case InputFormat::kUnknown:
      break;
  }
  if (!is_dir || depth >= kMaxDepth) return absl::OkStatus();
  std::vector<std::string> subdirs;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2)) subdirs.push_back(it->path().string());
  }
  if (ec) return absl::UnavailableError(absl::StrFormat("%s: cannot list: %s", path, ec.message()));
  std::sort(subdirs.begin(), subdirs.end());
  for (const std::string& d : subdirs) WK_RETURN_IF_ERROR(ReadRecursive(d, options, sink, depth + 1, found));
  return absl::OkStatus();
}

}  // namespace

std::string_view FormatName(InputFormat f) {
  switch (f) {
    case InputFormat::kStackExchange:
      return "stackexchange";
    case InputFormat::kMbox:
      return "mbox";
    case InputFormat::kSlack:
      return "slack";
    case InputFormat::kJsonl:
      return "jsonl";
    case InputFormat::kUnknown:
      return "unknown";
  }
  return "unknown";
}

absl::StatusOr<InputFormat> DetectFormat(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return absl::NotFoundError(absl::StrFormat("%s: no such file or directory", path));
  }
  if (fs::is_directory(st)) {
    const fs::path dir(path);
    for (const char* posts : {"Posts.xml", "Posts.xml.zst", "Posts.xml.xz"}) {
      std::error_code ec2;
      if (fs::is_regular_file(dir / posts, ec2)) return InputFormat::kStackExchange;
    }
    std::error_code ec3, ec4;
    if (fs::is_regular_file(dir / "users.json", ec3) && fs::is_regular_file(dir / "channels.json", ec4)) {
      return InputFormat::kSlack;
    }
    if (!FilesIn(path, IsMboxName).empty()) return InputFormat::kMbox;
    if (!FilesIn(path, IsJsonlName).empty()) return InputFormat::kJsonl;
    return InputFormat::kUnknown;
  }
  if (IsPostsName(path)) return InputFormat::kStackExchange;
  if (IsJsonlName(path)) return InputFormat::kJsonl;
  if (IsMboxName(path)) return InputFormat::kMbox;
  return SniffFile(path);
}

absl::Status ReadAny(const std::string& path, const ReadOptions& options, RecordSink* sink) {
  bool found = false;
  WK_RETURN_IF_ERROR(ReadRecursive(path, options, sink, 0, &found));
  if (!found) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no recognisable input (expected a Stack Exchange dump, an mbox file or directory, a Slack "
                        "export or JSONL)",
                        path));
  }
  return absl::OkStatus();
}

}  // namespace whoknows::indexer
