// SuggestConnections answers are reused until the snapshot changes: the same
// answer as without the cache, and a new answer right after an ingest.

#include <memory>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "ingest_fixture.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

using whoknows::testing::TempDir;

indexer::Record Msg(const std::string& id, const std::string& author, const std::string& thread, int64_t t) {
  return ingest_fixture::ThreadMsg("jsonl:cc", id, author, thread, t, "notes about build caches and compilers",
                                   "build");
}

std::vector<std::string> Ids(const std::vector<ConnectionResult>& v) {
  std::vector<std::string> out;
  for (const ConnectionResult& c : v) out.push_back(c.person_id);
  return out;
}

TEST(ConnectCacheTest, SameAnswerAsUncachedAndInvalidatedByIngest) {
  TempDir dir;
  BackendOptions cached;
  cached.writable = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> b, Backend::Open(dir.Sub("db"), cached));
  // alice-bob, bob-carol, carol-erin: alice's candidates are carol and erin.
  ASSERT_OK(b->Ingest({Msg("t1", "alice", "t1", 1600000000), Msg("r1", "bob", "t1", 1600000100),
                       Msg("t2", "bob", "t2", 1600000200), Msg("r2", "carol", "t2", 1600000300),
                       Msg("t3", "carol", "t3", 1600000400), Msg("r3", "erin", "t3", 1600000500)},
                      {})
                .status());
  ConnectQuery q;
  q.person = "mail:alice@example.org";
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> first, b->SuggestConnections(q, Caller{}));
  ASSERT_FALSE(first.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> again, b->SuggestConnections(q, Caller{}));
  EXPECT_EQ(Ids(again), Ids(first));
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(again[i].score, first[i].score);

  // A new person replying to bob becomes a candidate for alice at once.
  ASSERT_OK(b->Ingest({Msg("t4", "bob", "t4", 1600000600), Msg("r4", "dave", "t4", 1600000700)}, {}).status());
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> after, b->SuggestConnections(q, Caller{}));
  std::vector<std::string> ids = Ids(after);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "mail:dave@example.org"), ids.end());

  // And equal to a backend that never caches, on the same index.
  b.reset();
  BackendOptions uncached;
  uncached.connect_cache = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> u, Backend::Open(dir.Sub("db"), uncached));
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> fresh, u->SuggestConnections(q, Caller{}));
  EXPECT_EQ(Ids(fresh), ids);
}

}  // namespace
}  // namespace whoknows::service
