// The routing log, availability and balance: the pure parts on plain data,
// and durability / erase / away / visibility through a real LocalBackend over
// a Xapian index in a temp dir (kill -9 of a forked writer included).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "fixture.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/routing/routing.h"
#include "whoknows/routing/store.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "whoknows/service/backend.h"

namespace whoknows::routing {
namespace {

using service::Backend;
using service::BackendOptions;
using service::Caller;
using service::ExpertsQuery;
using service::Role;
using service::RoutingRecord;
using namespace whoknows::routing::testing;
using whoknows::testing::TempDir;

RoutingEntry Entry(std::string person, std::string id, int64_t t) {
  RoutingEntry e;
  e.person = std::move(person);
  e.routing_id = std::move(id);
  e.question = "q";
  e.time = t;
  return e;
}

TEST(LoadModelTest, CountsWindowRecentShareAndOutcomes) {
  LoadModel m;
  const int64_t day = 86400;
  m.Add(Entry("a", "r1", kT0));
  m.Add(Entry("a", "r2", kT0 + 5 * day));
  m.Add(Entry("b", "r2", kT0 + 5 * day));
  m.Add(Entry("b", "r3", kT0 + 6 * day));
  ASSERT_TRUE(m.SetOutcome("a", "r1", Outcome::kDeclined, kT0 + day));
  EXPECT_FALSE(m.SetOutcome("a", "nope", Outcome::kDeclined, kT0));
  PersonLoad a = m.Get("a", kT0 + 8 * day, LoadModel::kWeek, 2);
  EXPECT_EQ(a.routed, 1u);  // r1 fell out of the 7-day window
  EXPECT_EQ(a.declined, 1u);
  EXPECT_EQ(a.recent_total, 2u);  // the last two questions: r2, r3
  EXPECT_EQ(a.recent, 1u);
  EXPECT_EQ(m.Get("b", kT0 + 8 * day, LoadModel::kWeek, 2).recent, 2u);
  m.ErasePerson("a");
  EXPECT_EQ(m.Get("a", kT0 + 8 * day).routed, 0u);
  EXPECT_EQ(m.size(), 2u);
}

TEST(BalanceTest, LiftsFreePeopleAndWeightZeroKeepsOrder) {
  LoadModel m;
  for (int i = 0; i < 3; ++i) m.Add(Entry("top", "r" + std::to_string(i), kT0 + i));
  // The same gaps with positive (blend) and negative (learned ranker margins) scores.
  for (double shift : {0.0, -2.0}) {
    std::vector<Candidate> c = {{"top", 1.0 + shift}, {"second", 0.8 + shift}, {"third", 0.3 + shift}};
    BalanceOptions o;
    o.default_capacity = 3;  // "top" routed 3: full load
    o.share_cap = 0;
    o.weight = 0.5;
    o.exponent = 1;
    o.keep_top_margin = -1;
    o.route_k = 0;
    o.gain_depth = 0;  // the spread charge
    ASSERT_OK_AND_ASSIGN(auto b, Balance(c, m, kT0 + 10, o));
    ASSERT_EQ(b.size(), 3u);
    // "top" is at full load (3 of 3): charged 0.5 of the spread 0.7, 1.0 - 0.35 = 0.65 < 0.8 free.
    EXPECT_EQ(b[0].index, 1u) << shift;
    EXPECT_EQ(b[1].index, 0u) << shift;
    EXPECT_NEAR(b[1].penalty, 0.5, 1e-9);
    EXPECT_NEAR(b[1].score, 0.65 + shift, 1e-9);
    EXPECT_EQ(b[2].index, 2u);  // 0.3 is too far below to be lifted over 0.65
    // A clear favourite (0.2 ahead, more than 0.1 of the spread) keeps the first place.
    o.keep_top_margin = 0.1;
    ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
    EXPECT_EQ(b[0].index, 0u);
    o.keep_top_margin = 0.5;  // 0.2 < 0.35: not clear enough
    ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
    EXPECT_EQ(b[0].index, 1u);
    o.keep_top_margin = -1;
    // Capacity relative to history: the most active candidate may take twice the default.
    c[0].activity = 40;
    c[1].activity = 2;
    o.activity_weight = 1;
    ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
    EXPECT_EQ(b[0].index, 0u);  // half loaded: 1.0 - 0.7 * 0.25 = 0.825 > 0.8
    EXPECT_NEAR(b[0].capacity, 6, 1e-9);
    o.activity_weight = 0;
    o.weight = 0;
    o.decline_weight = 0;
    ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
    EXPECT_EQ(b[0].index, 0u);
    o.window_days = 0;
    EXPECT_FALSE(Balance(c, m, kT0, o).ok());
  }
}

// route_k: only who fills the routed places changes; they and everyone else
// keep their original order, so a loaded person lands just below the routed places.
TEST(BalanceTest, RouteKRebalancesOnlyTheRoutedPlaces) {
  LoadModel m;
  for (int i = 0; i < 3; ++i) m.Add(Entry("a", "r" + std::to_string(i), kT0 + i));
  std::vector<Candidate> c = {{"a", 1.0}, {"b", 0.95}, {"c", 0.9}, {"d", 0.85}, {"e", 0.1}};
  BalanceOptions o;
  o.share_cap = 0;
  o.weight = 0.5;
  o.exponent = 1;
  o.keep_top_margin = -1;
  o.decline_weight = 0;
  o.gain_depth = 0;  // the spread charge
  o.route_k = 0;  // full re-sort: "a" (1.0 - 0.5 * 0.9 = 0.55) falls below "d"
  ASSERT_OK_AND_ASSIGN(auto b, Balance(c, m, kT0 + 10, o));
  std::vector<size_t> order;
  for (const auto& x : b) order.push_back(x.index);
  EXPECT_EQ(order, (std::vector<size_t>{1, 2, 3, 0, 4}));
  o.route_k = 2;  // "b" and "c" are routed; "a" comes right after them, ahead of "d"
  ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
  order.clear();
  for (const auto& x : b) order.push_back(x.index);
  EXPECT_EQ(order, (std::vector<size_t>{1, 2, 0, 3, 4}));
  o.keep_top_margin = 0.01;  // "a" is 0.05 ahead of "b", more than 0.01 of the spread 0.9: kept first
  ASSERT_OK_AND_ASSIGN(b, Balance(c, m, kT0 + 10, o));
  order.clear();
  for (const auto& x : b) order.push_back(x.index);
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

// Marginal-gain assignment: a busy expert gives up a routed place only where
// a near-equal free person exists (passing them costs little expected rank),
// and keeps it where they are far ahead; passed over, they land just below the
// routed people, marked busy.
TEST(BalanceTest, MarginalGainPassesTheBusyExpertOnlyForANearEqualFreePerson) {
  LoadModel m;
  for (int i = 0; i < 4; ++i) m.Add(Entry("a", "r" + std::to_string(i), kT0 + i));  // "a" had the last 4 questions
  BalanceOptions o;
  o.gain_depth = 5;
  o.gain_beta = 4;
  o.route_k = 2;
  o.recent_questions = 4;
  o.share_cap = 0.5;  // "a" holds 4/4: u = 2
  o.exponent = 1;
  o.weight = 0.1;  // price 0.2 of reciprocal rank
  o.decline_weight = 0;
  auto order_of = [&](const std::vector<Candidate>& c, const LoadModel& model) {
    std::vector<size_t> order;
    auto b = Balance(c, model, kT0 + 10, o);
    EXPECT_TRUE(b.ok()) << b.status();
    for (const auto& x : *b) order.push_back(x.index);
    return std::make_pair(order, *b);
  };
  const std::vector<Candidate> near = {{"a", 1.0}, {"b", 0.99}, {"c", 0.98}, {"d", 0.97}, {"e", 0.0}};
  auto [o1, b1] = order_of(near, m);
  EXPECT_EQ(o1, (std::vector<size_t>{1, 2, 0, 3, 4}));
  EXPECT_NE(b1[2].note.find("busy"), std::string::npos) << b1[2].note;
  EXPECT_NE(b1[0].note.find("routed"), std::string::npos) << b1[0].note;
  EXPECT_NEAR(b1[2].score, 1.0, 1e-12);  // the score stays the relevance; the order carries the decision
  EXPECT_NEAR(b1[2].penalty, 0.2, 1e-9);
  // Far ahead: passing "a" would cost more expected rank than the price.
  const std::vector<Candidate> clear = {{"a", 1.0}, {"b", 0.4}, {"c", 0.35}, {"d", 0.3}, {"e", 0.0}};
  EXPECT_EQ(order_of(clear, m).first, (std::vector<size_t>{0, 1, 2, 3, 4}));
  // The same near tie with negative (learned-ranker) scores: the same decision.
  std::vector<Candidate> shifted = near;
  for (Candidate& c : shifted) c.score -= 3;
  EXPECT_EQ(order_of(shifted, m).first, (std::vector<size_t>{1, 2, 0, 3, 4}));
  // Nobody loaded, or no price: the input order.
  EXPECT_EQ(order_of(near, LoadModel{}).first, (std::vector<size_t>{0, 1, 2, 3, 4}));
  o.weight = 0;
  EXPECT_EQ(order_of(near, m).first, (std::vector<size_t>{0, 1, 2, 3, 4}));
  // Only the first gain_depth may be routed: with depth 2 nobody can replace "a".
  o.weight = 0.1;
  o.gain_depth = 2;
  EXPECT_EQ(order_of(near, m).first, (std::vector<size_t>{0, 1, 2, 3, 4}));
  // A capacity the person set holds in this mode too: at capacity, listed after the pool.
  o.gain_depth = 5;
  o.weight = 0;
  m.SetAvailability("a", Availability{0, 2});
  auto [o2, b2] = order_of(clear, m);
  EXPECT_EQ(o2, (std::vector<size_t>{1, 2, 3, 4, 0}));
  EXPECT_TRUE(b2[4].at_capacity);
  o.gain_beta = -1;
  EXPECT_FALSE(Balance(near, m, kT0, o).ok());
}

// free_load: loads under that fraction of full cost nothing; at full load the
// price is the weight, as without it, and it rises faster above.
TEST(BalanceTest, FreeLoadMakesLightLoadsFree) {
  LoadModel m;
  for (int i = 0; i < 2; ++i) m.Add(Entry("a", "r" + std::to_string(i), kT0 + i));  // "a": 2 of the last 4
  m.Add(Entry("x", "r2", kT0 + 2));
  m.Add(Entry("x", "r3", kT0 + 3));
  BalanceOptions o;
  o.gain_depth = 5;
  o.route_k = 2;
  o.recent_questions = 4;
  o.share_cap = 0.8;  // "a" holds 2/4: u = 0.625
  o.default_capacity = 100;  // the weekly count stays far below full
  o.exponent = 2;
  o.weight = 1;
  o.decline_weight = 0;
  o.outcome_weight = 0;
  const std::vector<Candidate> near = {{"a", 1.0}, {"b", 0.99}, {"c", 0.98}, {"d", 0.97}, {"e", 0.0}};
  auto run = [&]() {
    auto b = Balance(near, m, kT0 + 10, o);
    EXPECT_TRUE(b.ok()) << b.status();
    std::vector<size_t> order;
    double price = -1;
    for (const auto& x : *b) {
      order.push_back(x.index);
      if (x.index == 0) price = x.penalty;
    }
    return std::make_pair(order, price);
  };
  auto [plain, p0] = run();
  EXPECT_NEAR(p0, 0.625 * 0.625, 1e-9);
  EXPECT_EQ(plain, (std::vector<size_t>{1, 2, 0, 3, 4}));  // passed for a near-equal free person
  o.free_load = 0.7;  // 0.625 < 0.7: free
  auto [kept, p1] = run();
  EXPECT_EQ(p1, 0.0);
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 2, 3, 4}));
  o.free_load = 0.5;  // x = (0.625 - 0.5) / 0.5 = 0.25
  EXPECT_NEAR(run().second, 0.25 * 0.25, 1e-9);
  o.share_cap = 0.5;  // u = 1: the full price either way
  EXPECT_NEAR(run().second, 1.0, 1e-9);
  o.free_load = 1;
  EXPECT_FALSE(Balance(near, m, kT0, o).ok());
  o.free_load = -0.1;
  EXPECT_FALSE(Balance(near, m, kT0, o).ok());
}

