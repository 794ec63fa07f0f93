// PersonActivity (precomputed per-person counts) must give RankExperts exactly
// the answers of the per-candidate scan it replaces: on real data (a Stack
// Exchange site, public, and a Slack workspace, internal) for several time
// splits, windows and caller masks, and on a hand-made corpus whose people
// write in two groups (the caller who sees one of them falls back to the scan).

#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/person_activity.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/engine/topic_strength.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"

namespace whoknows::engine {
namespace {

using whoknows::testing::TempDir;

void ExpectSameExperts(const std::vector<Expert>& a, const std::vector<Expert>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id) << what << " rank " << i;
    EXPECT_EQ(a[i].score, b[i].score) << what << " rank " << i;
    EXPECT_EQ(a[i].components, b[i].components) << what << " rank " << i;
    EXPECT_EQ(a[i].last_active, b[i].last_active) << what << " rank " << i;
    EXPECT_EQ(a[i].topics, b[i].topics) << what << " rank " << i;
    EXPECT_EQ(a[i].reason, b[i].reason) << what << " rank " << i;
  }
}

TEST(PersonActivityTest, SameRankingAsTheScanOnRealData) {
  TempDir dir;
  const std::string data = WK_SHARED_DATA_DIR;
  ASSERT_OK_AND_ASSIGN(indexer::PipelineResult r,
                       indexer::IndexPaths(dir.Sub("db"),
                                           {data + "/stackexchange/coffee.stackexchange.com", data + "/slack/houstondatavis"},
                                           indexer::PipelineOptions{}));
  ASSERT_TRUE(r.failed_paths.empty());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(dir.Sub("db")));
  std::vector<indexer::StoredDoc> docs;
  ASSERT_OK(reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::Person> persons, reader->ListPersons());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, BuildSnapshot(docs, persons));
  const Snapshot& s = *snap;
  std::shared_ptr<const PersonActivity> activity = PersonActivity::Build(s);
  ASSERT_GT(activity->bytes(), 0u);

  const int64_t mid = (s.min_timestamp() + s.max_timestamp()) / 2;
  std::vector<std::pair<std::string, AskOptions>> cases;
  AskOptions base;
  base.k = 20;
  base.w_recent = 0.5;  // so the recent window shows in the score
  cases.emplace_back("default", base);
  {
    AskOptions o = base;
    o.now = mid;  // a history query (eval's time split)
    cases.emplace_back("now=mid", o);
  }
  {
    AskOptions o = base;
    o.from = s.min_timestamp() + (mid - s.min_timestamp()) / 2;
    o.to = mid;
    cases.emplace_back("from/to", o);
  }
  {
    AskOptions o = base;
    o.recent_days = 30;
    cases.emplace_back("recent 30 days", o);
  }
  {
    AskOptions o = base;
    const std::vector<std::string> groups = {"public"};
    o.group_mask = s.GroupMask(groups);
    ASSERT_NE(o.group_mask, 0u);
    cases.emplace_back("public only", o);
  }
  const std::vector<std::string> queries = {"espresso grinder burr", "milk froth latte", "cold brew ratio",
                                            "visualization d3 chart", "meetup slides", "python pandas"};
  // The person–topic component (CountTopics): weighed by the blend, and fed to
  // a learned model with every other feature (the server's path with a model).
  {
    AskOptions o = base;
    o.w_topic = 0.4;
    cases.emplace_back("topic weight", o);
    o.now = mid;
    cases.emplace_back("topic weight, now=mid", o);
    o.now = 0;
    o.group_mask = s.GroupMask(std::vector<std::string>{"public"});
    cases.emplace_back("topic weight, public only", o);
  }
  {
    // A model trained on these queries (the most-voted candidate as the relevant one).
    std::vector<TrainingGroup> groups;
    for (const std::string& q : queries) {
      ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, reader->Search(q, indexer::SearchFilter{}, 200));
      ASSERT_OK_AND_ASSIGN(std::vector<CandidateFeatures> f, ExtractFeatures(s, hits, base));
      TrainingGroup g;
      g.relevant.assign(f.size(), 0);
      size_t best = 0;
      for (size_t i = 0; i < f.size(); ++i) best = f[i].x[0] > f[best].x[0] ? i : best;
      if (!f.empty()) g.relevant[best] = 1;
      g.candidates = std::move(f);
      groups.push_back(std::move(g));
    }
    TrainOptions to;
    to.min_groups = 1;
    to.rounds = 20;
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<const RankModel> model, RankModel::Train(groups, to));
    AskOptions o = base;
    o.model = model;
    cases.emplace_back("model", o);
    o.now = mid;
    cases.emplace_back("model, now=mid", o);
    o.now = 0;
    o.from = s.min_timestamp() + (mid - s.min_timestamp()) / 2;
    o.to = mid;
    cases.emplace_back("model, from/to", o);
    o.from = o.to = 0;
    o.group_mask = s.GroupMask(std::vector<std::string>{"public"});
    cases.emplace_back("model, public only", o);
  }
  size_t compared = 0, fast = 0;
  for (const auto& [name, o] : cases) {
    AskOptions with = o;
    with.activity = activity;
    for (const std::string& q : queries) {
      ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, reader->Search(q, indexer::SearchFilter{}, 200));
      ASSERT_OK_AND_ASSIGN(std::vector<Expert> scan, RankExperts(s, hits, o));
      ASSERT_OK_AND_ASSIGN(std::vector<Expert> pre, RankExperts(s, hits, with));
      ExpectSameExperts(scan, pre, name + ": " + q);
      compared += scan.size();
      for (const Expert& e : pre) {
        PersonActivity::Counts c;
        fast += activity->Count(s, e.person, o.group_mask, o.from, o.to == 0 ? s.max_timestamp() + 1 : o.to,
                                s.max_timestamp() - 86400, &c);
      }
    }
  }
  EXPECT_GT(compared, 100u);  // the queries do match: the comparison is not vacuous
  EXPECT_GT(fast, 50u);       // ... and the precomputed path was taken

  // Topic candidates for a caller who sees everything come from the per-snapshot
  // (author, documents) lists (PersonActivity::TopicAuthors): the same candidates
  // as the scan, each topic's list made once, none for another snapshot.
  for (const std::string& q : queries) {
    ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, reader->Search(q, indexer::SearchFilter{}, 200));
    AskOptions with = base;
    with.activity = activity;
    ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> scan, CandidatePeople(s, hits, base));
    ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> pre, CandidatePeople(s, hits, with));
    EXPECT_EQ(scan, pre) << q;
  }
  size_t made = 0;
  auto make = [&] {
    ++made;
    return PersonActivity::AuthorCounts{{0, 1}};
  };
  for (uint32_t t = 0; t < s.num_topics(); ++t) ASSERT_NE(activity->TopicAuthors(s, t, make), nullptr);
  EXPECT_LT(made, s.num_topics());  // the rankings above made some
  const size_t first = made;
  for (uint32_t t = 0; t < s.num_topics(); ++t) activity->TopicAuthors(s, t, make);
  EXPECT_EQ(made, first);  // ... and nothing is made twice
  std::vector<indexer::StoredDoc> fewer(docs.begin(), docs.end() - 1);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> other, BuildSnapshot(fewer, persons));
  EXPECT_EQ(activity->TopicAuthors(*other, 0, make), nullptr);

  // The explanations' topic strengths: every person, every topic of the corpus
  // in one request, the same values as TopicStrengthsOf's scan.
  std::vector<uint32_t> all_topics;
  for (uint32_t t = 0; t < s.num_topics(); ++t) all_topics.push_back(t);
  TopicStrengthOptions so;
  so.max_docs = PersonActivity::kStrengthDocs;
  size_t nonzero = 0, table = 0;
  for (uint32_t p = 0; p < s.num_persons(); ++p) {
    std::vector<double> got;
    if (!activity->TopicStrengths(s, p, so, all_topics, &got)) continue;
    ++table;
    const std::vector<double> want = TopicStrengthsOf(s, p, all_topics, so);
    ASSERT_EQ(got, want) << s.person(p).id;
    for (double v : got) nonzero += v > 0;
  }
  EXPECT_GT(table, 100u);
  EXPECT_GT(nonzero, 100u);
  std::vector<double> untouched = {-1};
  so.now = mid;  // other options than the table's: the caller scans
  EXPECT_FALSE(activity->TopicStrengths(s, 0, so, all_topics, &untouched));
  so.now = 0;
  so.max_docs = 0;
  EXPECT_FALSE(activity->TopicStrengths(s, 0, so, all_topics, &untouched));
  EXPECT_EQ(untouched, std::vector<double>{-1});
}

