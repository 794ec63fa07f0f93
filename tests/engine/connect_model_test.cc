#include "whoknows/engine/connect_model.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/connect.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;
using testing::Corpus;
using testing::kDay;
using testing::kT0;

// Replies (each a new thread root by `to`, answered by `from`): reply pairs only.
void Reply(Corpus* c, const std::string& from, const std::string& to, int64_t ts) {
  const std::string root = absl::StrCat("r", c->docs.size() + 1);
  c->Add(RecordKind::kMail, root, to, ts, root, "", {"t-" + to});
  c->Add(RecordKind::kMail, root + "-re", from, ts + 60, root, root, {"t-" + to});
}

double Score(const std::vector<std::pair<uint32_t, double>>& r, uint32_t p) {
  for (const auto& [q, v] : r) {
    if (q == p) return v;
  }
  return -1;
}

// a-b, a-c, b-d, c-d, d-e before T; e-f at T + 10 days.
class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reply(&c_, "a", "b", kT0);
    Reply(&c_, "a", "c", kT0 + kDay);
    Reply(&c_, "d", "b", kT0 + 2 * kDay);
    Reply(&c_, "c", "d", kT0 + 3 * kDay);
    Reply(&c_, "e", "d", kT0 + 4 * kDay);
    Reply(&c_, "f", "e", kT0 + 20 * kDay);
    ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
    graph_ = InteractionGraph::Build(*snap_);
  }
  uint32_t P(const std::string& id) { return snap_->FindPerson(id); }
  Corpus c_;
  std::shared_ptr<const Snapshot> snap_;
  std::shared_ptr<const InteractionGraph> graph_;
};

TEST_F(LinkTest, ScoresAtDistanceTwoByHand) {
  const int64_t t = kT0 + 10 * kDay;
  // a's only distance-two person is d, via b (degree 2) and c (degree 2).
  auto cn = PredictLinks(*snap_, *graph_, P("a"), LinkMethod::kCommonNeighbours, kAllGroups, t, {});
  ASSERT_EQ(cn.size(), 1u);
  EXPECT_EQ(cn[0].first, P("d"));
  EXPECT_DOUBLE_EQ(cn[0].second, 2);
  auto aa = PredictLinks(*snap_, *graph_, P("a"), LinkMethod::kAdamicAdar, kAllGroups, t, {});
  EXPECT_NEAR(Score(aa, P("d")), 2 / std::log(2.0), 1e-12);
  auto ra = PredictLinks(*snap_, *graph_, P("a"), LinkMethod::kResourceAllocation, kAllGroups, t, {});
  EXPECT_NEAR(Score(ra, P("d")), 1.0, 1e-12);
  // N(a) = {b, c}, N(d) = {b, c, e}: 2 / 3.
  auto jc = PredictLinks(*snap_, *graph_, P("a"), LinkMethod::kJaccard, kAllGroups, t, {});
  EXPECT_NEAR(Score(jc, P("d")), 2.0 / 3, 1e-12);
  // d: a (via b, c; AA 2/ln 2) before nobody else; e's neighbour f replies only after t.
  auto d_aa = PredictLinks(*snap_, *graph_, P("d"), LinkMethod::kAdamicAdar, kAllGroups, t, {});
  ASSERT_EQ(d_aa.size(), 1u);
  EXPECT_EQ(d_aa[0].first, P("a"));
  // With everything (as_of 0), f is at distance two from d via e (degree 2): 1 / ln 2.
  auto d_all = PredictLinks(*snap_, *graph_, P("d"), LinkMethod::kAdamicAdar, kAllGroups, 0, {});
  EXPECT_NEAR(Score(d_all, P("f")), 1 / std::log(2.0), 1e-12);
  EXPECT_NEAR(Score(d_all, P("a")), 2 / std::log(2.0), 1e-12);
  EXPECT_EQ(d_all[0].first, P("a"));
  // Blocked people are never returned.
  std::vector<uint8_t> blocked(snap_->num_persons(), 0);
  blocked[P("a")] = 1;
  auto d_blocked = PredictLinks(*snap_, *graph_, P("d"), LinkMethod::kAdamicAdar, kAllGroups, 0, blocked);
  EXPECT_EQ(Score(d_blocked, P("a")), -1);
}

TEST_F(LinkTest, InteractionTimes) {
  for (const auto& e : graph_->Row(P("e"))) {
    if (e.to == P("f")) {
      EXPECT_EQ(e.first_reply, kT0 + 20 * kDay + 60);
      EXPECT_EQ(e.first_contact, kT0 + 20 * kDay + 60);  // the thread is shared once both posted
    }
  }
  ConnectFeatureOptions fo;
  fo.as_of = kT0 + 10 * kDay;
  ConnectFeaturizer f(*snap_, *graph_, fo);
  EXPECT_FALSE(f.ActiveAsOf(P("f")));  // f's first doc is after as_of
  EXPECT_EQ(f.ContactsAsOf(P("e")), std::vector<uint32_t>{P("d")});
}

