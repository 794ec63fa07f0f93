// Talent network: bus factor with known answers, topics at risk, opt-out and
// visibility, and the GraphML export read back by networkx (fixture and a
// year of r-devel through a real index).
#include "whoknows/network/network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "../engine/fixtures.h"
#include "../indexer/test_util.h"
#include "absl/strings/str_format.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/service/backend.h"

namespace whoknows::network {
namespace {

using engine::testing::Corpus;
using engine::testing::kDay;
using engine::testing::kT0;
using indexer::RecordKind;
using ::testing::Contains;
using ::testing::Not;

std::shared_ptr<const engine::Snapshot> Build(const Corpus& c) {
  auto s = engine::BuildSnapshot(c.docs, c.persons);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : nullptr;
}

// Topic "solo": only ann answers. Topic "team": every question answered by
// bob, cat and dan. Topic "pair": half by eve, half by fay. Carl asks.
Corpus TeamCorpus() {
  Corpus c;
  for (const char* p : {"ann", "bob", "cat", "dan", "eve", "fay", "carl", "opt", "hid"}) c.Person(p, std::string(p) + " name");
  c.persons.back().opted_out = false;
  c.persons[7].opted_out = true;  // "opt"
  int64_t t = kT0;
  for (int i = 0; i < 4; ++i) {
    std::string q = absl::StrFormat("solo-q%d", i);
    c.Question(q, "carl", t += kDay, {"solo"});
    c.Answer(q + "-a", q, "ann", t += kDay);
  }
  for (int i = 0; i < 4; ++i) {
    std::string q = absl::StrFormat("team-q%d", i);
    c.Question(q, "carl", t += kDay, {"team"});
    for (const char* who : {"bob", "cat", "dan"}) c.Answer(q + "-" + who, q, who, t += kDay);
  }
  for (int i = 0; i < 4; ++i) {
    std::string q = absl::StrFormat("pair-q%d", i);
    c.Question(q, "carl", t += kDay, {"pair"});
    c.Answer(q + "-a", q, i % 2 ? "eve" : "fay", t += kDay);
  }
  // The opted-out person answers in "team" and talks with bob.
  c.Question("team-q9", "opt", t += kDay, {"team"});
  c.Answer("team-q9-a", "team-q9", "bob", t += kDay);
  c.Answer("team-q0-opt", "team-q0", "opt", t += kDay);
  // "hid" only in internal documents, answering ann.
  c.Question("secret-q", "ann", t += kDay, {"secret"}, "internal");
  c.Answer("secret-a", "secret-q", "hid", t += kDay, false, "internal");
  return c;
}

const TopicCoverage* Find(const CoverageReport& r, const std::string& topic) {
  for (const TopicCoverage& t : r.topics) {
    if (t.topic == topic) return &t;
  }
  return nullptr;
}

TEST(TruckFactorTest, KnownAnswers) {
  // One holder of everything.
  EXPECT_EQ(TruckFactor({{0}, {0}, {0}}, 1, 0.5).value, 1u);
  // Two disjoint halves plus one shared unit: 5 units, > 2.5 orphaned needs 3:
  // {0, 1} orphans u0, u1, u2, u3 (4).
  BusFactor b = TruckFactor({{0}, {0}, {1}, {0, 1}, {2}}, 3, 0.5);
  EXPECT_EQ(b.value, 2u);
  EXPECT_TRUE(b.exact);
  // Greedy removes holder 0 first (4 shared units, orphans nothing), then 5, 6
  // and one of 1..4: 4 people. The exhaustive search proves {5, 6, 7} (3) minimal.
  //   u0 {0,1} u1 {0,2} u2 {0,3} u3 {0,4} u4 {5} u5 {5} u6 {6} u7 {6} u8 {7}: > 4.5 orphaned needed.
  BusFactor g = TruckFactor({{0, 1}, {0, 2}, {0, 3}, {0, 4}, {5}, {5}, {6}, {6}, {7}}, 8, 0.5);
  EXPECT_EQ(g.value, 3u);
  EXPECT_TRUE(g.exact);
  EXPECT_EQ(g.people, (std::vector<uint32_t>{5, 6, 7}));
  // Already lost: most units have no active holder.
  EXPECT_EQ(TruckFactor({{}, {}, {0}}, 1, 0.5).value, 0u);
}

TEST(CoverageTest, BusFactorPerTopicAndOnePersonTopicFlagged) {
  Corpus c = TeamCorpus();
  auto s = Build(c);
  NetworkOptions o;
  o.group_mask = s->GroupMask(std::vector<std::string>{"public"});
  ASSERT_OK_AND_ASSIGN(CoverageReport r, ComputeCoverage(*s, o));
  const TopicCoverage* solo = Find(r, "solo");
  const TopicCoverage* team = Find(r, "team");
  const TopicCoverage* pair = Find(r, "pair");
  ASSERT_NE(solo, nullptr);
  ASSERT_NE(team, nullptr);
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(solo->bus_factor, 1u);
  EXPECT_TRUE(solo->at_risk);
  EXPECT_EQ(solo->bus_factor_people, std::vector<std::string>{"ann name"});
  EXPECT_THAT(r.at_risk, Contains("solo"));
  // Four team threads answered by bob, cat and dan (+ one answered by bob
  // alone): orphaning > 2.5 of 5 units needs all three.
  EXPECT_EQ(team->bus_factor, 3u);
  EXPECT_FALSE(team->at_risk);
  EXPECT_EQ(pair->bus_factor, 2u);  // 2 of 4 units is not more than half: both must go
  EXPECT_TRUE(pair->at_risk);
  ASSERT_FALSE(solo->experts.empty());
  EXPECT_EQ(solo->experts[0].name, "ann name");
  uint32_t quarter_docs = 0;
  for (const QuarterCount& q : solo->trend) quarter_docs += q.docs;
  EXPECT_EQ(quarter_docs, solo->docs);
}

TEST(CoverageTest, PeopleWhoLeftAreNotExperts) {
  Corpus c = TeamCorpus();
  // Much later, only ann keeps working: everyone else left (> 6 months).
  c.Question("late-q", "ann", kT0 + 400 * kDay, {"solo"});
  auto s = Build(c);
  NetworkOptions o;
  ASSERT_OK_AND_ASSIGN(CoverageReport r, ComputeCoverage(*s, o));
  const TopicCoverage* team = Find(r, "team");
  ASSERT_NE(team, nullptr);
  EXPECT_TRUE(team->experts.empty());
  std::set<std::string> left;
  for (const ExpertEntry& e : team->left) left.insert(e.name);
  EXPECT_TRUE(left.count("bob name") && left.count("cat name") && left.count("dan name"));
  EXPECT_EQ(team->bus_factor, 0u);  // its knowledge already has no active holder
}

TEST(NetworkTest, OptedOutAndHiddenPeopleNeverAppear) {
  Corpus c = TeamCorpus();
  auto s = Build(c);
  for (bool all : {false, true}) {
    NetworkOptions o;
    o.include_graph = true;
    o.min_group_size = 1;
    o.group_mask = all ? engine::kAllGroups : s->GroupMask(std::vector<std::string>{"public"});
    ASSERT_OK_AND_ASSIGN(NetworkReport r, ComputeNetwork(*s, o));
    ASSERT_OK_AND_ASSIGN(CoverageReport cov, ComputeCoverage(*s, o));
    std::set<std::string> ids;
    for (const Node& n : r.nodes) ids.insert(n.id);
    for (const auto* list : {&r.brokers, &r.influencers}) {
      for (const PersonScore& p : *list) ids.insert(p.person_id);
    }
    for (const Community& cm : r.communities) {
      for (const CommunityMember& m : cm.members) ids.insert(m.person_id);
    }
    for (const TopicCoverage& t : cov.topics) {
      for (const auto* list : {&t.experts, &t.left}) {
        for (const ExpertEntry& e : *list) ids.insert(e.person_id);
      }
      EXPECT_THAT(t.bus_factor_people, Not(Contains("opt name")));
    }
    EXPECT_FALSE(ids.count("opt")) << "opted-out person appears";
    EXPECT_EQ(ids.count("hid") > 0, all) << "internal-only person with all=" << all;
    EXPECT_EQ(ids.count("topic:secret") > 0, all);
    EXPECT_TRUE(ids.count("ann") && ids.count("bob"));
    // Every contact edge is justified: with the public mask, ann has no contact with hid.
    const std::string graphml = ToGraphML(r);
    EXPECT_EQ(graphml.find("opt name"), std::string::npos);
    EXPECT_EQ(graphml.find("hid name") != std::string::npos, all);
  }
}

TEST(NetworkTest, CommunitiesBrokersAndSuppression) {
  // Two cliques joined by one bridge person "br".
  Corpus c;
  int64_t t = kT0;
  auto clique = [&](const std::vector<std::string>& people, const std::string& topic) {
    for (const std::string& a : people) {
      std::string q = "q-" + a + topic;
      c.Question(q, a, t += kDay, {topic});
      for (const std::string& b : people) {
        if (b != a) c.Answer(q + "-" + b, q, b, t += kDay);
      }
    }
  };
  clique({"a1", "a2", "a3", "a4", "br"}, "alpha");
  clique({"b1", "b2", "b3", "b4", "br"}, "beta");
  c.Question("lone-q", "x1", t += kDay, {"gamma"});
  c.Answer("lone-a", "lone-q", "x2", t += kDay);
  auto s = Build(c);
  NetworkOptions o;
  o.min_group_size = 3;
  ASSERT_OK_AND_ASSIGN(NetworkReport r, ComputeNetwork(*s, o));
  ASSERT_EQ(r.communities.size(), 2u);
  EXPECT_EQ(r.suppressed_communities, 1u);  // x1, x2
  EXPECT_EQ(r.suppressed_people, 2u);
  EXPECT_GT(r.modularity, 0.3);
  ASSERT_FALSE(r.brokers.empty());
  EXPECT_EQ(r.brokers[0].person_id, "br");
  EXPECT_EQ(r.brokers[0].communities_bridged.size(), 2u);
  for (const Community& cm : r.communities) {
    for (const CommunityMember& m : cm.members) EXPECT_NE(m.person_id, "x1");
  }
  // Sampled betweenness with every vertex as pivot equals the exact one.
  SimpleGraph g;
  g.n = 6;
  g.edges = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {1, 4}};
  std::vector<double> exact = ExactBetweenness(g);
  double err = -1;
  std::vector<double> sampled = SampledBetweenness(g, 6, 0.1, 1, 2, &err);
  EXPECT_EQ(err, 0.0);
  for (uint32_t v = 0; v < g.n; ++v) EXPECT_NEAR(sampled[v], exact[v], 1e-9);
  EXPECT_GT(exact[1], exact[0]);
}

// Node and edge counts of a GraphML file as networkx reads them.
std::pair<long, long> NetworkxCounts(const std::string& path) {
  const std::string cmd = absl::StrFormat(
      "/usr/bin/python3 -c \"import networkx as nx; g = nx.read_graphml('%s'); "
      "print(g.number_of_nodes(), g.number_of_edges())\"",
      path);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, -1};
  long n = -1, e = -1;
  if (std::fscanf(p, "%ld %ld", &n, &e) != 2) n = e = -1;
  pclose(p);
  return {n, e};
}

