#ifndef WHOKNOWS_TESTS_FUZZ_FUZZ_UTIL_H_
#define WHOKNOWS_TESTS_FUZZ_FUZZ_UTIL_H_

// Helpers shared by the libFuzzer targets and by
// tests/indexer/fuzz_regressions_test.cc, which replays saved crash inputs
// through the same entry points (the Fuzz* functions in fuzz_entry.h).

#include <stdio.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "whoknows/base/source_pos.h"
#include "whoknows/indexer/record.h"

namespace whoknows::fuzz {

// Aborts (a libFuzzer crash, a gtest death) when an invariant of the readers'
// contract does not hold.
#define WK_FUZZ_CHECK(cond, what)                                                        \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "%s:%d: fuzz invariant failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
              std::string(what).c_str());                                                \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

// One scratch directory per process, removed at exit. Each target works in
// its own subdirectory, overwriting the same files on every input.
inline const std::filesystem::path& ProcessTempDir() {
  static const std::filesystem::path* dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "whoknows-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      perror("mkdtemp");
      abort();
    }
    auto* p = new std::filesystem::path(tmpl);
    atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ProcessTempDir(), ec);
    });
    return p;
  }();
  return *dir;
}

inline void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    fprintf(stderr, "cannot write %s\n", path.c_str());
    abort();
  }
}

inline void RemoveFile(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

// Multi-file inputs (a Stack Exchange site, a Slack export) are one fuzz input
// whose parts are separated by this line.
inline constexpr std::string_view kPartSeparator = "\n#### next file ####\n";

inline std::vector<std::string_view> SplitParts(std::string_view data, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t at = data.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(data.substr(0, at));
    data.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(data);
  return parts;
}

// Checks what every reader promises about its records and skips.
class CheckingSink : public indexer::RecordSink {
 public:
  absl::Status OnRecord(indexer::Record record) override {
    ++records;
    WK_FUZZ_CHECK(!record.id.empty(), "record without id");
    WK_FUZZ_CHECK(!record.source.empty(), record.id);
    WK_FUZZ_CHECK(indexer::SanitizeUtf8(&record.title), record.id + ": title is not UTF-8");
    WK_FUZZ_CHECK(indexer::SanitizeUtf8(&record.text), record.id + ": text is not UTF-8");
    WK_FUZZ_CHECK(indexer::SanitizeUtf8(&record.author_name), record.id + ": author_name is not UTF-8");
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    ++bad;
    WK_FUZZ_CHECK(!pos.file.empty(), "bad record without file");
    WK_FUZZ_CHECK(!reason.empty(), pos.ToString());
    WK_FUZZ_CHECK(!status.ok(), pos.ToString());
    (void)pos.ToString();
  }
  void OnWarning(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    ++warnings;
    WK_FUZZ_CHECK(!pos.file.empty(), "warning without file");
    WK_FUZZ_CHECK(!reason.empty(), pos.ToString());
    WK_FUZZ_CHECK(!status.ok(), pos.ToString());
  }
  uint64_t records = 0;
  uint64_t bad = 0;
  uint64_t warnings = 0;
};

}  // namespace whoknows::fuzz

#endif  // WHOKNOWS_TESTS_FUZZ_FUZZ_UTIL_H_
