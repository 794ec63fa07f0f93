// The learned ranker of an index: history from the index, the training /
// fallback switch, storage in the index (reloaded after a restart), and the
// backend serving it (FindExperts, GetStats) with training in the background.

#include "whoknows/ranker/ranker.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../indexer/test_util.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/service/backend.h"

namespace whoknows::ranker {
namespace {

using indexer::Record;
using indexer::RecordKind;
using whoknows::testing::TempDir;

constexpr int64_t kT0 = 1600000000;

Record Rec(const std::string& id, RecordKind kind, const std::string& author, const std::string& thread, int64_t t,
           const std::string& text) {
  Record r;
  r.source = "jsonl:qa";
  r.id = "jsonl:qa:" + id;
  r.thread_id = "jsonl:qa:" + thread;
  if (id != thread) r.reply_to = r.thread_id;
  r.kind = kind;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = author;
  r.text = text;
  r.visibility = "public";
  r.community = "qa";
  r.timestamp = t;
  return r;
}

std::string Person(const std::string& name) { return "mail:" + name + "@example.org"; }

// A Q&A site where each of six experts answers (and is accepted on) questions
// about their own subject, asked by twelve askers; every third question also
// gets a second, not accepted answer from another expert. Deterministic.
std::vector<Record> QaSite(int questions) {
  static const char* kSubjects[6][3] = {{"compiler", "linker", "template"},   {"garden", "tomato", "compost"},
                                        {"violin", "bow", "rosin"},           {"espresso", "grinder", "crema"},
                                        {"kernel", "scheduler", "interrupt"}, {"glacier", "moraine", "ice"}};
  std::vector<Record> out;
  uint32_t x = 12345;
  auto rnd = [&](uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 16) % n;
  };
  int64_t t = kT0;
  // Every expert is active before the first question.
  for (int e = 0; e < 6; ++e) {
    const std::string id = "intro" + std::to_string(e);
    out.push_back(Rec(id, RecordKind::kPost, "expert" + std::to_string(e), id, t += 3600,
                      std::string("hello, I work on ") + kSubjects[e][0]));
  }
  for (int q = 0; q < questions; ++q) {
    const int e = static_cast<int>(rnd(6));
    const std::string qid = "q" + std::to_string(q);
    std::string text = "how do I fix my " + std::string(kSubjects[e][rnd(3)]) + " and the " + kSubjects[e][rnd(3)] +
                       " when the " + kSubjects[e][rnd(3)] + " fails";
    Record question = Rec(qid, RecordKind::kQuestion, "asker" + std::to_string(rnd(12)), qid, t += 86400, text);
    question.title = std::string("trouble with ") + kSubjects[e][rnd(3)];
    question.accepted_answer_id = "jsonl:qa:a" + std::to_string(q);
    out.push_back(question);
    Record answer = Rec("a" + std::to_string(q), RecordKind::kAnswer, "expert" + std::to_string(e), qid, t += 3600,
                        std::string("use a better ") + kSubjects[e][rnd(3)]);
    answer.accepted = true;
    out.push_back(answer);
    if (q % 3 == 0) {
      out.push_back(Rec("b" + std::to_string(q), RecordKind::kAnswer, "expert" + std::to_string((e + 1) % 6), qid,
                        t += 3600, "maybe try again"));
    }
  }
  return out;
}

struct Index {
  std::unique_ptr<indexer::IndexReader> reader;
  std::shared_ptr<const engine::Snapshot> snap;
};

absl::StatusOr<Index> Build(const std::string& dir, const std::vector<Record>& records) {
  {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(dir, {}));
    for (const Record& r : records) WK_RETURN_IF_ERROR(w->Add(r));
    WK_RETURN_IF_ERROR(w->Commit());
  }
  Index ix;
  WK_ASSIGN_OR_RETURN(ix.reader, indexer::IndexReader::Open(dir));
  std::vector<indexer::StoredDoc> docs;
  WK_RETURN_IF_ERROR(ix.reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
  WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, ix.reader->ListPersons());
  WK_ASSIGN_OR_RETURN(ix.snap, engine::BuildSnapshot(docs, persons));
  return ix;
}

RankerOptions Options() {
  RankerOptions o;
  o.train.min_groups = 25;
  return o;
}

