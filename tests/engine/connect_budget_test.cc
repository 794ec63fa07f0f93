// SuggestConnections' push budget (ConnectOptions::ppr.r_max, `serve
// --connect-r-max`) on real data (the houstondatavis Slack workspace): every
// budget bounds the work of the personalized PageRank (ACL: each push moves
// >= alpha * r_max of the unit mass, so pushes <= 1 / (alpha * r_max)), a
// 10x larger r_max does less work, and the backend option reaches the engine
// (its answers equal the engine's at that budget, not the default's).

#include <algorithm>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/service/backend.h"

namespace whoknows::engine {
namespace {

using whoknows::testing::TempDir;

TEST(ConnectBudgetTest, BudgetBoundsTheWorkAndTheServeOptionReachesTheEngine) {
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

  const ConnectOptions def;  // the default budget
  ConnectOptions coarse;
  coarse.ppr.r_max = def.ppr.r_max * 10;
  size_t differ = 0;
  service::BackendOptions bo;
  bo.connect_cache = false;
  bo.connect_r_max = coarse.ppr.r_max;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<service::Backend> backend, service::Backend::Open(dir.Sub("db"), bo));
  for (uint32_t p : people) {
    const std::string& id = s.person(p).id;
    const Seed seed{s.PersonVertex(p), 1.0};
    PprWorkspace ws_def, ws_coarse;
    ASSERT_OK(ForwardPush(s.graph(), std::span<const Seed>(&seed, 1), def.ppr, &ws_def));
    ASSERT_OK(ForwardPush(s.graph(), std::span<const Seed>(&seed, 1), coarse.ppr, &ws_coarse));
    EXPECT_LE(static_cast<double>(ws_def.pushes), 1.0 / (def.ppr.alpha * def.ppr.r_max)) << id;
    EXPECT_LE(static_cast<double>(ws_coarse.pushes), 1.0 / (coarse.ppr.alpha * coarse.ppr.r_max)) << id;
    EXPECT_LT(ws_coarse.pushes, ws_def.pushes) << id;

    ASSERT_OK_AND_ASSIGN(std::vector<Connection> at_coarse, SuggestConnections(s, id, {}, coarse));
    ASSERT_OK_AND_ASSIGN(std::vector<Connection> at_def, SuggestConnections(s, id, {}, def));
    service::ConnectQuery q;
    q.person = id;
    ASSERT_OK_AND_ASSIGN(std::vector<service::ConnectionResult> served, backend->SuggestConnections(q, service::Caller{}));
    ASSERT_EQ(served.size(), at_coarse.size()) << id;
    bool same_as_def = served.size() == at_def.size();
    for (size_t i = 0; i < served.size(); ++i) {
      EXPECT_EQ(served[i].person_id, at_coarse[i].id) << id << " rank " << i;
      EXPECT_EQ(served[i].score, at_coarse[i].score) << id << " rank " << i;
      same_as_def = same_as_def && served[i].score == at_def[i].score;
    }
    differ += same_as_def ? 0 : 1;
  }
  EXPECT_GT(differ, 0u);  // the two budgets do give different answers: the option is not a no-op
}

}  // namespace
}  // namespace whoknows::engine
