// SuggestConnections' push budget (ConnectOptions::ppr.r_max) on real data (the
// houstondatavis Slack workspace): the default budget bounds the work of the
// personalized PageRank (ACL: every push moves >= alpha * r_max of the unit mass, so
// pushes <= 1 / (alpha * r_max)) and cuts work against a 100x larger budget,
// and what it returns is what a 100x larger budget returns at the top.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"

namespace whoknows::engine {
namespace {

using whoknows::testing::TempDir;

TEST(ConnectBudgetTest, DefaultBudgetBoundsTheWorkAndKeepsTheTop) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(indexer::PipelineResult r,
                       indexer::IndexPaths(dir.Sub("db"), {std::string(WK_SHARED_DATA_DIR) + "/slack/houstondatavis"},
                                           indexer::PipelineOptions{}));
  ASSERT_TRUE(r.failed_paths.empty());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(dir.Sub("db")));
  std::vector<indexer::StoredDoc> docs;
  ASSERT_OK(reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::Person> persons, reader->ListPersons());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, BuildSnapshot(docs, persons));
  const Snapshot& s = *snap;

  // The most active people: their pushes reach the most of the graph.
  std::vector<uint32_t> people(s.num_persons());
  for (uint32_t p = 0; p < s.num_persons(); ++p) people[p] = p;
  std::sort(people.begin(), people.end(), [&](uint32_t a, uint32_t b) {
    return s.PersonDocs(a).size() > s.PersonDocs(b).size() || (s.PersonDocs(a).size() == s.PersonDocs(b).size() && a < b);
  });
  people.resize(std::min<size_t>(people.size(), 8));
  ASSERT_GE(people.size(), 5u);

  const ConnectOptions budget;  // the default
  ConnectOptions exact;
  exact.ppr.r_max = budget.ppr.r_max / 100;
  size_t top_kept = 0, top_total = 0;
  for (uint32_t p : people) {
    const std::string& id = s.person(p).id;
    // Work bound of the default budget.
    PprWorkspace ws;
    PprOptions po = budget.ppr;
    const Seed seed{s.PersonVertex(p), 1.0};
    ASSERT_OK(ForwardPush(s.graph(), std::span<const Seed>(&seed, 1), po, &ws));
    PprWorkspace ws_exact;
    PprOptions pe = exact.ppr;
    ASSERT_OK(ForwardPush(s.graph(), std::span<const Seed>(&seed, 1), pe, &ws_exact));
    EXPECT_LT(ws.pushes, ws_exact.pushes) << id;  // the budget does cut work here
    EXPECT_LE(static_cast<double>(ws.pushes), 1.0 / (po.alpha * po.r_max)) << id;

    ASSERT_OK_AND_ASSIGN(std::vector<Connection> got, SuggestConnections(s, id, {}, budget));
    ASSERT_OK_AND_ASSIGN(std::vector<Connection> want, SuggestConnections(s, id, {}, exact));
    ASSERT_FALSE(want.empty()) << id;
    std::set<std::string> want_ids;
    for (const Connection& c : want) want_ids.insert(c.id);
    // The budget's top 5 are among the larger budget's top 10.
    for (size_t i = 0; i < got.size() && i < 5; ++i) {
      ++top_total;
      top_kept += want_ids.count(got[i].id);
    }
  }
  EXPECT_GE(static_cast<double>(top_kept), 0.9 * static_cast<double>(top_total)) << top_kept << "/" << top_total;
}

}  // namespace
}  // namespace whoknows::engine