TEST(RankerTest, HistoryFromTheIndex) {
  TempDir dir;
  std::vector<Record> recs;
  auto add = [&](Record r, bool accepted = false) {
    r.accepted = accepted;
    recs.push_back(std::move(r));
  };
  // q0: erin's accepted answer is her first activity: she was not active before q0.
  add(Rec("q0", RecordKind::kQuestion, "bob", "q0", kT0, "cache question"));
  add(Rec("a0", RecordKind::kAnswer, "erin", "q0", kT0 + 100, "cache answer"), true);
  // q1: erin accepted (grade 2); fred answers too but was never active before q1.
  add(Rec("q1", RecordKind::kQuestion, "alice", "q1", kT0 + 200, "linker question"));
  add(Rec("a1", RecordKind::kAnswer, "erin", "q1", kT0 + 300, "linker answer"), true);
  add(Rec("b1", RecordKind::kAnswer, "fred", "q1", kT0 + 310, "linker guess"));
  // q2: answered (erin, fred), nothing accepted.
  add(Rec("q2", RecordKind::kQuestion, "alice", "q2", kT0 + 400, "template question"));
  add(Rec("a2", RecordKind::kAnswer, "erin", "q2", kT0 + 410, "template answer"));
  add(Rec("b2", RecordKind::kAnswer, "fred", "q2", kT0 + 420, "template guess"));
  // m1: a mail thread started by alice; erin replies, alice's own reply does not count.
  add(Rec("m1", RecordKind::kMail, "alice", "m1", kT0 + 500, "build farm down"));
  add(Rec("m2", RecordKind::kMail, "erin", "m1", kT0 + 510, "rebooted it"));
  add(Rec("m3", RecordKind::kMail, "alice", "m1", kT0 + 520, "thanks"));
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), recs));
  const engine::Snapshot& s = *ix.snap;
  auto id = [&](uint32_t p) { return s.person(p).id; };
  auto text = [&](const HistoryQuery& h) { return s.doc(h.doc).timestamp; };

  std::vector<HistoryQuery> h = CollectHistory(s);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(text(h[0]), kT0 + 200);  // q1
  ASSERT_EQ(h[0].truth.size(), 1u);
  EXPECT_EQ(id(h[0].truth[0].first), Person("erin"));
  EXPECT_EQ(h[0].truth[0].second, 2);
  EXPECT_EQ(id(h[0].asker), Person("alice"));
  EXPECT_EQ(h[0].now, kT0 + 200);
  EXPECT_EQ(text(h[1]), kT0 + 500);  // m1
  ASSERT_EQ(h[1].truth.size(), 1u);
  EXPECT_EQ(id(h[1].truth[0].first), Person("erin"));
  EXPECT_EQ(h[1].truth[0].second, 1);

  // Every answered question, graded: q2 joins with erin 1 and fred 1 (active since b1).
  h = CollectHistory(s, {.other_answerers = true});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(text(h[1]), kT0 + 400);
  ASSERT_EQ(h[1].truth.size(), 2u);
  for (const auto& [p, grade] : h[1].truth) EXPECT_EQ(grade, 1) << id(p);
  EXPECT_EQ(h[0].truth.size(), 1u);  // fred's b1 still does not count for q1

  // The history queries find their text in the index.
  ASSERT_OK(SearchHistory(ix.reader.get(), s, 50, 4096, std::span<HistoryQuery>(h)));
  EXPECT_FALSE(h[0].hits.empty());
}

TEST(RankerTest, SmallHistoryKeepsTheBlendEnoughTrainsAModelThatSurvivesReopen) {
  TempDir dir;
  const RankerOptions o = Options();
  {
    ASSERT_OK_AND_ASSIGN(Index small, Build(dir.Sub("small"), QaSite(12)));
    ASSERT_OK_AND_ASSIGN(Ranker r, Train(small.reader.get(), *small.snap, o));
    EXPECT_FALSE(r.learned());
    EXPECT_EQ(r.history, 12u);
    EXPECT_NE(r.Describe().find("blend (fallback"), std::string::npos) << r.Describe();
    EXPECT_NE(r.trained_at, 0);
    // The decision is stored too: the policy waits for more history.
    EXPECT_FALSE(NeedsTraining(r, 12, o));
    EXPECT_FALSE(NeedsTraining(r, o.train.min_groups - 1, o));
    EXPECT_TRUE(NeedsTraining(r, o.train.min_groups, o));
  }

  std::vector<float> before;
  std::vector<engine::CandidateFeatures> rows;
  std::string described;
  {
    ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), QaSite(90)));
    ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), *ix.snap, o));
    ASSERT_TRUE(r.learned()) << r.Describe();
    EXPECT_EQ(r.history, 90u);
    EXPECT_GE(r.groups, o.train.min_groups);
    EXPECT_NE(r.Describe().find("learned (xgboost rank:pairwise"), std::string::npos) << r.Describe();
    described = r.Describe();
    // Features of one query, scored by the model as trained.
    std::vector<HistoryQuery> h = CollectHistory(*ix.snap);
    ASSERT_FALSE(h.empty());
    ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 200, 4096, std::span<HistoryQuery>(h).last(1)));
    engine::AskOptions ao;
    ASSERT_OK_AND_ASSIGN(rows, engine::ExtractFeatures(*ix.snap, h.back().hits, ao));
    ASSERT_GE(rows.size(), 2u);
    ASSERT_OK_AND_ASSIGN(before, r.model->Predict(rows));
    // Nothing stored yet.
    ASSERT_OK_AND_ASSIGN(Ranker none, Load(ix.reader.get()));
    EXPECT_FALSE(none.learned());
    EXPECT_EQ(none.note, "no model stored");
    EXPECT_FALSE(NeedsTraining(none, 0, o));  // nothing to learn from yet
    EXPECT_TRUE(NeedsTraining(none, 1, o));
    ix.reader.reset();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(dir.Sub("db"), {}));
    ASSERT_OK(Store(w.get(), r));
  }
  // A new reader (as after a restart) loads the same model.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(dir.Sub("db")));
  ASSERT_OK_AND_ASSIGN(Ranker loaded, Load(reader.get()));
  ASSERT_TRUE(loaded.learned()) << loaded.Describe();
  EXPECT_EQ(loaded.Describe(), described);
  EXPECT_EQ(loaded.history, 90u);
  EXPECT_FALSE(NeedsTraining(loaded, 90, Options()));
  EXPECT_FALSE(NeedsTraining(loaded, 90 + Options().retrain_min_new - 1, Options()));
  EXPECT_TRUE(NeedsTraining(loaded, 90 + Options().retrain_min_new, Options()));
  ASSERT_OK_AND_ASSIGN(std::vector<float> after, loaded.model->Predict(rows));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_FLOAT_EQ(after[i], before[i]) << i;
}

