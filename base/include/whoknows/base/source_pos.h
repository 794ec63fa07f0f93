#ifndef WHOKNOWS_BASE_SOURCE_POS_H_
#define WHOKNOWS_BASE_SOURCE_POS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace whoknows {

// Where a record came from: `file:line` for line-oriented inputs (XML, mbox,
// JSONL) or `file#record` for record-oriented ones (Slack day files).
struct SourcePos {
  std::string file;
  int64_t line = 0;    // 1-based; 0 when unknown
  int64_t record = -1; // 0-based record index inside the file; -1 when unused
  int64_t offset = -1; // byte offset into the (decompressed) stream; -1 when unknown

  std::string ToString() const {
    if (record >= 0) return absl::StrFormat("%s#%d", file, record);
    if (line > 0) return absl::StrFormat("%s:%d", file, line);
    if (offset >= 0) return absl::StrFormat("%s@%d", file, offset);
    return file;
  }
};

}  // namespace whoknows

#endif  // WHOKNOWS_BASE_SOURCE_POS_H_