// Recent outcomes (RecordOutcome) count only when recorded at or before now
// and within the outcome window.
TEST(LoadModelTest, RecentOutcomesByOutcomeTime) {
  LoadModel m;
  const int64_t day = 86400;
  m.Add(Entry("a", "r1", kT0));
  m.Add(Entry("a", "r2", kT0 + day));
  m.Add(Entry("a", "r3", kT0 + 2 * day));
  ASSERT_TRUE(m.SetOutcome("a", "r1", Outcome::kAnswered, kT0 + day));
  ASSERT_TRUE(m.SetOutcome("a", "r2", Outcome::kNoResponse, kT0 + 3 * day));
  ASSERT_TRUE(m.SetOutcome("a", "r3", Outcome::kHelpful, kT0 + 20 * day));
  PersonLoad l = m.Get("a", kT0 + 10 * day, LoadModel::kWeek, 0, 30 * day);
  EXPECT_EQ(l.recent_answered, 1u);  // r3's outcome lies after now
  EXPECT_EQ(l.recent_unanswered, 1u);
  l = m.Get("a", kT0 + 10 * day, LoadModel::kWeek, 0, 8 * day);  // r1's outcome (day 1) is older than 8 days
  EXPECT_EQ(l.recent_answered, 0u);
  EXPECT_EQ(l.recent_unanswered, 1u);
  l = m.Get("a", kT0 + 30 * day, LoadModel::kWeek, 0, 0);  // window 0: every outcome so far
  EXPECT_EQ(l.recent_answered, 2u);
  EXPECT_EQ(l.recent_unanswered, 1u);
}