// A training on a server that ingests outlives several commits; Xapian then discards the revision
// its reader reads (DatabaseModifiedError). The history search moves to the newest revision and
// goes on: the same matches among the snapshot's documents (bench/RESULTS.md "Memory after 100 ingests").
TEST(RankerTest, HistorySearchGoesOnAfterCommitsDiscardTheReadersRevision) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), QaSite(60)));
  std::vector<HistoryQuery> expected = CollectHistory(*ix.snap);
  ASSERT_GE(expected.size(), 10u);
  // Every match (1000 > the index), so the answers compare as sets.
  ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 1000, 4096, std::span<HistoryQuery>(expected)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> stale, indexer::IndexReader::Open(dir.Sub("db")));
  ASSERT_OK(stale->GetDoc(ix.snap->doc(expected[0].doc).docid).status());
  // Commits that rewrite the blocks of the reader's revision (the same terms, more documents),
  // until it is gone: what the history search has to survive.
  auto gone = [&] {
    for (const HistoryQuery& q : expected) {
      if (stale->GetDoc(ix.snap->doc(q.doc).docid).status().code() == absl::StatusCode::kAborted) return true;
    }
    return stale->Search("compiler linker template garden violin", {}, 1000).status().code() ==
           absl::StatusCode::kAborted;
  };
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(dir.Sub("db"), {}));
    for (int c = 0; c < 40 && !gone(); ++c) {
      std::vector<Record> more = QaSite(60);
      for (Record& r : more) {
        const std::string suffix = "-c" + std::to_string(c);
        r.id += suffix;
        r.thread_id += suffix;
        if (!r.reply_to.empty()) r.reply_to += suffix;
        if (!r.accepted_answer_id.empty()) r.accepted_answer_id += suffix;
        r.timestamp += 400LL * 86400;  // after the snapshot's history
        ASSERT_OK(w->Add(r));
      }
      ASSERT_OK(w->Commit());
    }
  }
  ASSERT_TRUE(gone());
  // ...and SearchHistory on it answers every history query with the snapshot's documents.
  std::vector<HistoryQuery> h = CollectHistory(*ix.snap);
  ASSERT_OK(SearchHistory(stale.get(), *ix.snap, 1000, 4096, std::span<HistoryQuery>(h)));
  ASSERT_EQ(h.size(), expected.size());
  for (size_t i = 0; i < h.size(); ++i) {
    std::vector<uint32_t> got, want;
    for (const indexer::SearchHit& x : h[i].hits) {
      if (ix.snap->DocIndex(x.docid) != engine::kNone) got.push_back(x.docid);
    }
    for (const indexer::SearchHit& x : expected[i].hits) want.push_back(x.docid);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_FALSE(want.empty()) << i;
    EXPECT_EQ(got, want) << i;
  }
}

TEST(RankerTest, AModelOverOtherFeaturesIsNotUsed) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), QaSite(60)));
  ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), *ix.snap, Options()));
  ASSERT_TRUE(r.learned());
  ASSERT_OK_AND_ASSIGN(std::string value, Encode(r));
  nlohmann::json j = nlohmann::json::parse(value);
  j["features"][0] = "a-feature-of-another-build";
  ASSERT_OK_AND_ASSIGN(Ranker stale, Parse(j.dump()));
  EXPECT_FALSE(stale.learned());
  EXPECT_TRUE(stale.stale);
  EXPECT_TRUE(NeedsTraining(stale, stale.history, Options()));
  EXPECT_FALSE(Parse("{not json").ok());
}

