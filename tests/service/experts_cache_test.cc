// FindExperts answers are reused until the snapshot changes (BackendOptions::
// experts_cache): the same answer as a backend that never caches; another k,
// page or caller's groups is another answer; someone set away drops out at
// once; an ingest shows at once.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "ingest_fixture.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

using whoknows::testing::TempDir;

indexer::Record Msg(const std::string& id, const std::string& author, const std::string& thread, int64_t t,
                    const std::string& text) {
  return ingest_fixture::ThreadMsg("jsonl:ec", id, author, thread, t, text, "brewing");
}

std::vector<std::string> Ids(const ExpertsAnswer& a) {
  std::vector<std::string> out;
  for (const ExpertResult& e : a.experts) out.push_back(e.person_id);
  return out;
}

void ExpectSame(const ExpertsAnswer& a, const ExpertsAnswer& b, const std::string& what) {
  ASSERT_EQ(Ids(a), Ids(b)) << what;
  EXPECT_EQ(a.has_more, b.has_more) << what;
  EXPECT_EQ(a.documents_matched, b.documents_matched) << what;
  for (size_t i = 0; i < a.experts.size(); ++i) {
    EXPECT_EQ(a.experts[i].score, b.experts[i].score) << what;
    EXPECT_EQ(a.experts[i].reason, b.experts[i].reason) << what;
    ASSERT_EQ(a.experts[i].evidence.size(), b.experts[i].evidence.size()) << what;
    for (size_t j = 0; j < a.experts[i].evidence.size(); ++j) {
      EXPECT_EQ(a.experts[i].evidence[j].id, b.experts[i].evidence[j].id) << what;
      EXPECT_EQ(a.experts[i].evidence[j].snippet, b.experts[i].evidence[j].snippet) << what;
    }
  }
}

bool Has(const ExpertsAnswer& a, const std::string& id) {
  const std::vector<std::string> ids = Ids(a);
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(ExpertsCacheTest, SameAnswerAsUncachedAndFollowsRequestAwayAndIngest) {
  TempDir dir;
  BackendOptions cached;
  cached.writable = true;
  ASSERT_TRUE(cached.experts_cache);  // the default
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> b, Backend::Open(dir.Sub("db"), cached));
  const std::string kWort = "zymurgy wort fermentation temperature";
  ASSERT_OK(b->Ingest({Msg("q1", "quinn", "q1", 1600000000, kWort), Msg("a1", "alice", "q1", 1600000100, kWort),
                       Msg("q2", "quinn", "q2", 1600000200, kWort), Msg("a2", "alice", "q2", 1600000300, kWort),
                       Msg("q3", "quinn", "q3", 1600000400, kWort), Msg("a3", "bob", "q3", 1600000500, kWort),
                       Msg("q4", "quinn", "q4", 1600000600, "unrelated gardening notes"),
                       Msg("a4", "dana", "q4", 1600000700, "unrelated gardening notes")},
                      {})
                .status());
  ExpertsQuery q;
  q.text = "zymurgy fermentation";
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer first, b->FindExperts(q, Caller{}));
  ASSERT_TRUE(Has(first, "mail:alice@example.org"));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer again, b->FindExperts(q, Caller{}));
  ExpectSame(again, first, "the same request");

  // Another k, another page, another caller's groups: other answers, not the cached one.
  ExpertsQuery one = q;
  one.k = 1;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer top, b->FindExperts(one, Caller{}));
  ASSERT_EQ(top.experts.size(), 1u);
  EXPECT_TRUE(top.has_more);
  EXPECT_EQ(top.experts[0].person_id, first.experts[0].person_id);
  ExpertsQuery page2 = one;
  page2.offset = 1;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer second, b->FindExperts(page2, Caller{}));
  ASSERT_EQ(second.experts.size(), 1u);
  EXPECT_EQ(second.experts[0].person_id, first.experts[1].person_id);
  Caller outsider;
  outsider.role = Role::kReader;
  outsider.groups = {"nobody-here"};
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer hidden, b->FindExperts(q, outsider));
  EXPECT_TRUE(hidden.experts.empty());
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer still, b->FindExperts(q, Caller{}));
  ExpectSame(still, first, "after the other requests");

  // Someone set away drops out of the next answer to the same request.
  routing::Availability away;
  away.away_until = absl::ToUnixSeconds(absl::Now()) + 7 * 86400;
  ASSERT_OK(b->SetAvailability("mail:alice@example.org", away, Caller{}));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer without_alice, b->FindExperts(q, Caller{}));
  EXPECT_FALSE(Has(without_alice, "mail:alice@example.org"));
  EXPECT_TRUE(Has(without_alice, "mail:bob@example.org"));
  ASSERT_OK(b->SetAvailability("mail:alice@example.org", routing::Availability{}, Caller{}));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer back, b->FindExperts(q, Caller{}));
  EXPECT_TRUE(Has(back, "mail:alice@example.org"));

  // An ingest: a new person who answers the question is in the next answer.
  ASSERT_OK(b->Ingest({Msg("q5", "quinn", "q5", 1600000800, kWort), Msg("a5", "erin", "q5", 1600000900, kWort)}, {})
                .status());
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer after, b->FindExperts(q, Caller{}));
  EXPECT_TRUE(Has(after, "mail:erin@example.org"));

  // And equal to a backend that never caches, on the same index.
  b.reset();
  BackendOptions uncached;
  uncached.experts_cache = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> u, Backend::Open(dir.Sub("db"), uncached));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer fresh, u->FindExperts(q, Caller{}));
  ExpectSame(fresh, after, "cached vs uncached backend");
}

}  // namespace
}  // namespace whoknows::service
