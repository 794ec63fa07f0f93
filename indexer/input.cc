#include "whoknows/indexer/input.h"

#include <lzma.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace whoknows::indexer {
namespace {

constexpr size_t kChunk = 1 << 16;

class RawFile {
 public:
  ~RawFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  absl::Status Open(const std::string& path, uint64_t* size) {
    f_ = std::fopen(path.c_str(), "rb");
    if (f_ == nullptr) {
      return absl::NotFoundError(absl::StrFormat("%s: cannot open: %s", path, std::strerror(errno)));
    }
    if (std::fseek(f_, 0, SEEK_END) == 0) {
      long n = std::ftell(f_);
      *size = n > 0 ? static_cast<uint64_t>(n) : 0;
      std::fseek(f_, 0, SEEK_SET);
    }
    return absl::OkStatus();
  }
  size_t Read(char* out, size_t cap) { return std::fread(out, 1, cap, f_); }
  bool Error() const { return std::ferror(f_) != 0; }

 private:
  FILE* f_ = nullptr;
};

class PlainFile final : public InputFile {
 public:
  explicit PlainFile(std::string path) : InputFile(std::move(path)) {}
  absl::Status Init() { return raw_.Open(path_, &compressed_size_); }

 protected:
  size_t Fill(char* out, size_t cap) override {
    size_t n = raw_.Read(out, cap);
    compressed_done_ += n;
    if (n == 0 && raw_.Error()) status_ = absl::DataLossError(absl::StrFormat("%s: read error", path_));
    return n;
  }

 private:
  RawFile raw_;
};

class ZstdFile final : public InputFile {
 public:
  explicit ZstdFile(std::string path) : InputFile(std::move(path)), in_(kChunk) {}
  ~ZstdFile() override { ZSTD_freeDStream(ds_); }
  absl::Status Init() {
    ds_ = ZSTD_createDStream();
    ZSTD_initDStream(ds_);
    return raw_.Open(path_, &compressed_size_);
  }

 protected:
  size_t Fill(char* out, size_t cap) override {
    ZSTD_outBuffer ob{out, cap, 0};
    while (ob.pos == 0) {
      if (zin_.pos == zin_.size) {
        size_t n = raw_.Read(in_.data(), in_.size());
        compressed_done_ += n;
        if (n == 0) {
          if (!frame_done_) {
            status_ = absl::DataLossError(absl::StrFormat("%s: truncated zstd stream at byte %d", path_,
                                                          compressed_done_));
          }
          return 0;
        }
        zin_ = ZSTD_inBuffer{in_.data(), n, 0};
      }
      size_t r = ZSTD_decompressStream(ds_, &ob, &zin_);
      if (ZSTD_isError(r)) {
        status_ = absl::DataLossError(absl::StrFormat("%s: zstd error near byte %d: %s", path_,
                                                      compressed_done_, ZSTD_getErrorName(r)));
        return 0;
      }
      frame_done_ = (r == 0);
    }
    return ob.pos;
  }

