#ifndef WHOKNOWS_BASE_TESTING_H_
#define WHOKNOWS_BASE_TESTING_H_

// Test helpers; this Abseil has no status_matchers.h.
#include "gtest/gtest.h"
#include "whoknows/base/status_macros.h"

#define EXPECT_OK(expr)                                  \
  do {                                                   \
    const ::absl::Status wk_t_ = ::whoknows::AsStatus(expr); \
    EXPECT_TRUE(wk_t_.ok()) << wk_t_;                    \
  } while (0)
#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::absl::Status wk_t_ = ::whoknows::AsStatus(expr); \
    ASSERT_TRUE(wk_t_.ok()) << wk_t_;                    \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(WK_CONCAT_(wk_t_or_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status();            \
  lhs = *std::move(tmp)

namespace whoknows {
inline absl::Status AsStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status AsStatus(const absl::StatusOr<T>& s) { return s.status(); }
}  // namespace whoknows

#endif  // WHOKNOWS_BASE_TESTING_H_