TEST(RankerTest, TheBlendWeightIsStoredWithTheModel) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), QaSite(60)));
  RankerOptions o = Options();
  o.train.blend_weight = 0.3;
  ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), *ix.snap, o));
  ASSERT_TRUE(r.learned());
  EXPECT_DOUBLE_EQ(r.model->blend_weight(), 0.3);
  EXPECT_NE(r.Describe().find("blend weight 0.3"), std::string::npos) << r.Describe();
  ASSERT_OK_AND_ASSIGN(std::string value, Encode(r));
  ASSERT_OK_AND_ASSIGN(Ranker back, Parse(value));
  ASSERT_TRUE(back.learned());
  EXPECT_DOUBLE_EQ(back.model->blend_weight(), 0.3);
  // A stored value from before the blend weight: the model alone.
  nlohmann::json j = nlohmann::json::parse(value);
  j.erase("blend_weight");
  ASSERT_OK_AND_ASSIGN(Ranker old, Parse(j.dump()));
  ASSERT_TRUE(old.learned());
  EXPECT_EQ(old.model->blend_weight(), 0);
}

// The backend serves the stored ranker, trains it in the background after an
// ingest, and a restarted (read-only) backend serves the same one.
absl::StatusOr<std::string> WaitForRanker(service::Backend* b, const std::string& prefix) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    WK_ASSIGN_OR_RETURN(indexer::IndexStats st, b->GetStats());
    if (st.ranker.rfind(prefix, 0) == 0) return st.ranker;
    if (std::chrono::steady_clock::now() > deadline) return absl::DeadlineExceededError(st.ranker);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(RankerBackendTest, TrainsAfterIngestServesAndReloadsAfterRestart) {
  TempDir dir;
  service::BackendOptions o;
  o.writable = true;
  o.train_ranker = true;
  o.ranker = Options();
  service::ExpertsQuery q;
  q.text = "my espresso grinder makes no crema";
  std::string served;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<service::Backend> b, service::Backend::Open(dir.Sub("db"), o));
    std::vector<Record> site = QaSite(90);
    std::vector<Record> first(site.begin(), site.begin() + 20);
    ASSERT_OK(b->Ingest(first, {}).status());
    // Too little history: the blend, and it says so.
    ASSERT_OK_AND_ASSIGN(std::string blend, WaitForRanker(b.get(), "blend (fallback"));
    ASSERT_OK_AND_ASSIGN(service::ExpertsAnswer a, b->FindExperts(q, service::Caller{}));
    ASSERT_FALSE(a.experts.empty());
    EXPECT_EQ(a.ranker, blend);
    EXPECT_NE(a.experts[0].reason.find("ranked by the hand-tuned blend"), std::string::npos) << a.experts[0].reason;

    ASSERT_OK(b->Ingest(std::vector<Record>(site.begin() + 20, site.end()), {}).status());
    ASSERT_OK_AND_ASSIGN(served, WaitForRanker(b.get(), "learned ("));
    ASSERT_OK_AND_ASSIGN(a, b->FindExperts(q, service::Caller{}));
    ASSERT_FALSE(a.experts.empty());
    EXPECT_EQ(a.ranker, served);
    EXPECT_NE(a.experts[0].reason.find("ranked by the learned model"), std::string::npos) << a.experts[0].reason;
    bool has_model = false;
    for (const auto& [name, v] : a.experts[0].components) has_model |= name == "model";
    EXPECT_TRUE(has_model);
    EXPECT_EQ(a.experts[0].person_id, Person("expert3"));  // the espresso expert
    // Current: asking again trains nothing.
    ASSERT_OK_AND_ASSIGN(service::RankerTraining t, b->TrainRanker(false));
    EXPECT_FALSE(t.trained);
    EXPECT_EQ(t.ranker, served);
  }
  service::BackendOptions ro;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<service::Backend> b, service::Backend::Open(dir.Sub("db"), ro));
  ASSERT_OK_AND_ASSIGN(indexer::IndexStats st, b->GetStats());
  EXPECT_EQ(st.ranker, served);
  ASSERT_OK_AND_ASSIGN(service::ExpertsAnswer a, b->FindExperts(q, service::Caller{}));
  EXPECT_EQ(a.ranker, served);
  EXPECT_EQ(b->TrainRanker(true).status().code(), absl::StatusCode::kFailedPrecondition);
}