 private:
  RawFile raw_;
  ZSTD_DStream* ds_ = nullptr;
  std::vector<char> in_;
  ZSTD_inBuffer zin_{nullptr, 0, 0};
  bool frame_done_ = true;
};

class XzFile final : public InputFile {
 public:
  explicit XzFile(std::string path) : InputFile(std::move(path)), in_(kChunk) {}
  ~XzFile() override { lzma_end(&strm_); }
  absl::Status Init() {
    if (lzma_stream_decoder(&strm_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      return absl::InternalError(absl::StrFormat("%s: cannot init xz decoder", path_));
    }
    return raw_.Open(path_, &compressed_size_);
  }

 protected:
  size_t Fill(char* out, size_t cap) override {
    if (done_) return 0;
    strm_.next_out = reinterpret_cast<uint8_t*>(out);
    strm_.avail_out = cap;
    while (strm_.avail_out == cap) {
      lzma_action action = LZMA_RUN;
      if (strm_.avail_in == 0) {
        size_t n = raw_.Read(in_.data(), in_.size());
        compressed_done_ += n;
        strm_.next_in = reinterpret_cast<const uint8_t*>(in_.data());
        strm_.avail_in = n;
        if (n == 0) action = LZMA_FINISH;
      }
      lzma_ret r = lzma_code(&strm_, action);
      if (r == LZMA_STREAM_END) {
        done_ = true;
        break;
      }
      if (r != LZMA_OK) {
        status_ = absl::DataLossError(absl::StrFormat("%s: xz error %d near byte %d (truncated or corrupt)",
                                                      path_, static_cast<int>(r), compressed_done_));
        done_ = true;
        break;
      }
    }
    return cap - strm_.avail_out;
  }

 private:
  RawFile raw_;
  lzma_stream strm_ = LZMA_STREAM_INIT;
  std::vector<char> in_;
  bool done_ = false;
};

}  // namespace

std::string StripCompressionSuffix(const std::string& path) {
  for (const char* suffix : {".zst", ".xz"}) {
    size_t n = std::strlen(suffix);
    if (path.size() > n && path.compare(path.size() - n, n, suffix) == 0) return path.substr(0, path.size() - n);
  }
  return path;
}

absl::StatusOr<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  unsigned char magic[6] = {0};
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      return absl::NotFoundError(absl::StrFormat("%s: cannot open: %s", path, std::strerror(errno)));
    }
    size_t got = std::fread(magic, 1, sizeof(magic), f);
    std::fclose(f);
    (void)got;
  }
  static const unsigned char kZstd[4] = {0x28, 0xB5, 0x2F, 0xFD};
  static const unsigned char kXz[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
  if (std::memcmp(magic, kZstd, 4) == 0) {
    auto f = std::make_unique<ZstdFile>(path);
    if (absl::Status s = f->Init(); !s.ok()) return s;
    return std::unique_ptr<InputFile>(std::move(f));
  }
  if (std::memcmp(magic, kXz, 6) == 0) {
    auto f = std::make_unique<XzFile>(path);
    if (absl::Status s = f->Init(); !s.ok()) return s;
    return std::unique_ptr<InputFile>(std::move(f));
  }
  auto f = std::make_unique<PlainFile>(path);
  if (absl::Status s = f->Init(); !s.ok()) return s;
  return std::unique_ptr<InputFile>(std::move(f));
}

bool InputFile::Refill() {
  if (eof_ || !status_.ok()) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + kChunk);
  size_t n = Fill(buf_.data() + old, kChunk);
  buf_.resize(old + n);
  if (n == 0) eof_ = true;
  return n > 0;
}

bool InputFile::ReadLine(std::string* line, size_t max_bytes, bool* too_long) {
  line->clear();
  *too_long = false;
  bool any = false;
  for (;;) {
    if (pos_ >= buf_.size()) {
      buf_.clear();
      pos_ = 0;
      if (!Refill()) return any;
    }
    any = true;
    const char* start = buf_.data() + pos_;
    size_t avail = buf_.size() - pos_;
    const void* nl = std::memchr(start, '\n', avail);
    size_t take = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    size_t room = max_bytes > line->size() ? max_bytes - line->size() : 0;
    if (take > room) {
      *too_long = true;
      line->append(start, room);
    } else {
      line->append(start, take);
    }
    pos_ += take;
    offset_ += take;
    if (nl != nullptr) {
      ++pos_;
      ++offset_;
      return true;
    }
  }
}

absl::StatusOr<std::string> InputFile::ReadAll(size_t max_bytes) {
  std::string out;
  out.append(buf_, pos_, std::string::npos);
  buf_.clear();
  pos_ = 0;
  std::vector<char> chunk(kChunk);
  for (;;) {
    if (out.size() > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat("%s: larger than %d bytes", path_, max_bytes));
    }
    size_t n = Fill(chunk.data(), chunk.size());
    if (n == 0) break;
    out.append(chunk.data(), n);
  }
  if (!status_.ok()) return status_;
  offset_ += out.size();
  return out;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  absl::StatusOr<std::unique_ptr<InputFile>> f = InputFile::Open(path);
  if (!f.ok()) return f.status();
  return (*f)->ReadAll(max_bytes);
}

}  // namespace whoknows::indexer
