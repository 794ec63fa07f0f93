// IndexReader::GetDocs (the evidence documents of an answer, read in docid
// order field by field, without Xapian's existence check) against the
// documents as a full scan reads them (ForEachDocument) and their stored text
// read from Xapian directly: every field equal, in the caller's order, with a
// repeated docid, and a missing docid an error in its own slot only.
#include <gtest/gtest.h>
#include <xapian.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"

namespace whoknows::indexer {
namespace {

using testing::TempDir;

TEST(GetDocsTest, EqualsTheScanAndXapiansStoredText) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(PipelineResult r,
                       IndexPaths(dir.Sub("db"), {std::string(WK_SHARED_DATA_DIR) + "/stackexchange/coffee.stackexchange.com"},
                                  PipelineOptions{}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexReader> reader, IndexReader::Open(dir.Sub("db")));
  std::map<uint32_t, StoredDoc> scanned;
  ASSERT_OK(reader->ForEachDocument([&](const StoredDoc& d) { scanned[d.docid] = d; }));
  ASSERT_GT(scanned.size(), 100u);

  // Descending, then a repeat, a docid past the end and one from the middle: not docid order.
  std::vector<uint32_t> ids;
  for (auto it = scanned.rbegin(); it != scanned.rend() && ids.size() < 40; ++it) {
    ids.push_back(it->first);
    std::advance(it, 2);
    if (it == scanned.rend()) break;
  }
  const uint32_t missing = reader->last_docid() + 7;
  ids.push_back(ids[3]);
  ids.push_back(missing);
  ids.push_back(scanned.begin()->first);

  Xapian::Database xdb(dir.Sub("db"));
  std::vector<absl::StatusOr<DocText>> got = reader->GetDocs(ids);
  ASSERT_EQ(got.size(), ids.size());
  size_t with_title = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == missing) {
      EXPECT_FALSE(got[i].ok()) << "docid " << missing << " does not exist";
      EXPECT_FALSE(reader->GetDoc(missing).ok());
      continue;
    }
    ASSERT_OK(got[i].status());
    const DocText& t = *got[i];
    const StoredDoc& s = scanned.at(ids[i]);
    EXPECT_EQ(t.id, s.id) << ids[i];
    EXPECT_EQ(t.kind, s.kind) << ids[i];
    EXPECT_EQ(t.source, s.source) << ids[i];
    EXPECT_EQ(t.thread_id, s.thread_id) << ids[i];
    EXPECT_EQ(t.community, s.community) << ids[i];
    EXPECT_EQ(t.visibility, s.visibility) << ids[i];
    EXPECT_EQ(t.author, s.author) << ids[i];
    EXPECT_EQ(t.timestamp, s.timestamp) << ids[i];
    EXPECT_EQ(t.text, xdb.get_document(ids[i]).get_data()) << ids[i];
    EXPECT_FALSE(t.text.empty()) << ids[i];
    with_title += t.title.empty() ? 0 : 1;
    // One at a time gives the same.
    ASSERT_OK_AND_ASSIGN(DocText one, reader->GetDoc(ids[i]));
    EXPECT_EQ(one.id, t.id);
    EXPECT_EQ(one.title, t.title);
    EXPECT_EQ(one.text, t.text);
    EXPECT_EQ(one.timestamp, t.timestamp);
  }
  EXPECT_GT(with_title, 0u) << "questions have titles";
  EXPECT_TRUE(reader->GetDocs({}).empty());
}

}  // namespace
}  // namespace whoknows::indexer