// A mailing list: 160 threads over 160 days, each started by one of twelve
// askers about one of six subjects and answered by one or two of four busy
// repliers in words of their own. Every third day someone new posts once
// about a subject (a strong text match who never replies). Halfway, Zed, who
// writes nothing else, posts the only message with "zyphorette".
std::vector<Record> BusyList() {
  static const char* kSubjects[6][3] = {{"compiler", "linker", "template"},   {"garden", "tomato", "compost"},
                                        {"violin", "bow", "rosin"},           {"espresso", "grinder", "crema"},
                                        {"kernel", "scheduler", "interrupt"}, {"glacier", "moraine", "ice"}};
  static const char* kReplies[] = {"restart it and check the logs", "works for me after an update",
                                   "please send the full output", "known issue, fixed upstream"};
  std::vector<Record> out;
  uint32_t x = 4242;
  auto rnd = [&](uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 16) % n;
  };
  for (int i = 0; i < 160; ++i) {
    const int64_t t = kT0 + i * 86400;
    const auto& w = kSubjects[rnd(6)];
    const std::string tid = "t" + std::to_string(i);
    out.push_back(Rec(tid, RecordKind::kMail, "asker" + std::to_string(rnd(12)), tid, t,
                      std::string("trouble with the ") + w[rnd(3)] + " and the " + w[rnd(3)] + " again"));
    const uint32_t r1 = rnd(4);
    out.push_back(Rec(tid + "r", RecordKind::kMail, "busy" + std::to_string(r1), tid, t + 3600, kReplies[rnd(4)]));
    if (i % 2 == 0) {
      out.push_back(Rec(tid + "s", RecordKind::kMail, "busy" + std::to_string((r1 + 1 + rnd(3)) % 4), tid, t + 7200,
                        kReplies[rnd(4)]));
    }
    if (i % 3 == 0) {
      const std::string pid = "p" + std::to_string(i);
      out.push_back(Rec(pid, RecordKind::kMail, "once" + std::to_string(i), pid, t + 600,
                        std::string("notes on the ") + w[0] + ", the " + w[1] + " and the " + w[2]));
    }
    if (i == 80) {
      out.push_back(
          Rec("zed", RecordKind::kMail, "zed", "zed", t + 900, "Calibrating the zyphorette burr takes two passes."));
    }
    if (i >= 100 && i < 106) {  // Kim's six posts on the frobnicator, all she ever writes
      const std::string kid = "kim" + std::to_string(i);
      out.push_back(Rec(kid, RecordKind::kMail, "kim", kid, t + 1200,
                        std::string("frobnicator gasket, part ") + std::to_string(i - 99) + ": seal it before the notes"));
    }
    if (i == 120) {  // busy2's only message with "notes", a word of every once-poster
      out.push_back(Rec(tid + "n", RecordKind::kMail, "busy2", tid, t + 9000, "see my notes"));
    }
  }
  return out;
}

double Component(const engine::Expert& e, std::string_view name) {
  for (const auto& [k, v] : e.components) {
    if (k == name) return v;
  }
  return -1;
}
double ModelScore(const engine::Expert& e) { return Component(e, "model"); }

// People with direct evidence come first (engine::AskOptions::evidence_first):
// a model trained on a history where the busiest repliers answer everything
// must not put them, without a single matching document, above the only
// author of a rare term; nor may the hand-tuned blend.
TEST(RankerTest, TheOnlyAuthorOfARareTermRanksFirstUnderTheLearnedModelAndTheBlend) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  ASSERT_OK_AND_ASSIGN(Index ix, Build(db, BusyList()));
  {  // trained on the list's own history (its threads and their repliers), stored with the index
    RankerOptions o;
    o.train.min_groups = 30;
    ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), *ix.snap, o));
    ASSERT_TRUE(r.learned()) << r.Describe();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, {}));
    ASSERT_OK(Store(w.get(), r));
  }
  ASSERT_OK(ix.reader->Reopen());
  ASSERT_OK_AND_ASSIGN(Ranker stored, Load(ix.reader.get()));
  ASSERT_TRUE(stored.learned()) << stored.Describe();
  const engine::Snapshot& s = *ix.snap;
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, ix.reader->Search("zyphorette", {}, 200));
  ASSERT_EQ(hits.size(), 1u);

  for (const bool learned : {true, false}) {
    SCOPED_TRACE(learned ? "learned model" : "hand-tuned blend");
    engine::AskOptions o;
    o.k = 5;
    o.model = learned ? stored.model : nullptr;
    ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> top, engine::RankExperts(s, hits, o));
    ASSERT_GE(top.size(), 2u);  // Zed and the busy people the candidate generators add
    EXPECT_EQ(top[0].id, "mail:zed@example.org");
    EXPECT_NE(top[0].reason.find("wrote 1 matching message"), std::string::npos) << top[0].reason;
    for (size_t i = 1; i < top.size(); ++i) {
      // Everyone else has no matching document, and says so and why they are listed.
      EXPECT_NE(top[i].reason.find("no matching document; "), std::string::npos)
          << top[i].id << ": " << top[i].reason;
      EXPECT_NE(top[i].reason.find("listed after everyone with more matching evidence"), std::string::npos)
          << top[i].reason;
      // Scores never rise down the list (the lower tier's are capped at Zed's).
      EXPECT_LE(top[i].score, top[i - 1].score) << top[i].id;
      EXPECT_TRUE(top[i].evidence.empty()) << top[i].id;
    }
    if (learned) {
      // The history favours activity: in one list by the model's score, the busy
      // people without a matching document are above Zed (what evidence_first prevents).
      bool busy_above = false;
      for (size_t i = 1; i < top.size(); ++i) {
        busy_above |= ModelScore(top[i]) > ModelScore(top[0]) && top[i].id.find("busy") != std::string::npos;
      }
      EXPECT_TRUE(busy_above);
      o.evidence_first = false;
      ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> mixed, engine::RankExperts(s, hits, o));
      ASSERT_FALSE(mixed.empty());
      EXPECT_NE(mixed[0].id, "mail:zed@example.org");
      EXPECT_EQ(mixed[0].reason.find("listed after"), std::string::npos) << mixed[0].reason;
    }
  }
}

