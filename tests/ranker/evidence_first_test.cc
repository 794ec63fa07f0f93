// People with direct evidence come first (AskOptions::evidence_first): a
// learned ranker trained on a history where the busiest repliers answer
// everything must not put them, without a single matching document, above
// the only author of a rare term; nor may the hand-tuned blend. Real index,
// real search, the model trained by ranker::Train, stored and loaded back.

#include <memory>
#include <string>
#include <vector>

#include "../indexer/test_util.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/ranker/ranker.h"

namespace whoknows::ranker {
namespace {

using indexer::Record;
using indexer::RecordKind;
using whoknows::testing::TempDir;

constexpr int64_t kT0 = 1600000000;
constexpr int64_t kDay = 86400;

Record Mail(const std::string& id, const std::string& author, const std::string& thread, int64_t t,
            const std::string& text) {
  Record r;
  r.source = "jsonl:list";
  r.id = "jsonl:list:" + id;
  r.thread_id = "jsonl:list:" + thread;
  if (id != thread) r.reply_to = r.thread_id;
  r.kind = RecordKind::kMail;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = author;
  r.text = text;
  r.visibility = "public";
  r.community = "list";
  r.timestamp = t;
  return r;
}

// A mailing list: 160 threads over 160 days, each started by one of twelve
// askers about one of six subjects and answered by one or two of four busy
// repliers in words of their own. Every third day someone new posts once
// about a subject (a strong text match who never replies). Halfway, Zed, who
// writes nothing else, posts the only message with "zyphorette".
std::vector<Record> List() {
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
    const int64_t t = kT0 + i * kDay;
    const auto& w = kSubjects[rnd(6)];
    const std::string tid = "t" + std::to_string(i);
    out.push_back(Mail(tid, "asker" + std::to_string(rnd(12)), tid, t,
                       std::string("trouble with the ") + w[rnd(3)] + " and the " + w[rnd(3)] + " again"));
    const uint32_t r1 = rnd(4);
    out.push_back(Mail(tid + "r", "busy" + std::to_string(r1), tid, t + 3600, kReplies[rnd(4)]));
    if (i % 2 == 0) {
      out.push_back(Mail(tid + "s", "busy" + std::to_string((r1 + 1 + rnd(3)) % 4), tid, t + 7200, kReplies[rnd(4)]));
    }
    if (i % 3 == 0) {
      const std::string pid = "p" + std::to_string(i);
      out.push_back(Mail(pid, "once" + std::to_string(i), pid, t + 600,
                         std::string("notes on the ") + w[0] + ", the " + w[1] + " and the " + w[2]));
    }
    if (i == 80) out.push_back(Mail("zed", "zed", "zed", t + 900, "Calibrating the zyphorette burr takes two passes."));
  }
  return out;
}

TEST(EvidenceFirstTest, TheOnlyAuthorOfARareTermRanksFirstUnderTheLearnedModelAndTheBlend) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, {}));
    for (const Record& r : List()) ASSERT_OK(w->Add(r));
    ASSERT_OK(w->Commit());
  }
  auto snapshot = [&](indexer::IndexReader* reader) -> absl::StatusOr<std::shared_ptr<const engine::Snapshot>> {
    std::vector<indexer::StoredDoc> docs;
    WK_RETURN_IF_ERROR(reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
    WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, reader->ListPersons());
    return engine::BuildSnapshot(docs, persons);
  };
  {  // trained on the list's own history (its threads and their repliers), stored with the index
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(db));
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<const engine::Snapshot> snap, snapshot(reader.get()));
    RankerOptions o;
    o.train.min_groups = 30;
    ASSERT_OK_AND_ASSIGN(Ranker r, Train(reader.get(), *snap, o));
    ASSERT_TRUE(r.learned()) << r.Describe();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(db, {}));
    ASSERT_OK(Store(w.get(), r));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<indexer::IndexReader> reader, indexer::IndexReader::Open(db));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const engine::Snapshot> snap, snapshot(reader.get()));
  ASSERT_OK_AND_ASSIGN(Ranker stored, Load(reader.get()));
  ASSERT_TRUE(stored.learned()) << stored.Describe();
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::SearchHit> hits, reader->Search("zyphorette", {}, 200));
  ASSERT_EQ(hits.size(), 1u);

  for (const bool learned : {true, false}) {
    SCOPED_TRACE(learned ? "learned model" : "hand-tuned blend");
    engine::AskOptions o;
    o.k = 5;
    o.model = learned ? stored.model : nullptr;
    ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> top, engine::RankExperts(*snap, hits, o));
    ASSERT_GE(top.size(), 2u);  // Zed and the busy people the candidate generators add
    EXPECT_EQ(top[0].id, "mail:zed@example.org");
    EXPECT_NE(top[0].reason.find("wrote 1 matching message"), std::string::npos) << top[0].reason;
    for (size_t i = 1; i < top.size(); ++i) {
      // Everyone else has no matching document, and says so and why they are listed.
      EXPECT_NE(top[i].reason.find("no matching document; "), std::string::npos) << top[i].id << ": " << top[i].reason;
      EXPECT_NE(top[i].reason.find("listed after everyone with a matching document"), std::string::npos)
          << top[i].reason;
      EXPECT_TRUE(top[i].evidence.empty()) << top[i].id;
    }
    if (learned) {
      // The history favours activity: in one list by the model's score, the busy
      // people without a matching document are above Zed (what evidence_first prevents).
      bool busy_above = false;
      for (size_t i = 1; i < top.size(); ++i) busy_above |= top[i].score > top[0].score && top[i].id.find("busy") != std::string::npos;
      EXPECT_TRUE(busy_above);
      o.evidence_first = false;
      ASSERT_OK_AND_ASSIGN(std::vector<engine::Expert> mixed, engine::RankExperts(*snap, hits, o));
      ASSERT_FALSE(mixed.empty());
      EXPECT_NE(mixed[0].id, "mail:zed@example.org");
      EXPECT_EQ(mixed[0].reason.find("listed after"), std::string::npos) << mixed[0].reason;
    }
  }
}

}  // namespace
}  // namespace whoknows::ranker
