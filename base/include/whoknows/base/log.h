#ifndef WHOKNOWS_BASE_LOG_H_
#define WHOKNOWS_BASE_LOG_H_

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"

namespace whoknows {

// Bookworm's Abseil has no absl/log; this is the one place that writes
// diagnostics to stderr. Thread-compatible (one fprintf per line).
enum class LogLevel { kInfo, kWarning, kError };

inline void LogLine(LogLevel level, const std::string& msg) {
  const char* tag = level == LogLevel::kInfo ? "I" : level == LogLevel::kWarning ? "W" : "E";
  std::fprintf(stderr, "%s %s\n", tag, msg.c_str());
}

template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrFormat(fmt, args...));
}
template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrFormat(fmt, args...));
}
template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  LogLine(LogLevel::kError, absl::StrFormat(fmt, args...));
}

}  // namespace whoknows

#endif  // WHOKNOWS_BASE_LOG_H_