// Weak evidence (engine::AskOptions::min_vote_share): Kim wrote the six posts
// on the frobnicator and nothing else; busy2, among the most active people of
// the list, wrote one message with "notes" (a word of every once-poster's
// post; busy1 took part in its thread). Asked "frobnicator notes", the model
// (which favours activity) puts the busy people above Kim unless a vote under a
// tenth of the best one is listed with the evidence-less.
TEST(RankerTest, StrongEvidenceRanksAboveABusyPersonWithOnlyAWeakMatchOfACommonWord) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  ASSERT_OK_AND_ASSIGN(Index ix, Build(db, BusyList()));
  RankerOptions ro;
  ro.train.min_groups = 30;
  ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), *ix.snap, ro));
  ASSERT_TRUE(r.learned()) << r.Describe();
  const engine::Snapshot& s = *ix.snap;
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, ix.reader->Search("frobnicator notes", {}, 200));
  const std::string kim = "mail:kim@example.org", busy2 = "mail:busy2@example.org";

  engine::AskOptions o;  // the default share
  ASSERT_GT(o.min_vote_share, 0);
  o.k = 20;
  o.model = r.model;
  ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> top, engine::RankExperts(s, hits, o));
  ASSERT_GE(top.size(), 5u);
  EXPECT_EQ(top[0].id, kim);
  EXPECT_NE(top[0].reason.find("wrote 6 matching messages"), std::string::npos) << top[0].reason;
  bool busy2_seen = false;
  for (size_t i = 1; i < top.size(); ++i) {
    const engine::Expert& e = top[i];
    SCOPED_TRACE(e.id + ": " + e.reason);
    EXPECT_LE(e.score, top[i - 1].score);  // never rising, though the model scores the busy people higher
    const double vote = Component(e, "vote");
    EXPECT_LT(vote, o.min_vote_share);  // everyone else has weak or no evidence
    EXPECT_NE(e.reason.find(vote > 0 ? "little matching evidence (vote " : "no matching document; "),
              std::string::npos);
    EXPECT_NE(e.reason.find("listed after everyone with more matching evidence (vote at least 10 % of the best)"),
              std::string::npos);
    if (e.id == busy2) {
      busy2_seen = true;
      EXPECT_GT(vote, 0);
      EXPECT_GT(ModelScore(e), ModelScore(top[0]));  // the model alone would put busy2 first
      EXPECT_EQ(e.score, top[0].score);              // capped at the weakest upper-tier score (Kim's)
    }
  }
  EXPECT_TRUE(busy2_seen);

  // Before (any vote counts): a busy person with the weak match is above Kim.
  o.min_vote_share = 0;
  ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> before, engine::RankExperts(s, hits, o));
  ASSERT_FALSE(before.empty());
  EXPECT_NE(before[0].id, kim);
  EXPECT_GT(Component(before[0], "vote"), 0);
  EXPECT_EQ(before[0].reason.find("little matching evidence"), std::string::npos) << before[0].reason;
  EXPECT_NE(before[0].id.find("busy"), std::string::npos) << before[0].id;
}

// The same through the service (ExpertsQuery, as FindExperts' min_vote_share
// and mix_evidence set it): the caller chooses how weak evidence is listed.
TEST(RankerBackendTest, TheCallerChoosesHowWeakEvidenceIsListed) {
  TempDir dir;
  service::BackendOptions o;
  o.writable = true;
  o.train_ranker = true;
  o.ranker = Options();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<service::Backend> b, service::Backend::Open(dir.Sub("db"), o));
  ASSERT_OK(b->Ingest(BusyList(), {}).status());
  ASSERT_OK(WaitForRanker(b.get(), "learned (").status());
  const std::string kim = "mail:kim@example.org";
  auto any_reason = [](const service::ExpertsAnswer& a, const std::string& words) {
    return std::any_of(a.experts.begin(), a.experts.end(),
                       [&](const service::ExpertResult& e) { return e.reason.find(words) != std::string::npos; });
  };
  service::ExpertsQuery q;
  q.text = "frobnicator notes";
  q.k = 20;
  ASSERT_OK_AND_ASSIGN(service::ExpertsAnswer tiered, b->FindExperts(q, service::Caller{}));
  ASSERT_GE(tiered.experts.size(), 5u);
  EXPECT_EQ(tiered.experts[0].person_id, kim);
  EXPECT_TRUE(any_reason(tiered, "little matching evidence (vote "));

  q.min_vote_share = 0;  // any vote counts: a busy person with the weak match first
  ASSERT_OK_AND_ASSIGN(service::ExpertsAnswer any_vote, b->FindExperts(q, service::Caller{}));
  ASSERT_FALSE(any_vote.experts.empty());
  EXPECT_NE(any_vote.experts[0].person_id, kim);
  EXPECT_NE(any_vote.experts[0].person_id.find("busy"), std::string::npos);
  EXPECT_FALSE(any_reason(any_vote, "little matching evidence"));

  q.min_vote_share.reset();
  q.mix_evidence = true;  // one list by score: no tiers, none of their words
  ASSERT_OK_AND_ASSIGN(service::ExpertsAnswer mixed, b->FindExperts(q, service::Caller{}));
  ASSERT_FALSE(mixed.experts.empty());
  EXPECT_NE(mixed.experts[0].person_id, kim);
  EXPECT_FALSE(any_reason(mixed, "listed after everyone"));
  EXPECT_FALSE(any_reason(mixed, "little matching evidence"));
  for (size_t i = 1; i < mixed.experts.size(); ++i) EXPECT_LE(mixed.experts[i].score, mixed.experts[i - 1].score);

  q.mix_evidence = false;
  q.min_vote_share = 1.5;
  EXPECT_EQ(b->FindExperts(q, service::Caller{}).status().code(), absl::StatusCode::kInvalidArgument);
}