// History labels come only from interactions before `end`, and every group is ranked as of its own time.
TEST_F(LinkTest, HistoryUsesOnlyInteractionsBeforeEnd) {
  // Late: a replies to e after d-e; before `end` only a-d style pairs can be labels.
  Reply(&c_, "a", "e", kT0 + 30 * kDay);
  Reply(&c_, "b", "c", kT0 + 40 * kDay);
  ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
  graph_ = InteractionGraph::Build(*snap_);
  ConnectTrainOptions o;
  o.history_fractions = {0.8};  // as of f-e's thread (kT0 + 20 days): a and e are active
  const int64_t end = kT0 + 35 * kDay;  // a-e is before it, b-c after it
  const std::vector<ConnectHistoryGroup> groups = ConnectHistory(*snap_, *graph_, end, o);
  ASSERT_FALSE(groups.empty());
  bool a_e = false;
  for (const ConnectHistoryGroup& g : groups) {
    EXPECT_LT(g.as_of, end);
    for (uint32_t t : g.truth) {
      const std::string x = snap_->person(g.person).id, y = snap_->person(t).id;
      EXPECT_FALSE((x == "b" && y == "c") || (x == "c" && y == "b")) << "a label from after end";
      a_e |= x == "a" && y == "e";
      // Not a contact as of the group's time.
      for (const auto& e : graph_->Row(g.person)) {
        if (e.to == t) {
          EXPECT_GE(e.first_contact, g.as_of);
          EXPECT_LT(e.first_reply, end);
        }
      }
    }
    EXPECT_EQ(g.candidates.size(), g.relevant.size());
  }
  EXPECT_TRUE(a_e);
  // With end after everything, b-c becomes a label too.
  bool b_c = false;
  for (const ConnectHistoryGroup& g : ConnectHistory(*snap_, *graph_, kT0 + 100 * kDay, o)) {
    for (uint32_t t : g.truth) b_c |= snap_->person(g.person).id == "b" && snap_->person(t).id == "c";
  }
  EXPECT_TRUE(b_c);
}

// A growing community with triadic closure: people reply to friends of friends.
Corpus Growing(int people, int events, uint32_t seed) {
  Corpus c;
  std::mt19937 rng(seed);
  std::vector<std::vector<int>> nbr(static_cast<size_t>(people));
  auto name = [](int i) { return absl::StrCat("p", i); };
  for (int i = 1; i < 4; ++i) {
    Reply(&c, name(i), name(0), kT0 + i * kDay);
    nbr[0].push_back(i);
    nbr[static_cast<size_t>(i)].push_back(0);
  }
  int active = 4;
  for (int k = 0; k < events; ++k) {
    const int64_t t = kT0 + (10 + k) * kDay;
    int a, b;
    if (active < people && rng() % 4 == 0) {
      a = active++;
      b = static_cast<int>(rng() % static_cast<uint32_t>(a));
    } else {
      a = static_cast<int>(rng() % static_cast<uint32_t>(active));
      const auto& na = nbr[static_cast<size_t>(a)];
      if (na.empty()) continue;
      const int z = na[rng() % na.size()];
      const auto& nz = nbr[static_cast<size_t>(z)];
      b = nz[rng() % nz.size()];
      if (b == a) continue;
    }
    Reply(&c, name(a), name(b), t);
    nbr[static_cast<size_t>(a)].push_back(b);
    nbr[static_cast<size_t>(b)].push_back(a);
  }
  return c;
}

