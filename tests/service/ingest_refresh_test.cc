// A server that took many small ingests (each becomes a delta, and each delta
// merge splices the new documents into the current snapshot:
// engine::ExtendSnapshot) answers exactly as a server opened fresh on the
// same index, also after a merge the splice refuses (a reply that arrived
// before its parent) and after an erase (full rebuilds, then extended again);
// erase takes effect at once.

#include <memory>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "ingest_fixture.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

using whoknows::testing::TempDir;

indexer::Record Msg(int i) { return ingest_fixture::IngestMsg("jsonl:ir", i); }

std::vector<std::string> Experts(Backend* b, const std::string& text, const Caller& caller) {
  ExpertsQuery q;
  q.text = text;
  absl::StatusOr<ExpertsAnswer> a = b->FindExperts(q, caller);
  EXPECT_TRUE(a.ok()) << a.status();
  std::vector<std::string> out;
  if (!a.ok()) return out;
  for (const ExpertResult& e : a->experts) out.push_back(absl::StrFormat("%s %.6f", e.person_id, e.score));
  return out;
}

std::vector<std::string> Connections(Backend* b, const std::string& person) {
  ConnectQuery q;
  q.person = person;
  absl::StatusOr<std::vector<ConnectionResult>> a = b->SuggestConnections(q, Caller{});
  EXPECT_TRUE(a.ok()) << a.status();
  std::vector<std::string> out;
  if (!a.ok()) return out;
  for (const ConnectionResult& c : *a) out.push_back(absl::StrFormat("%s %.6f", c.person_id, c.score));
  return out;
}

TEST(IngestRefreshTest, ManySmallIngestsAnswerAsAFreshSnapshot) {
  TempDir dir;
  BackendOptions options;
  options.writable = true;
  options.connect_cache = false;
  options.merge_in_background = false;  // merged after each ingest below (MergeDelta)
  options.delta_min_documents = 0;      // through the delta, however small the index
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> live, Backend::Open(dir.Sub("db"), options));
  auto ingest = [&](std::vector<indexer::Record> records) {
    absl::Status s = live->Ingest(std::move(records), {}).status();
    return s.ok() ? live->MergeDelta() : s;
  };
  ::testing::internal::CaptureStderr();
  ASSERT_OK(ingest({Msg(0), Msg(1), Msg(2), Msg(3), Msg(4), Msg(5)}));
  // Then one message per ingest: 19 refreshes that each read only the new
  // document. m12 (a reply to m11) comes before m11: m11 resolves an older
  // document's reply_to, which only a full rebuild gets right.
  for (int i = 6; i < 25; ++i) ASSERT_OK(ingest({Msg(i == 11 ? 12 : i == 12 ? 11 : i)}));
  EXPECT_EQ(live->documents(), 25u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  // The first ingest into the empty index and the late parent rebuild in full; the rest are spliced.
  EXPECT_EQ(count("snapshot: delta refresh"), 20u) << log;
  EXPECT_GE(count("extended build"), 17u) << log;
  EXPECT_EQ(count("reply_to"), 1u) << log;

  BackendOptions read_only;
  read_only.connect_cache = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> fresh, Backend::Open(dir.Sub("db"), read_only));
  EXPECT_EQ(fresh->documents(), live->documents());
  EXPECT_EQ(fresh->persons(), live->persons());
  Caller public_only;
  public_only.groups = {"public"};
  for (const char* text : {"build cache", "temperature", "linker", "espresso grind", "eviction"}) {
    const std::vector<std::string> want = Experts(fresh.get(), text, Caller{});
    EXPECT_FALSE(want.empty()) << text;
    EXPECT_EQ(Experts(live.get(), text, Caller{}), want) << text;
    EXPECT_EQ(Experts(live.get(), text, public_only), Experts(fresh.get(), text, public_only)) << text;
  }
  for (int p = 0; p < 11; ++p) {
    const std::string id = absl::StrFormat("mail:p%d@example.org", p);
    EXPECT_EQ(Connections(live.get(), id), Connections(fresh.get(), id)) << id;
  }

  // Erase is a full refresh: the person is gone from the next answer.
  const std::vector<std::string> before = Experts(live.get(), "build cache", Caller{});
  ASSERT_FALSE(before.empty());
  const std::string top = before.front().substr(0, before.front().find(' '));
  ASSERT_OK(live->Erase(top).status());
  for (const std::string& e : Experts(live.get(), "build cache", Caller{})) EXPECT_NE(e.rfind(top + " ", 0), 0u) << e;
  int next = 25;
  while (Msg(next).author_key == top) ++next;  // a later message by someone else
  ASSERT_OK(ingest({Msg(next)}));
  for (const std::string& e : Experts(live.get(), "build cache", Caller{})) EXPECT_NE(e.rfind(top + " ", 0), 0u) << e;
  // Extended again after the full rebuild of the erase: still a fresh server's answers.
  for (int i = next + 1; i < next + 6; ++i) ASSERT_OK(ingest({Msg(i)}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> fresh2, Backend::Open(dir.Sub("db"), read_only));
  EXPECT_EQ(fresh2->documents(), live->documents());
  for (const char* text : {"build cache", "temperature", "linker", "espresso grind", "eviction"}) {
    EXPECT_EQ(Experts(live.get(), text, Caller{}), Experts(fresh2.get(), text, Caller{})) << text;
    EXPECT_EQ(Experts(live.get(), text, public_only), Experts(fresh2.get(), text, public_only)) << text;
  }
  for (int p = 0; p < 11; ++p) {
    const std::string id = absl::StrFormat("mail:p%d@example.org", p);
    if (id == top) continue;  // erased
    EXPECT_EQ(Connections(live.get(), id), Connections(fresh2.get(), id)) << id;
  }
}

}  // namespace
}  // namespace whoknows::service
