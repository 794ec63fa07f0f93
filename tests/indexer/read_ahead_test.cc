// IndexPaths reads on its own thread ahead of the index writer
// (indexer/pipeline.cc). The index it writes must be the one a plain loop
// (read a record, add it; same thread) writes: same documents under the same
// docids, terms with wdf and positions, values, data, metadata (identity
// table, topic vocabulary), summary; callbacks on the caller's thread, in order.
#include <xapian.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/readers.h"

namespace whoknows::indexer {
namespace {

using whoknows::testing::TempDir;

const std::string kData = WK_TEST_DATA_DIR;

// Mail with greetings and sign-offs (derived topics, identity merges), a
// Stack Exchange site, a Slack export, JSONL, and mbox files with broken and
// malformed messages (skipped records, warnings).
std::vector<std::string> Inputs() {
  return {kData + "/topics/devlist", kData + "/stackexchange/mini.stackexchange.com", kData + "/slack/acme",
          kData + "/jsonl/team-chat.jsonl", kData + "/mbox/testlist"};
}

// Everything the index holds, one line per document, metadata entry and term.
std::vector<std::string> Dump(const std::string& dir) {
  std::vector<std::string> out;
  Xapian::Database db(dir);
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    Xapian::Document d = db.get_document(*it);
    std::string line = absl::StrCat(*it, " data=", d.get_data());
    for (auto v = d.values_begin(); v != d.values_end(); ++v) absl::StrAppend(&line, " v", v.get_valueno(), "=", *v);
    for (auto t = d.termlist_begin(); t != d.termlist_end(); ++t) {
      absl::StrAppend(&line, " ", *t, ":", t.get_wdf());
      for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) absl::StrAppend(&line, ",", *p);
    }
    out.push_back(std::move(line));
  }
  for (auto m = db.metadata_keys_begin(); m != db.metadata_keys_end(); ++m) {
    out.push_back(absl::StrCat("meta ", *m, "=", db.get_metadata(*m)));
  }
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    out.push_back(absl::StrCat("term ", *t, " ", t.get_termfreq()));
  }
  return out;
}

TEST(ReadAheadTest, WritesWhatThePlainLoopWrites) {
  TempDir dir;
  IndexOptions io;
  io.commit_every = 7;  // many commits: the topic statistics are re-read after each
  PipelineOptions po;
  po.index = io;
  std::vector<std::string> bad, progress_files;
  const std::thread::id caller = std::this_thread::get_id();
  bool other_thread = false;
  po.on_bad = [&](const SourcePos& pos, std::string_view reason, const absl::Status&) {
    other_thread |= std::this_thread::get_id() != caller;
    bad.push_back(pos.ToString() + " " + std::string(reason));
  };
  uint64_t last_records = 0;
  bool records_went_back = false;
  po.on_progress = [&](std::string_view file, uint64_t, uint64_t, uint64_t records) {
    other_thread |= std::this_thread::get_id() != caller;
    records_went_back |= records < last_records;
    last_records = records;
    if (progress_files.empty() || progress_files.back() != file) progress_files.emplace_back(file);
  };
  ASSERT_OK_AND_ASSIGN(PipelineResult piped, IndexPaths(dir.Sub("piped"), Inputs(), po));
  EXPECT_FALSE(other_thread) << "callbacks must run on the caller's thread";
  EXPECT_FALSE(records_went_back);
  EXPECT_TRUE(piped.failed_paths.empty());

  IndexSummary direct;
  std::vector<std::string> direct_bad;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexWriter> w, IndexWriter::Open(dir.Sub("direct"), io));
    {
      class Sink final : public RecordSink {
       public:
        Sink(IndexWriter* w, std::vector<std::string>* bad) : w_(w), bad_(bad) {}
        absl::Status OnRecord(Record r) override { return w_->Add(std::move(r)); }
        void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status&) override {
          w_->CountBad(reason);
          bad_->push_back(pos.ToString() + " " + std::string(reason));
        }

       private:
        IndexWriter* w_;
        std::vector<std::string>* bad_;
      } sink(w.get(), &direct_bad);
      for (const std::string& p : Inputs()) ASSERT_OK(ReadAny(p, {}, &sink));
    }
    ASSERT_OK(w->Commit());
    direct = w->summary();
  }
  // The inputs exercise what they should.
  EXPECT_GT(piped.summary.indexed, 20u);
  EXPECT_GT(piped.summary.skipped, 0u);
  EXPECT_GT(piped.summary.commits, 3u);
  EXPECT_EQ(bad, direct_bad);
  EXPECT_EQ(piped.summary.read, direct.read);
  EXPECT_EQ(piped.summary.indexed, direct.indexed);
  EXPECT_EQ(piped.summary.duplicates, direct.duplicates);
  EXPECT_EQ(piped.summary.skipped, direct.skipped);
  EXPECT_EQ(piped.summary.skipped_by_reason, direct.skipped_by_reason);
  EXPECT_EQ(piped.summary.name_merges.size(), direct.name_merges.size());

  const std::vector<std::string> a = Dump(dir.Sub("piped")), b = Dump(dir.Sub("direct"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "entry " << i;
  // Derived topics are there (the comparison covers them).
  bool topic = false;
  for (const std::string& l : a) topic |= l.rfind("term T", 0) == 0;
  EXPECT_TRUE(topic);
}

TEST(ReadAheadTest, UnreadablePathIsReportedAndTheRestIndexed) {
  TempDir dir;
  std::vector<std::string> paths = {kData + "/jsonl/team-chat.jsonl", dir.Sub("no-such-file.mbox"),
                                    kData + "/topics/devlist"};
  ASSERT_OK_AND_ASSIGN(PipelineResult r, IndexPaths(dir.Sub("db"), paths, PipelineOptions{}));
  ASSERT_EQ(r.failed_paths.size(), 1u);
  EXPECT_EQ(r.failed_paths[0].first, paths[1]);
  ASSERT_OK_AND_ASSIGN(PipelineResult only, IndexPaths(dir.Sub("db2"), {paths[0], paths[2]}, PipelineOptions{}));
  EXPECT_EQ(r.summary.indexed, only.summary.indexed);
  EXPECT_GT(r.summary.indexed, 0u);
}

}  // namespace
}  // namespace whoknows::indexer