// Feedback: outcomes recorded before a question change its balanced ranking
// (people who answered lately move up, people who let questions go
// unanswered move down); later outcomes, an outcome weight of 0 and erasing
// the person undo it.
TEST(BalanceTest, RecentOutcomesMoveTheAnswerChance) {
  const int64_t day = 86400;
  const std::vector<Candidate> c = {{"a", 1.0}, {"b", 0.9}, {"c", 0.8}, {"d", 0.7}, {"e", 0.0}};
  LoadModel m;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "r" + std::to_string(i);
    m.Add(Entry("a", id, kT0 + i * day));
    m.Add(Entry("d", id, kT0 + i * day));
    ASSERT_TRUE(m.SetOutcome("a", id, Outcome::kNoResponse, kT0 + i * day + 3600));
    ASSERT_TRUE(m.SetOutcome("d", id, Outcome::kAnswered, kT0 + i * day + 3600));
  }
  BalanceOptions o;
  o.weight = 0;  // no load price: only the feedback moves anyone
  o.decline_weight = 0;
  o.route_k = 2;
  o.outcome_weight = 2;
  o.outcome_days = 90;
  auto order_at = [&](int64_t now) {
    std::vector<std::string> order;
    auto b = Balance(c, m, now, o);
    EXPECT_TRUE(b.ok()) << b.status();
    if (b.ok()) {
      for (const auto& x : *b) order.push_back(c[x.index].person);
    }
    return std::make_pair(order, b.ok() ? *b : std::vector<BalancedCandidate>{});
  };
  auto [after, bc] = order_at(kT0 + 6 * day);
  EXPECT_EQ(after, (std::vector<std::string>{"d", "b", "c", "a", "e"}));
  ASSERT_EQ(bc[0].index, 3u);  // indices still point into the input
  EXPECT_GT(bc[0].outcome_factor, 1.0);
  EXPECT_NE(bc[0].note.find("answered 5 of 5"), std::string::npos) << bc[0].note;
  EXPECT_LT(bc[3].outcome_factor, 1.0);
  EXPECT_EQ(bc[1].outcome_factor, 1.0);  // no outcomes: unchanged
  // Before the outcomes were known (they come an hour after each routing), the input order.
  EXPECT_EQ(order_at(kT0 + 1800).first, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  // Outcomes older than outcome_days no longer count.
  EXPECT_EQ(order_at(kT0 + 200 * day).first, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  // Spread charge mode uses the same feedback.
  o.gain_depth = 0;
  EXPECT_EQ(order_at(kT0 + 6 * day).first[0], "d");
  o.gain_depth = 6;
  o.outcome_weight = 0;
  EXPECT_EQ(order_at(kT0 + 6 * day).first, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  o.outcome_weight = 2;
  m.ErasePerson("d");
  m.ErasePerson("a");
  EXPECT_EQ(order_at(kT0 + 6 * day).first, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  o.outcome_prior = -1;
  EXPECT_FALSE(Balance(c, m, kT0, o).ok());
}

// A replay fixture: ten questions in one week, each routed to the top person
// of a fixed ranking and logged. "top" allows 2 per week.
TEST(BalanceTest, CapacityHonouredInReplay) {
  for (bool with_capacity : {false, true}) {
    LoadModel m;
    if (with_capacity) m.SetAvailability("top", Availability{0, 2});
    BalanceOptions o;
    o.weight = 0;  // even with no load discount at all, a set capacity holds
    o.decline_weight = 0;
    std::vector<Candidate> c = {{"top", 1.0}, {"mid", 0.6}, {"low", 0.5}};
    int top_routed = 0;
    for (int q = 0; q < 10; ++q) {
      const int64_t now = kT0 + q * 3600;
      ASSERT_OK_AND_ASSIGN(auto b, Balance(c, m, now, o));
      const std::string& who = c[b[0].index].person;
      if (who == "top") ++top_routed;
      m.Add(Entry(who, "q" + std::to_string(q), now));
      if (with_capacity && who != "top") EXPECT_TRUE(b.back().at_capacity || b[1].at_capacity);
    }
    EXPECT_EQ(top_routed, with_capacity ? 2 : 10);
  }
}

TEST(LoadFiguresTest, ShareGiniDistinct) {
  std::vector<uint32_t> equal = {2, 2, 2, 2};
  LoadFigures f = ComputeLoadFigures(equal, 8);
  EXPECT_NEAR(f.gini, 0, 1e-9);
  EXPECT_EQ(f.distinct_people, 4u);
  EXPECT_NEAR(f.max_share, 0.25, 1e-9);
  std::vector<uint32_t> one = {0, 0, 0, 8};
  f = ComputeLoadFigures(one, 8);
  EXPECT_NEAR(f.gini, 0.75, 1e-9);  // (n-1)/n for one holder
  EXPECT_EQ(f.distinct_people, 1u);
  EXPECT_NEAR(f.max_share, 1.0, 1e-9);
}

TEST(EncodingTest, RoundTripAndBadInput) {
  RoutingEntry e = Entry("mail:x@example.org", "abc", kT0);
  e.visibility = "public";
  e.outcome = Outcome::kHelpful;
  RoutingEntry back;
  Availability a;
  ASSERT_OK_AND_ASSIGN(std::string_view kind, DecodeMetadata(EntryKey(e.person, e.routing_id), EncodeEntry(e), &back, &a));
  EXPECT_EQ(kind, "entry");
  EXPECT_EQ(back.person, e.person);
  EXPECT_EQ(back.outcome, Outcome::kHelpful);
  EXPECT_EQ(back.visibility, "public");
  EXPECT_FALSE(DecodeMetadata(EntryKey("p", "r"), "{not json", &back, &a).ok());
  EXPECT_FALSE(ParseOutcome("maybe").ok());
  EXPECT_EQ(*ParseOutcome("no_response"), Outcome::kNoResponse);
  // A very long person id still gives a key Xapian accepts.
  EXPECT_LE(EntryKey(std::string(500, 'p'), "0123456789abcdef").size(), indexer::kMaxMetadataKeyBytes);
}

class BackendRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.Sub("db");
    Open();
    std::vector<indexer::Record> corpus = Corpus();
    if (mail_) {  // the same conversations as a mailing list
      for (indexer::Record& r : corpus) r.kind = indexer::RecordKind::kMail;
    }
    ASSERT_OK_AND_ASSIGN(auto c, backend_->Ingest(corpus, {}));
    ASSERT_EQ(c.indexed, corpus.size());
  }
  void Open() {
    backend_.reset();
    BackendOptions o = options_;
    o.writable = true;
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(db_, o));
  }
  std::vector<std::string> Experts(const std::string& text, std::optional<bool> balance = std::nullopt) {
    ExpertsQuery q;
    q.text = text;
    q.balance = balance;
    auto a = backend_->FindExperts(q, Caller{});
    EXPECT_TRUE(a.ok()) << a.status();
    std::vector<std::string> ids;
    if (a.ok()) {
      for (const auto& e : a->experts) ids.push_back(e.person_id);
    }
    return ids;
  }

  TempDir dir_;
  std::string db_;
  BackendOptions options_;
  std::unique_ptr<Backend> backend_;
  bool mail_ = false;  // ingest the corpus as mail
};

