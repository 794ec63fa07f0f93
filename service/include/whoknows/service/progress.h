#ifndef WHOKNOWS_SERVICE_PROGRESS_H_
#define WHOKNOWS_SERVICE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace whoknows::service {

// Progress for long work: a redrawn bar on a terminal (stderr is a tty),
// otherwise a plain line every `interval`. Not thread-safe.
class Progress {
 public:
  explicit Progress(std::string label, std::chrono::seconds interval = std::chrono::seconds(10));
  // `done`/`total` in bytes of the current file (total 0 = unknown); `items` counted so far.
  void Update(std::string_view file, uint64_t done, uint64_t total, uint64_t items);
  void Finish(uint64_t items);

 private:
  std::string label_;
  bool tty_;
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point start_, last_;
  std::string file_;
  std::chrono::steady_clock::time_point file_start_;
  uint64_t bytes_before_ = 0;  // bytes of finished files
  uint64_t last_done_ = 0;
};

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_PROGRESS_H_
