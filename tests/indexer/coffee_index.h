#ifndef WHOKNOWS_TESTS_INDEXER_COFFEE_INDEX_H_
#define WHOKNOWS_TESTS_INDEXER_COFFEE_INDEX_H_

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"
#include "whoknows/indexer/pipeline.h"

namespace whoknows::testing {

// A fixture whose suite shares one index of the shared coffee.stackexchange.com
// dump, built once before its first test and removed after its last.
class CoffeeIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string data = WK_SHARED_DATA_DIR;
    auto r = indexer::IndexPaths(dir_->Sub("db"), {data + "/stackexchange/coffee.stackexchange.com"},
                                 indexer::PipelineOptions{});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->failed_paths.empty());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string db() { return dir_->Sub("db"); }

 private:
  static inline TempDir* dir_ = nullptr;
};

}  // namespace whoknows::testing

#endif  // WHOKNOWS_TESTS_INDEXER_COFFEE_INDEX_H_