class BackendMailRoutingTest : public BackendRoutingTest {
 protected:
  BackendMailRoutingTest() { mail_ = true; }
};

TEST_F(BackendRoutingTest, SurvivesRestart) {
  RoutingRecord r;
  r.question_id = "ticket-1";
  r.people = {kBob, "alice@example.org"};  // an identity key and a bare address
  r.time = kT0 + 1000;
  ASSERT_OK_AND_ASSIGN(std::string id, backend_->RecordRouting(r, Caller{}));
  ASSERT_OK(backend_->RecordOutcome(id, kBob, Outcome::kAnswered, kT0 + 2000, Caller{}));
  ASSERT_OK(backend_->SetAvailability(kDave, Availability{kT0 + 99999, 4}, Caller{}));
  Open();  // a new process would see the same: everything is read back from the index
  ASSERT_OK_AND_ASSIGN(auto entries, backend_->ListRoutings("", 0, Caller{}));
  ASSERT_EQ(entries.size(), 2u);
  for (const RoutingEntry& e : entries) {
    EXPECT_EQ(e.routing_id, id);
    EXPECT_EQ(e.question, "ticket-1");
    EXPECT_EQ(e.outcome, e.person == kBob ? Outcome::kAnswered : Outcome::kPending) << e.person;
  }
  EXPECT_FALSE(backend_->RecordOutcome(id, kDave, Outcome::kAnswered, 0, Caller{}).ok());  // not routed to dave
  EXPECT_EQ(backend_->RecordRouting({.question_id = "x", .people = {"nobody@nowhere"}}, Caller{}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BackendRoutingTest, KillDashNineAfterAcknowledgedOutcome) {
  RoutingRecord r;
  r.question_text = "how big is a xapian index";
  r.people = {kBob};
  ASSERT_OK_AND_ASSIGN(std::string id, backend_->RecordRouting(r, Caller{}));
  backend_.reset();  // release the writer lock for the child
  int ack[2];
  ASSERT_EQ(pipe(ack), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ack[0]);
    BackendOptions o;
    o.writable = true;
    auto b = Backend::Open(db_, o);
    if (!b.ok()) _exit(2);
    if (!(*b)->RecordOutcome(id, kBob, Outcome::kDeclined, kT0 + 5, Caller{}).ok()) _exit(3);
    const char x = 'k';
    if (write(ack[1], &x, 1) != 1) _exit(4);  // acknowledged
    for (;;) pause();                         // killed here, without any clean shutdown
  }
  close(ack[1]);
  char x = 0;
  ASSERT_EQ(read(ack[0], &x, 1), 1) << "child failed before acknowledging";
  close(ack[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  Open();
  ASSERT_OK_AND_ASSIGN(auto entries, backend_->ListRoutings(kBob, 0, Caller{}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].outcome, Outcome::kDeclined);
  EXPECT_EQ(entries[0].outcome_time, kT0 + 5);
}

TEST_F(BackendRoutingTest, EraseRemovesLogEntries) {
  RoutingRecord r;
  r.question_id = "ticket-2";
  r.people = {kBob, kAlice};
  ASSERT_OK_AND_ASSIGN(std::string id, backend_->RecordRouting(r, Caller{}));
  ASSERT_OK(backend_->SetAvailability(kBob, Availability{0, 2}, Caller{}));
  ASSERT_OK_AND_ASSIGN(uint64_t removed, backend_->Erase(kBob));
  EXPECT_GT(removed, 0u);
  ASSERT_OK_AND_ASSIGN(auto entries, backend_->ListRoutings("", 0, Caller{}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].person, kAlice);
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(auto reader, indexer::IndexReader::Open(db_));
  ASSERT_OK_AND_ASSIGN(auto left, reader->ListMetadata(indexer::PersonDataPrefix(kBob)));
  EXPECT_TRUE(left.empty());  // neither the routing entry nor the availability
  ASSERT_OK_AND_ASSIGN(auto alice, reader->ListMetadata(indexer::PersonDataPrefix(kAlice)));
  EXPECT_EQ(alice.size(), 1u);
  Open();
  ASSERT_OK_AND_ASSIGN(entries, backend_->ListRoutings("", 0, Caller{}));
  EXPECT_EQ(entries.size(), 1u);
}

TEST_F(BackendRoutingTest, AwayPersonNotReturnedUntilTheDate) {
  std::vector<std::string> before = Experts("xapian index ranking");
  ASSERT_NE(std::find(before.begin(), before.end(), kBob), before.end());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  ASSERT_OK(backend_->SetAvailability(kBob, Availability{now + 86400, 0}, Caller{}));
  for (std::optional<bool> balance : {std::optional<bool>(), std::optional<bool>(true)}) {
    std::vector<std::string> away = Experts("xapian index ranking", balance);
    EXPECT_EQ(std::find(away.begin(), away.end(), kBob), away.end());
    EXPECT_FALSE(away.empty());
  }
  ASSERT_OK(backend_->SetAvailability(kBob, Availability{now - 1, 0}, Caller{}));  // the date has passed
  std::vector<std::string> back = Experts("xapian index ranking");
  EXPECT_NE(std::find(back.begin(), back.end(), kBob), back.end());
}

TEST_F(BackendRoutingTest, BalanceShowsLoadAndLiftsFreePeople) {
  std::vector<std::string> plain = Experts("xapian index ranking", false);
  ASSERT_GE(plain.size(), 2u);
  const std::string top = plain[0];
  for (int i = 0; i < 6; ++i) {
    RoutingRecord r;
    r.question_id = "busy-" + std::to_string(i);
    r.people = {top};
    ASSERT_OK(backend_->RecordRouting(r, Caller{}).status());
  }
  ExpertsQuery q;
  q.text = "xapian index ranking";
  q.balance = true;
  // By default (marginal-gain assignment) the loaded favourite, who had every
  // recent question, gives up the first place and is marked busy.
  ASSERT_OK_AND_ASSIGN(auto a, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(a.experts.size(), 2u);
  EXPECT_NE(a.experts[0].person_id, top);
  bool top_listed = false;
  for (const auto& e : a.experts) {
    auto load = std::find_if(e.components.begin(), e.components.end(), [](const auto& c) { return c.first == "load"; });
    ASSERT_NE(load, e.components.end()) << e.person_id;
    EXPECT_EQ(load->second, e.person_id == top ? 6.0 : 0.0);
    EXPECT_NE(e.reason.find(e.person_id == top ? "routed" : "free"), std::string::npos) << e.reason;
    if (e.person_id == top) {
      top_listed = true;
      EXPECT_NE(e.reason.find("busy"), std::string::npos) << e.reason;
    }
  }
  EXPECT_TRUE(top_listed);  // passed over, not dropped
  // The spread charge with a keep-top margin: a clear favourite keeps the first place, marked so.
  options_.balance.gain_depth = 0;
  options_.balance.weight = 1;
  options_.balance.exponent = 3;
  options_.balance.share_cap = 0.3;
  options_.balance.keep_top_margin = 0.3;
  Open();
  ASSERT_OK_AND_ASSIGN(auto kept, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(kept.experts.size(), 2u);
  EXPECT_EQ(kept.experts[0].person_id, top);
  EXPECT_NE(kept.experts[0].reason.find("kept first"), std::string::npos) << kept.experts[0].reason;
  // Without that protection the loaded favourite gives way to someone free.
  options_.balance.keep_top_margin = -1;
  Open();
  ASSERT_OK_AND_ASSIGN(auto s, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(s.experts.size(), 2u);
  EXPECT_NE(s.experts[0].person_id, top);
  // Unbalanced stays pure relevance.
  EXPECT_EQ(Experts("xapian index ranking", false)[0], top);
}

// Outcomes recorded through the backend (durable in the index) lift the
// person who answered and lower the one who did not, in later balanced
// FindExperts calls, after a restart too; unbalanced stays pure relevance.
TEST_F(BackendRoutingTest, RecordedOutcomesChangeLaterBalancedRanking) {
  options_.balance.weight = 0;  // no load price: only the feedback moves anyone
  options_.balance.decline_weight = 0;
  options_.balance.outcome_weight = 4;
  options_.balance.outcome_days = 90;
  Open();
  std::vector<std::string> plain = Experts("xapian index ranking", false);
  ASSERT_GE(plain.size(), 2u);
  const std::string top = plain[0], second = plain[1];
  EXPECT_EQ(Experts("xapian index ranking", true)[0], top);  // nothing recorded yet
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (int i = 0; i < 5; ++i) {
    RoutingRecord r;
    r.question_id = "fb-" + std::to_string(i);
    r.people = {top, second};
    r.time = now - (10 - i) * 3600;
    ASSERT_OK_AND_ASSIGN(std::string id, backend_->RecordRouting(r, Caller{}));
    ASSERT_OK(backend_->RecordOutcome(id, second, Outcome::kAnswered, r.time + 60, Caller{}));
    ASSERT_OK(backend_->RecordOutcome(id, top, Outcome::kNoResponse, r.time + 60, Caller{}));
  }
  for (int restart = 0; restart < 2; ++restart) {
    if (restart) Open();  // read back from the index
    ExpertsQuery q;
    q.text = "xapian index ranking";
    q.balance = true;
    ASSERT_OK_AND_ASSIGN(auto a, backend_->FindExperts(q, Caller{}));
    ASSERT_GE(a.experts.size(), 2u);
    EXPECT_EQ(a.experts[0].person_id, second) << restart;
    auto f = std::find_if(a.experts[0].components.begin(), a.experts[0].components.end(),
                          [](const auto& c) { return c.first == "outcome_factor"; });
    ASSERT_NE(f, a.experts[0].components.end());
    EXPECT_GT(f->second, 1.0);
    EXPECT_NE(a.experts[0].reason.find("answered 5 of 5"), std::string::npos) << a.experts[0].reason;
    EXPECT_EQ(Experts("xapian index ranking", false)[0], top);
  }
}

// Per source type: the mail settings (mail_weight, mail_share_cap) apply to
// questions whose evidence is mail, and only to them.
void RouteSixTo(Backend* b, const std::string& person) {
  for (int i = 0; i < 6; ++i) {
    RoutingRecord r;
    r.question_id = "busy-" + std::to_string(i);
    r.people = {person};
    ASSERT_OK(b->RecordRouting(r, Caller{}).status());
  }
}

TEST_F(BackendMailRoutingTest, MailSettingsApplyToMailQuestions) {
  std::vector<std::string> plain = Experts("xapian index ranking", false);
  ASSERT_GE(plain.size(), 4u);
  const std::string top = plain[0];
  RouteSixTo(backend_.get(), top);
  ExpertsQuery q;
  q.text = "xapian index ranking";
  q.balance = true;
  // Default: no mail settings, the loaded favourite is passed as for any question.
  ASSERT_OK_AND_ASSIGN(auto d, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(d.experts.size(), 4u);
  EXPECT_NE(d.experts[0].person_id, top);
  EXPECT_EQ(d.experts[0].reason.find("mail question"), std::string::npos) << d.experts[0].reason;
  // No load price for mail questions: the favourite keeps the first place, and the reason says why.
  options_.balance.mail_weight = 0;
  options_.balance.decline_weight = 0;
  Open();
  ASSERT_OK_AND_ASSIGN(auto m, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(m.experts.size(), 4u);
  EXPECT_EQ(m.experts[0].person_id, top);
  EXPECT_NE(m.experts[0].reason.find("mail question: balanced with weight 0"), std::string::npos)
      << m.experts[0].reason;
  // The other way round: no general load price, a mail one: passed again.
  options_.balance.weight = 0;
  options_.balance.mail_weight = 0.4;
  options_.balance.mail_share_cap = 0.3;
  Open();
  ASSERT_OK_AND_ASSIGN(auto m2, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(m2.experts.size(), 4u);
  EXPECT_NE(m2.experts[0].person_id, top);
  EXPECT_NE(m2.experts[0].reason.find("share cap 0.3"), std::string::npos) << m2.experts[0].reason;
  // A mail setting that is not a number is refused, naming it.
  options_.balance.mail_weight = std::nan("");
  Open();
  auto bad = backend_->FindExperts(q, Caller{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("mail_weight"), std::string::npos) << bad.status();
}

TEST_F(BackendRoutingTest, MailSettingsLeaveOtherQuestionsAlone) {
  std::vector<std::string> plain = Experts("xapian index ranking", false);
  ASSERT_GE(plain.size(), 4u);
  const std::string top = plain[0];
  RouteSixTo(backend_.get(), top);
  options_.balance.mail_weight = 0;  // Q&A evidence: the general weight still applies
  options_.balance.mail_share_cap = 0.9;
  Open();
  ExpertsQuery q;
  q.text = "xapian index ranking";
  q.balance = true;
  ASSERT_OK_AND_ASSIGN(auto a, backend_->FindExperts(q, Caller{}));
  ASSERT_GE(a.experts.size(), 4u);
  EXPECT_NE(a.experts[0].person_id, top);
  for (const auto& e : a.experts) EXPECT_EQ(e.reason.find("mail question"), std::string::npos) << e.reason;
}

TEST(BalanceTest, OptionsForSource) {
  BalanceOptions o;
  o.weight = 0.4;
  o.share_cap = 0.4;
  EXPECT_EQ(OptionsForSource(o, QuestionSource::kMail).weight, 0.4);  // unset: the same
  o.mail_weight = 0.1;
  o.mail_share_cap = 0.6;
  const BalanceOptions m = OptionsForSource(o, QuestionSource::kMail);
  EXPECT_EQ(m.weight, 0.1);
  EXPECT_EQ(m.share_cap, 0.6);
  EXPECT_LT(m.mail_weight, 0);
  const BalanceOptions other = OptionsForSource(o, QuestionSource::kOther);
  EXPECT_EQ(other.weight, 0.4);
  EXPECT_EQ(other.share_cap, 0.4);
  o.mail_free_load = 0.25;
  EXPECT_EQ(OptionsForSource(o, QuestionSource::kMail).free_load, 0.25);
  EXPECT_EQ(OptionsForSource(o, QuestionSource::kOther).free_load, 0);
  EXPECT_EQ(QuestionSourceName(QuestionSource::kMail), "mail");
}

TEST_F(BackendRoutingTest, VisibilityOfLogEntries) {
  Caller internal{"bot", {"public", "internal"}, Role::kService, ""};
  Caller pub{"web", {"public"}, Role::kService, ""};
  RoutingRecord r;
  r.question_id = "jsonl:routing:q3";  // an internal question
  r.people = {kCarol, kAlice};
  r.visibility = "internal";
  ASSERT_OK(backend_->RecordRouting(r, internal).status());
  EXPECT_EQ(backend_->RecordRouting(r, pub).status().code(), absl::StatusCode::kPermissionDenied);
  RoutingRecord p;
  p.question_id = "jsonl:routing:q1";
  p.people = {kAlice};
  p.visibility = "public";
  ASSERT_OK(backend_->RecordRouting(p, pub).status());
  ASSERT_OK_AND_ASSIGN(auto seen, backend_->ListRoutings("", 0, pub));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].question, "jsonl:routing:q1");
  ASSERT_OK_AND_ASSIGN(seen, backend_->ListRoutings(kAlice, 0, pub));
  EXPECT_EQ(seen.size(), 1u);
  ASSERT_OK_AND_ASSIGN(seen, backend_->ListRoutings("", 0, internal));
  EXPECT_EQ(seen.size(), 3u);
  // A person's own token sees their own entries, within its groups only.
  Caller alice{"alice", {"public"}, Role::kReader, "alice@example.org"};
  ASSERT_OK_AND_ASSIGN(seen, backend_->ListRoutings("", 0, alice));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].question, "jsonl:routing:q1");
  EXPECT_EQ(backend_->ListRoutings(kCarol, 0, alice).status().code(), absl::StatusCode::kPermissionDenied);
  Caller reader{"rita", {"public"}, Role::kReader, ""};
  EXPECT_EQ(backend_->ListRoutings("", 0, reader).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(BackendRoutingTest, AvailabilityByOwnTokenOrAdmin) {
  Caller alice{"alice", {"public"}, Role::kReader, kAlice};
  EXPECT_OK(backend_->SetAvailability("alice@example.org", Availability{0, 3}, alice));
  EXPECT_EQ(backend_->SetAvailability(kBob, Availability{0, 3}, alice).code(), absl::StatusCode::kPermissionDenied);
  Caller svc{"bot", {"public"}, Role::kService, ""};
  EXPECT_EQ(backend_->SetAvailability(kBob, Availability{0, 3}, svc).code(), absl::StatusCode::kPermissionDenied);
  Caller admin{"ops", {}, Role::kAdmin, ""};
  EXPECT_OK(backend_->SetAvailability(kBob, Availability{0, 3}, admin));
}

TEST(RoleTest, ServiceBesideIngester) {
  using service::RoleAllows;
  EXPECT_TRUE(RoleAllows(Role::kService, Role::kReader));
  EXPECT_TRUE(RoleAllows(Role::kService, Role::kService));
  EXPECT_FALSE(RoleAllows(Role::kService, Role::kIngester));
  EXPECT_FALSE(RoleAllows(Role::kIngester, Role::kService));
  EXPECT_FALSE(RoleAllows(Role::kService, Role::kAdmin));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kService));
  EXPECT_FALSE(RoleAllows(Role::kReader, Role::kService));
}

}  // namespace
}  // namespace whoknows::routing