TEST(ConnectModelTest, TrainsFromHistoryElseFallsBack) {
  Corpus c = Growing(60, 400, 7);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, BuildSnapshot(c.docs, c.persons));
  std::shared_ptr<const InteractionGraph> g = InteractionGraph::Build(*snap);
  ConnectTrainOptions o;
  o.train.min_groups = 10;
  o.train.rounds = 30;
  const std::vector<ConnectHistoryGroup> groups = ConnectHistory(*snap, *g, snap->max_timestamp() + 1, o);
  size_t useful = 0;
  for (const auto& grp : groups) useful += std::count(grp.relevant.begin(), grp.relevant.end(), 1) > 0;
  ASSERT_GE(useful, 10u);

  // Too little history: FailedPrecondition, and SuggestConnections keeps the hand-tuned PPR.
  ConnectTrainOptions strict = o;
  strict.train.min_groups = useful + 1;
  auto none = ConnectModel::Train(groups, strict);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  ConnectOptions co;
  ASSERT_OK_AND_ASSIGN(std::vector<Connection> hand, SuggestConnections(*snap, "p0", {}, co));
  ASSERT_FALSE(hand.empty());
  EXPECT_EQ(hand[0].components[0].first, "ppr");

  // Enough: a model, used by SuggestConnections with every feature shown per suggestion.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const ConnectModel> model, ConnectModel::Train(groups, o));
  EXPECT_EQ(model->train_groups(), useful);
  co.model = model;
  co.interactions = g;
  ASSERT_OK_AND_ASSIGN(std::vector<Connection> learned, SuggestConnections(*snap, "p0", {}, co));
  ASSERT_FALSE(learned.empty());
  EXPECT_EQ(learned[0].components[0].first, "model");
  EXPECT_EQ(learned[0].components.size(), 2 + kNumConnectFeatures);
  EXPECT_FALSE(learned[0].reason.empty());
  const std::vector<uint32_t> contacts = ContactsOf(*snap, snap->FindPerson("p0"), kAllGroups);
  for (const Connection& x : learned) {
    EXPECT_FALSE(std::binary_search(contacts.begin(), contacts.end(), x.person)) << x.id;
    EXPECT_NE(x.id, "p0");
  }
  // Scores are best first.
  for (size_t i = 1; i < learned.size(); ++i) EXPECT_GE(learned[i - 1].score, learned[i].score);

  // The serialised model predicts the same.
  ASSERT_OK_AND_ASSIGN(std::string bytes, model->ToBytes());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const ConnectModel> loaded, ConnectModel::FromBytes(bytes));
  ASSERT_OK_AND_ASSIGN(std::vector<float> p1, model->Predict(groups[0].candidates));
  ASSERT_OK_AND_ASSIGN(std::vector<float> p2, loaded->Predict(groups[0].candidates));
  EXPECT_EQ(p1, p2);
  EXPECT_EQ(loaded->train_groups(), model->train_groups());
  EXPECT_EQ(ConnectModel::FromBytes("not a model").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConnectModel::FromBytes("whoknows-connect-model 1 features=3\n{}").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Without an explicit as_of (serving), recency goes by each community's own
// clock and the recently active candidates come from the person's own
// communities: in an index holding a 2016 chat archive and a live list, the
// archive's people are neither ten years idle nor offered the list's busiest.
TEST(ConnectFeaturizerTest, RecentCandidatesComeFromThePersonsCommunitiesByTheirClock) {
  Corpus c;
  const int64_t ten_years = 10 * 365 * kDay;
  // The archive: "me" replied to "a1"; "a2" and "a3" are active there too, unconnected to me.
  auto add = [&](const std::string& id, const std::string& who, int64_t ts, const std::string& thread,
                 const std::string& reply_to, const std::string& community) {
    c.Add(RecordKind::kChat, id, who, ts, thread, reply_to, {}, "public", false, {}, community);
  };
  add("x1", "a1", kT0, "x1", "", "archive");
  add("x1r", "me", kT0 + 60, "x1", "x1", "archive");
  for (int i = 0; i < 3; ++i) {
    add(absl::StrCat("x2-", i), "a2", kT0 + (i + 1) * kDay, absl::StrCat("x2-", i), "", "archive");
  }
  add("x3", "a3", kT0 + 5 * kDay, "x3", "", "archive");
  // The live list, ten years later: "busy" wrote 20 threads.
  for (int i = 0; i < 20; ++i) {
    add(absl::StrCat("l", i), "busy", kT0 + ten_years + i * kDay, absl::StrCat("l", i), "", "list");
  }
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  auto graph = InteractionGraph::Build(*snap);
  auto P = [&](const std::string& id) { return snap->FindPerson(id); };
  const size_t idle = static_cast<size_t>(
      std::find(ConnectFeatureNames().begin(), ConnectFeatureNames().end(), std::string_view("idle_days")) -
      ConnectFeatureNames().begin());
  ASSERT_LT(idle, ConnectFeatureNames().size());
  ConnectFeatureOptions fo;
  fo.max_recent_candidates = 2;
  fo.max_link_candidates = 0;
  fo.max_ppr_candidates = 0;
  ConnectFeaturizer f(*snap, *graph, fo);
  std::vector<uint32_t> got;
  for (const ConnectCandidate& x : f.Candidates(P("me"))) {
    got.push_back(x.person);
    if (x.person == P("a2")) EXPECT_LT(x.x[idle], std::log1p(5.0));  // a2 was active 2 days before the archive ends
  }
  std::sort(got.begin(), got.end());
  std::vector<uint32_t> want = {P("a2"), P("a3")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // never "busy", and a1 is a contact already

  // As of an explicit time (eval, training), one clock for all: the list's busiest is the most recent.
  fo.as_of = kT0 + ten_years + 30 * kDay;
  ConnectFeaturizer at(*snap, *graph, fo);
  bool busy = false;
  for (const ConnectCandidate& x : at.Candidates(P("me"))) {
    busy |= x.person == P("busy");
    if (x.person == P("a2")) EXPECT_GT(x.x[idle], std::log1p(3000.0));
  }
  EXPECT_FALSE(busy);  // still only the person's own communities' recently active, and the archive has none
}

}  // namespace
}  // namespace whoknows::engine