TEST(PersonActivityTest, CountsWindowsAndFallsBackWhenTheMaskHidesADoc) {
  using testing::Corpus;
  using testing::kDay;
  using testing::kT0;
  Corpus c;
  c.Question("q1", "ann", kT0, {"x"});
  c.Answer("a1", "q1", "bob", kT0 + 1 * kDay, /*accepted=*/true);
  c.Question("q2", "ann", kT0 + 10 * kDay, {"x"});
  c.Answer("a2", "q2", "bob", kT0 + 11 * kDay);
  c.Question("q3", "cat", kT0 + 20 * kDay, {"x"}, "internal");
  c.Answer("a3", "q3", "bob", kT0 + 21 * kDay, false, "internal");
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, BuildSnapshot(c.docs, c.persons));
  const Snapshot& s = *snap;
  auto a = PersonActivity::Build(s);
  const uint32_t bob = s.FindPerson("bob");
  ASSERT_NE(bob, kNone);
  PersonActivity::Counts n;
  ASSERT_TRUE(a->Count(s, bob, kAllGroups, 0, 0, kT0 + 5 * kDay, &n));
  EXPECT_EQ(n.answers, 3);
  EXPECT_EQ(n.accepted, 1);
  EXPECT_EQ(n.activity, 4);  // 3 answers + 1 accepted
  EXPECT_EQ(n.recent, 2);    // a2, a3
  EXPECT_EQ(n.last, kT0 + 21 * kDay);
  ASSERT_TRUE(a->Count(s, bob, kAllGroups, kT0 + 1 * kDay, kT0 + 21 * kDay, kT0 + 5 * kDay, &n));
  EXPECT_EQ(n.answers, 2);  // a1 (from is inclusive), a2; a3 is at `to` (exclusive)
  EXPECT_EQ(n.recent, 1);
  EXPECT_EQ(n.last, kT0 + 11 * kDay);
  ASSERT_TRUE(a->Count(s, bob, kAllGroups, kT0 + 30 * kDay, 0, 0, &n));
  EXPECT_EQ(n.answers, 0);
  EXPECT_EQ(n.last, 0);
  // bob wrote in "internal" too: a public-only caller must scan him.
  const std::vector<std::string> pub = {"public"};
  EXPECT_FALSE(a->Count(s, bob, s.GroupMask(pub), 0, 0, 0, &n));
  const uint32_t ann = s.FindPerson("ann");
  ASSERT_TRUE(a->Count(s, ann, s.GroupMask(pub), 0, 0, 0, &n));
  EXPECT_EQ(n.questions, 2);
  EXPECT_EQ(n.activity, 0);

  // Person–topic counts: bob's answers and replies by topic, the question itself not counted.
  c.Add(indexer::RecordKind::kMail, "r1", "bob", kT0 + 2 * kDay, "q1", "q1", {"y", "x"});
  c.Add(indexer::RecordKind::kMail, "r2", "bob", kT0 + 12 * kDay, "q2", "q2", {"y"});
  c.Question("q4", "bob", kT0 + 13 * kDay, {"y"});
  c.Add(indexer::RecordKind::kMail, "r3", "bob", kT0 + 22 * kDay, "q3", "q3", {"y"}, "internal");
  {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap2, BuildSnapshot(c.docs, c.persons));
    const Snapshot& s2 = *snap2;
    auto a2 = PersonActivity::Build(s2);
    const uint32_t bob2 = s2.FindPerson("bob");
    const std::vector<std::string> xy = {"x", "y"};
    std::vector<uint32_t> topics;
    for (const std::string& t : xy) {
      const uint32_t ti = s2.FindTopic(t);
      ASSERT_NE(ti, kNone) << t;
      topics.push_back(ti);
    }
    double n2[2] = {-1, -1};
    ASSERT_TRUE(a2->CountTopics(s2, bob2, kAllGroups, 0, 0, topics, n2));
    // A thread's topics reach every document of it: x is on a1-a3 and r1-r3.
    EXPECT_EQ(n2[0], 6);
    EXPECT_EQ(n2[1], 3);  // r1, r2, r3; not bob's question q4
    ASSERT_TRUE(a2->CountTopics(s2, bob2, kAllGroups, kT0 + 3 * kDay, kT0 + 22 * kDay, topics, n2));
    EXPECT_EQ(n2[0], 3);  // a2, r2, a3
    EXPECT_EQ(n2[1], 1);  // r2 (r3 is at `to`, exclusive)
    EXPECT_FALSE(a2->CountTopics(s2, bob2, s2.GroupMask(pub), 0, 0, topics, n2));
    EXPECT_EQ(n2[1], 1);  // untouched
    EXPECT_FALSE(a->CountTopics(s2, bob2, kAllGroups, 0, 0, topics, n2));  // another snapshot's table
  }

  // Built from another snapshot: refused.
  c.Answer("a4", "q1", "ann", kT0 + 30 * kDay);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> other, BuildSnapshot(c.docs, c.persons));
  EXPECT_FALSE(a->Count(*other, ann, kAllGroups, 0, 0, 0, &n));
}

