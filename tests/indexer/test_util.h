#ifndef WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_
#define WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace whoknows::testing {

// A fresh directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "whoknows-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    path_ = p != nullptr ? p : tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace whoknows::testing

#endif  // WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_
