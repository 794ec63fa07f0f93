// The learned connect ranking trained at index time, stored in the index's
// metadata and used by the backend's SuggestConnections; with too little
// history it is removed and the hand-tuned ranking answers.

#include "whoknows/service/connect_training.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/connect.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

using whoknows::testing::TempDir;

constexpr int64_t kT0 = 1600000000, kDay = 86400;

// A growing list: people reply to friends of friends (triadic closure), newcomers join.
std::vector<indexer::Record> Growing(int people, int events, uint32_t seed) {
  std::vector<indexer::Record> out;
  std::mt19937 rng(seed);
  std::vector<std::vector<int>> nbr(static_cast<size_t>(people));
  auto add = [&](int from, int to, int64_t t) {
    const std::string root = absl::StrCat("jsonl:ct:m", out.size());
    for (int k = 0; k < 2; ++k) {
      indexer::Record r;
      r.source = "jsonl:ct";
      r.id = k == 0 ? root : root + "-re";
      r.thread_id = root;
      if (k == 1) r.reply_to = root;
      r.kind = indexer::RecordKind::kMail;
      const int who = k == 0 ? to : from;
      r.author_key = absl::StrCat("mail:p", who, "@example.org");
      r.author_name = absl::StrCat("P", who);
      r.text = "notes about packages and builds";
      r.visibility = "public";
      r.timestamp = t + k * 60;
      out.push_back(r);
    }
    nbr[static_cast<size_t>(from)].push_back(to);
    nbr[static_cast<size_t>(to)].push_back(from);
  };
  for (int i = 1; i < 4; ++i) add(i, 0, kT0 + i * kDay);
  int active = 4;
  for (int k = 0; k < events; ++k) {
    const int64_t t = kT0 + (10 + k) * kDay;
    if (active < people && rng() % 4 == 0) {
      const int a = active++;
      add(a, static_cast<int>(rng() % static_cast<uint32_t>(a)), t);
      continue;
    }
    const int a = static_cast<int>(rng() % static_cast<uint32_t>(active));
    const auto& na = nbr[static_cast<size_t>(a)];
    if (na.empty()) continue;
    const auto& nz = nbr[static_cast<size_t>(na[rng() % na.size()])];
    const int b = nz[rng() % nz.size()];
    if (b != a) add(a, b, t);
  }
  return out;
}

std::vector<std::string> Ids(const std::vector<ConnectionResult>& v) {
  std::vector<std::string> out;
  for (const ConnectionResult& c : v) out.push_back(c.person_id);
  return out;
}

// What the engine answers on the index's snapshot with the given model (null: hand-tuned).
std::vector<std::string> EngineIds(const std::string& db, const std::string& person,
                                   std::shared_ptr<const engine::ConnectModel> model) {
  auto reader = indexer::IndexReader::Open(db);
  EXPECT_TRUE(reader.ok());
  std::vector<indexer::StoredDoc> docs;
  EXPECT_TRUE((*reader)->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }).ok());
  auto persons = (*reader)->ListPersons();
  auto snap = engine::BuildSnapshot(docs, *persons);
  EXPECT_TRUE(snap.ok());
  engine::ConnectOptions o;
  o.model = std::move(model);
  auto r = engine::SuggestConnections(**snap, person, {}, o);
  EXPECT_TRUE(r.ok());
  std::vector<std::string> out;
  for (const engine::Connection& c : *r) out.push_back(c.id);
  return out;
}

TEST(ConnectTrainingTest, StoredWithTheIndexAndUsedByTheBackend) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, {}));
    for (const indexer::Record& r : Growing(60, 400, 3)) ASSERT_OK(w->Add(r));
    ASSERT_OK(w->Commit());
  }
  engine::ConnectTrainOptions o;
  o.train.min_groups = 10;
  o.train.rounds = 30;
  ASSERT_OK_AND_ASSIGN(ConnectTrainingReport report, TrainConnectModel(db, o));
  ASSERT_TRUE(report.learned) << report.note;
  EXPECT_GE(report.groups, 10u);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(db));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const engine::ConnectModel> stored, LoadConnectModel(reader.get()));
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->train_groups(), report.groups);
  reader.reset();

  // A re-run that indexed nothing keeps the stored model (`whoknows index` twice); one new
  // document makes it train again.
  EXPECT_FALSE(report.current);
  ASSERT_OK_AND_ASSIGN(ConnectTrainingReport again, TrainConnectModel(db, o, /*only_if_changed=*/true));
  EXPECT_TRUE(again.current) << again.note;
  EXPECT_TRUE(again.learned);
  EXPECT_EQ(again.groups, report.groups);
  EXPECT_EQ(again.seconds_train, 0);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, {}));
    indexer::Record r = Growing(60, 400, 3).back();
    r.id = "jsonl:ct:late";
    r.thread_id = r.id;
    r.reply_to.clear();
    r.timestamp += kDay;
    ASSERT_OK(w->Add(r));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(ConnectTrainingReport retrained, TrainConnectModel(db, o, /*only_if_changed=*/true));
  EXPECT_FALSE(retrained.current) << retrained.note;
  EXPECT_TRUE(retrained.learned) << retrained.note;
  ASSERT_OK_AND_ASSIGN(reader, indexer::IndexReader::Open(db));
  ASSERT_OK_AND_ASSIGN(stored, LoadConnectModel(reader.get()));
  ASSERT_NE(stored, nullptr);
  reader.reset();

  const std::string person = "mail:p0@example.org";
  ConnectQuery q;
  q.person = person;
  q.k = 10;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> b, Backend::Open(db, BackendOptions{}));
    ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> learned, b->SuggestConnections(q, Caller{}));
    ASSERT_FALSE(learned.empty());
    EXPECT_EQ(Ids(learned), EngineIds(db, person, stored));
    EXPECT_NE(Ids(learned), EngineIds(db, person, nullptr));  // the model, not the hand-tuned ranking
    for (const ConnectionResult& c : learned) EXPECT_FALSE(c.reason.empty());
  }

  // Too little history now (a higher bar): the stale model is removed, the hand-tuned ranking answers.
  o.train.min_groups = 100000;
  ASSERT_OK_AND_ASSIGN(ConnectTrainingReport none, TrainConnectModel(db, o));
  EXPECT_FALSE(none.learned);
  ASSERT_OK_AND_ASSIGN(reader, indexer::IndexReader::Open(db));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const engine::ConnectModel> gone, LoadConnectModel(reader.get()));
  EXPECT_EQ(gone, nullptr);
  reader.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> b, Backend::Open(db, BackendOptions{}));
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> hand, b->SuggestConnections(q, Caller{}));
  EXPECT_EQ(Ids(hand), EngineIds(db, person, nullptr));
}

}  // namespace
}  // namespace whoknows::service