// An index of two communities with history, a Q&A site and a mailing list:
// each gets a model of its own (stored and loaded with the index), and a
// question is ranked by the model of the community its matches are in.
TEST(RankerTest, EachCommunityWithEnoughHistoryGetsItsOwnModel) {
  TempDir dir;
  std::vector<Record> records = QaSite(90);
  for (Record r : BusyList()) {
    r.community = "list";
    records.push_back(std::move(r));
  }
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), records));
  const engine::Snapshot& s = *ix.snap;
  ASSERT_OK_AND_ASSIGN(Ranker r, Train(ix.reader.get(), s, Options()));
  ASSERT_TRUE(r.learned()) << r.Describe();
  ASSERT_EQ(r.by_community.size(), 2u) << r.Describe();
  std::vector<std::string> names;
  for (const CommunityModel& c : r.by_community) {
    names.push_back(c.community);
    EXPECT_GE(c.groups, Options().train.min_groups) << c.community;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"list", "qa"}));
  EXPECT_NE(r.ModelFor("qa"), r.ModelFor("list"));
  EXPECT_NE(r.ModelFor("qa"), nullptr);
  EXPECT_NE(r.ModelFor("elsewhere"), nullptr);  // another community: the model with the most history
  EXPECT_NE(r.DescribeFor("list").find("community list"), std::string::npos) << r.DescribeFor("list");
  EXPECT_EQ(r.Describe().rfind("learned per community (history queries: ", 0), 0u) << r.Describe();

  // The question's community: where most of its matches are.
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> qa_hits, ix.reader->Search("how do I fix my violin bow", {}, 50));
  EXPECT_EQ(QuestionCommunity(s, qa_hits), "qa");
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> list_hits, ix.reader->Search("frobnicator gasket seal", {}, 50));
  EXPECT_EQ(QuestionCommunity(s, list_hits), "list");
  EXPECT_EQ(QuestionCommunity(s, {}), "");

  // Stored and loaded with the index.
  ASSERT_OK_AND_ASSIGN(std::string value, Encode(r));
  ASSERT_OK_AND_ASSIGN(Ranker back, Parse(value));
  ASSERT_EQ(back.by_community.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.by_community[i].community, r.by_community[i].community);
    EXPECT_EQ(back.by_community[i].groups, r.by_community[i].groups);
  }
  EXPECT_EQ(back.Describe(), r.Describe());

  // One model for the whole index when asked.
  RankerOptions one = Options();
  one.per_community = false;
  ASSERT_OK_AND_ASSIGN(Ranker single, Train(ix.reader.get(), s, one));
  EXPECT_TRUE(single.learned());
  EXPECT_TRUE(single.by_community.empty());
}

// A mail list where a thread start's body is mostly a session dump that matches another
// thread better than its subject's thread: the subject's hits weighed up
// (SearchConversationStart) bring the subject's thread and its replier first; weight 0 and a
// Q&A question are searched as the whole text, as before.
std::vector<Record> MailList() {
  std::vector<Record> out;
  int64_t t = kT0;
  auto mail = [&](const std::string& id, const std::string& author, const std::string& thread,
                  const std::string& subject, const std::string& text) {
    Record r = Rec(id, RecordKind::kMail, author, thread, t += 3600, text);
    r.source = "mbox:devel";
    r.community = "devel";
    r.title = subject;
    out.push_back(std::move(r));
  };
  const std::string dump = "platform x86_64 locale utf8 attached base packages stats utils datasets methods";
  // Gina answers every graphics device question, with short replies.
  for (int i = 0; i < 3; ++i) {
    const std::string th = "g" + std::to_string(i);
    mail(th, "asker" + std::to_string(i), th, "graphics device crash in cairo", "the cairo device crashes");
    mail(th + "r", "gina", th, "graphics device crash in cairo", "fixed in trunk, a cairo surface bug");
  }
  // Bob answers session and locale questions, whose messages repeat the dump.
  for (int i = 0; i < 3; ++i) {
    const std::string th = "s" + std::to_string(i);
    mail(th, "asker" + std::to_string(3 + i), th, "odd session setup", dump + " " + dump);
    mail(th + "r", "bob", th, "odd session setup", "your locale and platform: " + dump);
  }
  // Unrelated traffic, so that the terms above are not in most documents.
  for (int i = 0; i < 20; ++i) {
    const std::string th = "o" + std::to_string(i);
    mail(th, "other" + std::to_string(i % 4), th, "release schedule " + std::to_string(i),
         "the next release freezes on friday");
  }
  return out;
}