bool HaveNetworkx() { return std::system("/usr/bin/python3 -c 'import networkx' 2>/dev/null") == 0; }

// Counts from the snapshot alone: persons with a visible doc (not opted out),
// topics with one, contact pairs and person-topic pairs.
std::pair<size_t, size_t> SnapshotCounts(const engine::Snapshot& s) {
  std::set<uint32_t> persons, topics;
  std::set<std::pair<uint32_t, uint32_t>> contacts, expertise;
  for (uint32_t d = 0; d < s.num_docs(); ++d) {
    const engine::DocInfo& di = s.doc(d);
    if (di.author == engine::kNone || s.person(di.author).opted_out || !s.DocVisible(d, engine::kAllGroups)) continue;
    persons.insert(di.author);
    for (uint32_t t : s.DocTopics(d)) {
      topics.insert(t);
      expertise.insert({di.author, t});
    }
    uint32_t other = di.parent;
    auto ok = [&](uint32_t x) {
      return x != engine::kNone && s.doc(x).author != engine::kNone && !s.person(s.doc(x).author).opted_out &&
             s.DocVisible(x, engine::kAllGroups);
    };
    if (!ok(other)) {
      other = s.ThreadRoot(di.thread);
      if (other == d || !ok(other)) continue;
    }
    const uint32_t b = s.doc(other).author;
    if (b != di.author) contacts.insert({std::min(b, di.author), std::max(b, di.author)});
  }
  return {persons.size() + topics.size(), contacts.size() + expertise.size()};
}

