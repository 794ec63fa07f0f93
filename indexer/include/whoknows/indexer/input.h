#ifndef WHOKNOWS_INDEXER_INPUT_H_
#define WHOKNOWS_INDEXER_INPUT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace whoknows::indexer {

// Sequential reader over a file that may be zstd (.zst) or xz (.xz)
// compressed; detected by magic bytes. Not thread-safe.
class InputFile {
 public:
  static absl::StatusOr<std::unique_ptr<InputFile>> Open(const std::string& path);
  virtual ~InputFile() = default;

  // Reads the next line (without the trailing '\n'; a trailing '\r' is kept)
  // into *line. Lines longer than `max_bytes` are truncated to max_bytes and
  // *too_long is set; the rest of the line is consumed and discarded.
  // Returns false at end of input. A decode error returns false and sets status().
  bool ReadLine(std::string* line, size_t max_bytes, bool* too_long);
  // Reads the whole (decompressed) content, up to `max_bytes`. Fails with
  // ResourceExhausted beyond that.
  absl::StatusOr<std::string> ReadAll(size_t max_bytes);

  const std::string& path() const { return path_; }
  // Bytes of the underlying (compressed) file consumed so far and its size.
  uint64_t compressed_done() const { return compressed_done_; }
  uint64_t compressed_size() const { return compressed_size_; }
  // Decompressed bytes delivered so far (line offsets).
  uint64_t offset() const { return offset_; }
  const absl::Status& status() const { return status_; }

 protected:
  explicit InputFile(std::string path) : path_(std::move(path)) {}
  // Fills up to `cap` bytes into `out`; returns bytes written, 0 at end.
  virtual size_t Fill(char* out, size_t cap) = 0;

  std::string path_;
  uint64_t compressed_done_ = 0;
  uint64_t compressed_size_ = 0;
  absl::Status status_;

 private:
  bool Refill();
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t offset_ = 0;
};

// The whole (decompressed) content of a small file such as a certificate or
// a key; NotFound when it cannot be opened, ResourceExhausted past max_bytes.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 16 << 20);

// The file name without a trailing .zst/.xz.
std::string StripCompressionSuffix(const std::string& path);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_INPUT_H_
