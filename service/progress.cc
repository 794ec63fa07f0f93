#include "whoknows/service/progress.h"

#include <unistd.h>

#include <cstdio>

namespace whoknows::service {

Progress::Progress(std::string label, std::chrono::seconds interval)
    : label_(std::move(label)), tty_(isatty(2) != 0), interval_(interval) {
  start_ = last_ = file_start_ = std::chrono::steady_clock::now();
}

void Progress::Update(std::string_view file, uint64_t done, uint64_t total, uint64_t items) {
  auto now = std::chrono::steady_clock::now();
  if (file != file_) {
    bytes_before_ += last_done_;
    file_ = std::string(file);
    file_start_ = now;
    last_done_ = 0;
  }
  last_done_ = done;
  auto since = now - last_;
  if (tty_ ? since < std::chrono::milliseconds(200) : since < interval_) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(items) / secs : 0;
  double mbs = secs > 0 ? static_cast<double>(bytes_before_ + done) / secs / 1e6 : 0;
  double fsecs = std::chrono::duration<double>(now - file_start_).count();
  std::string name = file_;
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (tty_) {
    int pct = total > 0 ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)) : 0;
    int filled = pct / 5;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(20, '.');
    double eta = (total > 0 && done > 0) ? fsecs * static_cast<double>(total - done) / static_cast<double>(done) : 0;
    std::fprintf(stderr, "\r%s [%s] %3d%% %s  %llu records  %.0f rec/s  %.1f MB/s  ETA %.0fs   ", label_.c_str(),
                 bar.c_str(), pct, name.c_str(), static_cast<unsigned long long>(items), rate, mbs, eta);
  } else {
    std::fprintf(stderr, "%s: %s %llu/%llu bytes, %llu records, %.0f rec/s, %.1f MB/s\n", label_.c_str(), name.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 static_cast<unsigned long long>(items), rate, mbs);
  }
  std::fflush(stderr);
}

void Progress::Finish(uint64_t items) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s: done, %llu records in %.1fs\n", label_.c_str(), static_cast<unsigned long long>(items), secs);
}

}  // namespace whoknows::service