TEST(ExportTest, NetworkxReadsGraphMLOfFixture) {
  if (!HaveNetworkx()) GTEST_SKIP() << "python3-networkx missing";
  Corpus c = TeamCorpus();
  auto s = Build(c);
  NetworkOptions o;
  o.include_graph = true;
  ASSERT_OK_AND_ASSIGN(NetworkReport r, ComputeNetwork(*s, o));
  whoknows::testing::TempDir dir;
  const std::string path = dir.Sub("fixture.graphml");
  std::ofstream(path) << ToGraphML(r);
  const auto [nodes, edges] = SnapshotCounts(*s);
  const auto [nx_nodes, nx_edges] = NetworkxCounts(path);
  EXPECT_EQ(static_cast<size_t>(nx_nodes), nodes);
  EXPECT_EQ(static_cast<size_t>(nx_edges), edges);
  EXPECT_EQ(r.nodes.size(), nodes);
  // GEXF and SVG are well-formed enough for their readers.
  EXPECT_NE(ToGexf(r).find("</gexf>"), std::string::npos);
  EXPECT_NE(CommunityMapSvg(r).find("</svg>"), std::string::npos);
}

TEST(ExportTest, RealDataNetworkxReadsGraphMLOfRdevelYear) {
  const std::string mbox = std::string(WK_SHARED_DATA_DIR) + "/mbox/r-devel/r-devel-2021.mbox.xz";
  if (!std::filesystem::exists(mbox)) GTEST_SKIP() << "needs ../shared/data";
  if (!HaveNetworkx()) GTEST_SKIP() << "python3-networkx missing";
  whoknows::testing::TempDir dir;
  indexer::PipelineOptions po;
  ASSERT_OK_AND_ASSIGN(indexer::PipelineResult pr, indexer::IndexPaths(dir.Sub("db"), {mbox}, po));
  ASSERT_GT(pr.summary.indexed, 1000u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<service::Backend> backend, service::Backend::Open(dir.Sub("db"), {}));
  NetworkOptions o;
  o.include_graph = true;
  ASSERT_OK_AND_ASSIGN(NetworkReport r, backend->GetTalentNetwork(o, service::Caller{}));
  const std::string path = dir.Sub("rdevel.graphml");
  std::ofstream(path) << ToGraphML(r);
  const auto [nx_nodes, nx_edges] = NetworkxCounts(path);
  EXPECT_EQ(static_cast<size_t>(nx_nodes), r.nodes.size());
  EXPECT_EQ(static_cast<size_t>(nx_edges), r.edges.size());
  // Person nodes = the snapshot's persons with a document.
  size_t person_nodes = 0;
  for (const Node& n : r.nodes) person_nodes += n.kind == "person";
  EXPECT_EQ(person_nodes, r.persons);
  EXPECT_GT(r.persons, 100u);
  EXPECT_GT(r.contact_edges, 100u);
}

}  // namespace
}  // namespace whoknows::network