// The precomputed topic strengths equal TopicStrengthsOf bit for bit, also for
// a person with more than kStrengthDocs documents (only the newest count),
// and are refused for other options or a mask that hides one of the person's docs.
TEST(PersonActivityTest, TopicStrengthsEqualTheScan) {
  using testing::Corpus;
  using testing::kDay;
  using testing::kT0;
  Corpus c;
  const std::vector<std::string> topics = {"x", "y", "z", "w"};
  const size_t n = PersonActivity::kStrengthDocs + 300;
  for (size_t i = 0; i < n; ++i) {
    const std::string q = "q" + std::to_string(i);
    // The oldest 300 questions are on topic "old" only: outside bob's newest kStrengthDocs answers.
    c.Question(q, "ann", kT0 + static_cast<int64_t>(i) * 3600,
               i < 300 ? std::vector<std::string>{"old"} : std::vector<std::string>{topics[i % 4], topics[(i / 4) % 4]});
    c.Answer("a" + std::to_string(i), q, "bob", kT0 + static_cast<int64_t>(i) * 3600 + 60, i % 7 == 0);
  }
  c.Question("qi", "cat", kT0 + 400 * kDay, {"x"}, "internal");
  c.Answer("ai", "qi", "cat", kT0 + 401 * kDay, false, "internal");
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, BuildSnapshot(c.docs, c.persons));
  const Snapshot& s = *snap;
  auto a = PersonActivity::Build(s);
  std::vector<uint32_t> ids;
  for (const char* t : {"x", "y", "z", "w", "old"}) ids.push_back(s.FindTopic(t));
  for (uint32_t id : ids) ASSERT_NE(id, kNone);
  TopicStrengthOptions so;
  so.max_docs = PersonActivity::kStrengthDocs;  // what RankExperts' explanations ask
  for (const char* who : {"ann", "bob", "cat"}) {
    const uint32_t p = s.FindPerson(who);
    ASSERT_NE(p, kNone);
    const std::vector<double> want = TopicStrengthsOf(s, p, ids, so);
    std::vector<double> got;
    ASSERT_TRUE(a->TopicStrengths(s, p, so, ids, &got)) << who;
    EXPECT_EQ(got, want) << who;
  }
  const uint32_t bob = s.FindPerson("bob");
  std::vector<double> got;
  ASSERT_TRUE(a->TopicStrengths(s, bob, so, ids, &got));
  EXPECT_GT(got[0], 0);
  EXPECT_EQ(got[4], 0);  // "old": only in bob's answers older than the newest kStrengthDocs
  TopicStrengthOptions other = so;
  other.now = kT0;
  EXPECT_FALSE(a->TopicStrengths(s, bob, other, ids, &got));
  other = so;
  other.max_docs = 0;
  EXPECT_FALSE(a->TopicStrengths(s, bob, other, ids, &got));
  other = so;
  const std::vector<std::string> pub = {"public"};
  other.group_mask = s.GroupMask(pub);
  EXPECT_TRUE(a->TopicStrengths(s, bob, other, ids, &got));  // bob wrote only public answers
  EXPECT_FALSE(a->TopicStrengths(s, s.FindPerson("cat"), other, ids, &got));
}

}  // namespace
}  // namespace whoknows::engine
