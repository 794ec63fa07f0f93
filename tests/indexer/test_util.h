#ifndef WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_
#define WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "whoknows/indexer/record.h"

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

// A skipped record as a reader reported it.
struct Bad {
  std::string pos;
  std::string reason;
  std::string message;
};

// Keeps every record and every bad-record report.
class CollectSink : public indexer::RecordSink {
 public:
  absl::Status OnRecord(indexer::Record record) override {
    records.push_back(std::move(record));
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    bad.push_back({pos.ToString(), std::string(reason), std::string(status.message())});
  }
  void OnWarning(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    warnings.push_back({pos.ToString(), std::string(reason), std::string(status.message())});
  }
  const indexer::Record* Find(const std::string& id) const {
    for (const indexer::Record& r : records) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
  std::vector<indexer::Record> records;
  std::vector<Bad> bad;
  std::vector<Bad> warnings;  // records kept but reported as suspect
};

}  // namespace whoknows::testing

#endif  // WHOKNOWS_TESTS_INDEXER_TEST_UTIL_H_
