#ifndef WHOKNOWS_BASE_STATUS_MACROS_H_
#define WHOKNOWS_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define WK_RETURN_IF_ERROR(expr)                          \
  do {                                                    \
    if (::absl::Status wk_s_ = (expr); !wk_s_.ok()) {     \
      return wk_s_;                                       \
    }                                                     \
  } while (0)

#define WK_CONCAT_INNER_(a, b) a##b
#define WK_CONCAT_(a, b) WK_CONCAT_INNER_(a, b)

// WK_ASSIGN_OR_RETURN(lhs, rexpr): evaluates `rexpr` (an absl::StatusOr<T>),
// returns its status when not OK, otherwise assigns the value to `lhs`.
#define WK_ASSIGN_OR_RETURN(lhs, rexpr) \
  WK_ASSIGN_OR_RETURN_IMPL_(WK_CONCAT_(wk_statusor_, __LINE__), lhs, rexpr)
#define WK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = *std::move(tmp)

#endif  // WHOKNOWS_BASE_STATUS_MACROS_H_