TEST(RankerTest, AConversationStartIsSearchedWithItsSubjectWeighedUp) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), MailList()));
  const std::string subject = "graphics device crash";
  const std::string body = "R segfaults when plotting. sessionInfo: platform x86_64 locale utf8 attached base "
                           "packages stats utils datasets methods";
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> whole,
                       ix.reader->Search(subject + "\n" + body, indexer::SearchFilter{}, 50));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> w0,
                       SearchConversationStart(ix.reader.get(), subject, body, 4096, 50, 0.0));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> w1,
                       SearchConversationStart(ix.reader.get(), subject, body, 4096, 50, 1.0));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> untitled,
                       SearchConversationStart(ix.reader.get(), "", body, 4096, 50, 1.0));
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> body_only, ix.reader->Search(body, indexer::SearchFilter{}, 50));
  auto ids = [](const std::vector<indexer::SearchHit>& h) {
    std::vector<std::pair<uint32_t, double>> v;
    for (const indexer::SearchHit& x : h) v.emplace_back(x.docid, x.score);
    return v;
  };
  // Weight 0 and no subject: the whole text, exactly.
  EXPECT_EQ(ids(w0), ids(whole));
  EXPECT_EQ(ids(untitled), ids(body_only));
  // The whole text's best hit is a session thread; with the subject weighed up, a graphics one.
  auto is_graphics = [&](const indexer::SearchHit& h) {
    absl::StatusOr<indexer::DocText> d = ix.reader->GetDoc(h.docid);
    return d.ok() && d->title.starts_with("graphics");
  };
  ASSERT_FALSE(whole.empty());
  ASSERT_FALSE(w1.empty());
  EXPECT_FALSE(is_graphics(whole.front()));
  EXPECT_TRUE(is_graphics(w1.front()));
  EXPECT_LE(w1.size(), 50u);
  for (size_t i = 1; i < w1.size(); ++i) EXPECT_GE(w1[i - 1].score, w1[i].score);

  // Who knows: the thread starter's question goes to gina, the graphics replier, only with the subject.
  engine::AskOptions ao;
  ao.method = engine::Method::kBm25Voting;
  ao.k = 3;
  ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> before, engine::RankExperts(*ix.snap, whole, ao));
  ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> after, engine::RankExperts(*ix.snap, w1, ao));
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(before.front().name, "bob");
  EXPECT_EQ(after.front().name, "gina");

  // The history searches a mail thread start the same way (and with weight 0 as the whole text).
  std::vector<HistoryQuery> h = CollectHistory(*ix.snap);
  ASSERT_FALSE(h.empty());
  std::vector<HistoryQuery> h0 = h;
  ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 50, 4096, std::span<HistoryQuery>(h)));
  ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 50, 4096, std::span<HistoryQuery>(h0), 0.0));
  size_t differ = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(indexer::DocText d, ix.reader->GetDoc(ix.snap->doc(h[i].doc).docid));
    ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> want,
                         SearchConversationStart(ix.reader.get(), d.title, d.text, 4096, 50, kSubjectWeight));
    ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> want0,
                         ix.reader->Search(d.title + "\n" + d.text, indexer::SearchFilter{}, 50));
    EXPECT_EQ(ids(h[i].hits), ids(want)) << i;
    EXPECT_EQ(ids(h0[i].hits), ids(want0)) << i;
    differ += ids(h[i].hits) != ids(h0[i].hits) ? 1 : 0;
  }
  EXPECT_GT(differ, 0u);
}

TEST(RankerTest, AQuestionIsSearchedAsItsWholeTextWhateverTheSubjectWeight) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Index ix, Build(dir.Sub("db"), QaSite(30)));
  std::vector<HistoryQuery> h = CollectHistory(*ix.snap);
  ASSERT_FALSE(h.empty());
  std::vector<HistoryQuery> h0 = h;
  ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 50, 4096, std::span<HistoryQuery>(h), 5.0));
  ASSERT_OK(SearchHistory(ix.reader.get(), *ix.snap, 50, 4096, std::span<HistoryQuery>(h0), 0.0));
  for (size_t i = 0; i < h.size(); ++i) {
    ASSERT_EQ(h[i].hits.size(), h0[i].hits.size()) << i;
    for (size_t j = 0; j < h[i].hits.size(); ++j) {
      EXPECT_EQ(h[i].hits[j].docid, h0[i].hits[j].docid);
      EXPECT_EQ(h[i].hits[j].score, h0[i].hits[j].score);
    }
  }
}

}  // namespace
}  // namespace whoknows::ranker
