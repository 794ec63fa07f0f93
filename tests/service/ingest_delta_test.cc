// Ingest through the delta (engine/delta.h): what an Ingest adds is visible to
// the next FindExperts before any snapshot is rebuilt (a new person, a known
// person's new document as evidence), visibility groups, opt-out and erase
// hold through the delta, and once the delta is merged (explicitly, or by the
// background thread) the answers are exactly a fresh server's.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../indexer/test_util.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "ingest_fixture.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {
namespace {

using whoknows::testing::TempDir;

const char* const kQueries[] = {"build cache", "temperature", "linker", "espresso grind", "eviction"};

indexer::Record Msg(int i) { return ingest_fixture::IngestMsg("jsonl:dt", i); }

indexer::Record Post(const std::string& id, const std::string& author, const std::string& text,
                     const std::string& visibility) {
  indexer::Record r;
  r.source = "jsonl:dt";
  r.id = "jsonl:dt:" + id;
  r.thread_id = r.id;
  r.kind = indexer::RecordKind::kPost;
  r.author_key = "mail:" + author;
  r.author_name = author;
  r.text = text;
  r.visibility = visibility;
  r.timestamp = 1600000000 + 3600 * 100;
  return r;
}

ExpertsAnswer Ask(Backend* b, const std::string& text, const Caller& caller, size_t k = 10) {
  ExpertsQuery q;
  q.text = text;
  q.k = k;
  absl::StatusOr<ExpertsAnswer> a = b->FindExperts(q, caller);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *std::move(a) : ExpertsAnswer();
}

std::vector<std::string> Experts(Backend* b, const std::string& text, const Caller& caller) {
  std::vector<std::string> out;
  for (const ExpertResult& e : Ask(b, text, caller).experts) {
    std::string line = absl::StrFormat("%s %.6f", e.person_id, e.score);
    for (const Evidence& ev : e.evidence) line += " " + ev.id;
    out.push_back(line);
  }
  return out;
}

bool HasEvidence(const ExpertsAnswer& a, const std::string& doc_id) {
  for (const ExpertResult& e : a.experts) {
    for (const Evidence& ev : e.evidence) {
      if (ev.id == doc_id) return true;
    }
  }
  return false;
}

const ExpertResult* Find(const ExpertsAnswer& a, const std::string& person_id) {
  for (const ExpertResult& e : a.experts) {
    if (e.person_id == person_id) return &e;
  }
  return nullptr;
}

// Every answer of `live` equals one of a server opened fresh on the same index.
bool SameAsFresh(Backend* live, const std::string& db, std::string* diff) {
  BackendOptions read_only;
  read_only.connect_cache = false;
  absl::StatusOr<std::unique_ptr<Backend>> fresh = Backend::Open(db, read_only);
  if (!fresh.ok()) {
    *diff = fresh.status().ToString();
    return false;
  }
  Caller public_only;
  public_only.groups = {"public"};
  for (const char* text : kQueries) {
    for (const Caller& c : {Caller{}, public_only}) {
      const std::vector<std::string> want = Experts(fresh->get(), text, c), got = Experts(live, text, c);
      if (got != want) {
        *diff = absl::StrFormat("%s: %d experts vs %d fresh; first %s vs %s", text, got.size(), want.size(),
                                got.empty() ? "-" : got[0], want.empty() ? "-" : want[0]);
        return false;
      }
    }
  }
  if (live->documents() != (*fresh)->documents() || live->persons() != (*fresh)->persons()) {
    *diff = absl::StrFormat("documents %d vs %d, persons %d vs %d", live->documents(), (*fresh)->documents(),
                            live->persons(), (*fresh)->persons());
    return false;
  }
  return true;
}

TEST(IngestDeltaTest, VisibleAtOnceThroughTheDeltaAndMergedLikeAFreshBuild) {
  TempDir dir;
  BackendOptions options;
  options.writable = true;
  options.connect_cache = false;
  options.merge_in_background = false;  // the delta stays until MergeDelta
  options.delta_min_documents = 0;      // a delta however small the index
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> live, Backend::Open(dir.Sub("db"), options));
  std::vector<indexer::Record> first;
  for (int i = 0; i < 25; ++i) first.push_back(Msg(i));
  ASSERT_OK(live->Ingest(std::move(first), {}).status());
  ASSERT_OK(live->MergeDelta());
  const uint64_t docs = live->documents(), persons = live->persons();
  ASSERT_EQ(docs, 25u);

  // A new person, public: found with the new document as evidence at once.
  ASSERT_OK(live->Ingest({Post("n1", "newbie@example.org", "zanzibar harbour cranes", "public")}, {}).status());
  EXPECT_EQ(live->documents(), docs + 1);
  EXPECT_EQ(live->persons(), persons + 1);
  Caller public_only;
  public_only.groups = {"public"};
  // (Only the delta's voters: the merged answer below also has the base's activity candidates.)
  for (const Caller& c : {Caller{}, public_only}) {
    const ExpertsAnswer a = Ask(live.get(), "zanzibar cranes", c);
    ASSERT_EQ(a.experts.size(), 1u);
    EXPECT_EQ(a.experts[0].person_id, "mail:newbie@example.org");
    EXPECT_GT(a.experts[0].score, 0);
    ASSERT_EQ(a.experts[0].evidence.size(), 1u);
    EXPECT_EQ(a.experts[0].evidence[0].id, "jsonl:dt:n1");
  }

  // A known person's new document: evidence through the delta, next to base hits.
  const std::string p3 = "mail:p3@example.org";
  ASSERT_OK(live->Ingest({Post("k1", "p3@example.org", "zeppelin mooring mast", "public")}, {}).status());
  {
    const ExpertsAnswer a = Ask(live.get(), "zeppelin mooring", Caller{});
    ASSERT_EQ(a.experts.size(), 1u);
    EXPECT_EQ(a.experts[0].person_id, p3);
    EXPECT_TRUE(HasEvidence(a, "jsonl:dt:k1"));
    // p3 wrote none of the espresso documents: found through the delta among the base's experts.
    const ExpertsAnswer mixed = Ask(live.get(), "zeppelin espresso", Caller{}, 50);
    EXPECT_GE(mixed.experts.size(), 2u);
    const ExpertResult* e = Find(mixed, p3);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->evidence.size(), 1u);
    EXPECT_EQ(e->evidence[0].id, "jsonl:dt:k1");
    EXPECT_NE(Find(mixed, "mail:p6@example.org"), nullptr);  // m15's author (base)
  }

  // Visibility through the delta: an internal document gives a public-only
  // caller neither its author nor the document.
  ASSERT_OK(live->Ingest({Post("s1", "secret@example.org", "quokka habitat survey", "internal")}, {}).status());
  {
    const ExpertsAnswer all = Ask(live.get(), "quokka survey", Caller{});
    ASSERT_EQ(all.experts.size(), 1u);
    EXPECT_EQ(all.experts[0].person_id, "mail:secret@example.org");
    const ExpertsAnswer pub = Ask(live.get(), "quokka survey", public_only);
    EXPECT_TRUE(pub.experts.empty());
    EXPECT_FALSE(HasEvidence(pub, "jsonl:dt:s1"));
    // The same words in a public document by someone else: only that one.
    ASSERT_OK(live->Ingest({Post("s2", "open@example.org", "quokka survey notes", "public")}, {}).status());
    const ExpertsAnswer pub2 = Ask(live.get(), "quokka survey", public_only);
    ASSERT_EQ(pub2.experts.size(), 1u);
    EXPECT_EQ(pub2.experts[0].person_id, "mail:open@example.org");
    EXPECT_FALSE(HasEvidence(pub2, "jsonl:dt:s1"));
    EXPECT_EQ(Ask(live.get(), "quokka survey", Caller{}).experts.size(), 2u);
  }

  // Opt-out holds for what the person ingests afterwards (delta only).
  ASSERT_OK(live->OptOut("mail:newbie@example.org", true));
  ASSERT_OK(live->Ingest({Post("n2", "newbie@example.org", "walrus colony census", "public")}, {}).status());
  EXPECT_EQ(Find(Ask(live.get(), "walrus census", Caller{}), "mail:newbie@example.org"), nullptr);
  EXPECT_FALSE(HasEvidence(Ask(live.get(), "walrus census", Caller{}), "jsonl:dt:n2"));
  ASSERT_OK(live->OptOut("mail:newbie@example.org", false));

  // Erase of a person known only from the delta: gone from the next answer.
  ASSERT_OK(live->Ingest({Post("e1", "leaver@example.org", "marmot burrow mapping", "public")}, {}).status());
  ASSERT_NE(Find(Ask(live.get(), "marmot burrow", Caller{}), "mail:leaver@example.org"), nullptr);
  ASSERT_OK(live->Erase("mail:leaver@example.org").status());
  EXPECT_EQ(Find(Ask(live.get(), "marmot burrow", Caller{}), "mail:leaver@example.org"), nullptr);
  EXPECT_FALSE(HasEvidence(Ask(live.get(), "marmot burrow", Caller{}), "jsonl:dt:e1"));
  ASSERT_OK(live->Ingest({Post("e2", "leaver2@example.org", "marmot colony", "public")}, {}).status());
  ASSERT_NE(Find(Ask(live.get(), "marmot colony", Caller{}), "mail:leaver2@example.org"), nullptr);
  ASSERT_OK(live->Erase("mail:leaver2@example.org").status());
  EXPECT_EQ(Find(Ask(live.get(), "marmot colony", Caller{}), "mail:leaver2@example.org"), nullptr);

  // More ingests into the delta, then merged: exactly a fresh server's answers.
  for (int i = 25; i < 35; ++i) ASSERT_OK(live->Ingest({Msg(i)}, {}).status());
  EXPECT_EQ(live->documents(), docs + 5 + 10);
  std::string diff;
  ASSERT_OK(live->MergeDelta());
  EXPECT_TRUE(SameAsFresh(live.get(), dir.Sub("db"), &diff)) << diff;
  const ExpertsAnswer after = Ask(live.get(), "zanzibar cranes", Caller{});
  const ExpertResult* newbie = Find(after, "mail:newbie@example.org");
  ASSERT_NE(newbie, nullptr);
  ASSERT_FALSE(newbie->evidence.empty());
  EXPECT_EQ(newbie->evidence[0].id, "jsonl:dt:n1");
}

TEST(IngestDeltaTest, BackgroundMergeReachesTheFreshAnswers) {
  TempDir dir;
  BackendOptions options;
  options.writable = true;
  options.connect_cache = false;  // merge_in_background: the default
  options.delta_min_documents = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> live, Backend::Open(dir.Sub("db"), options));
  for (int i = 0; i < 30; i += 3) {
    const std::string word = absl::StrFormat("nonce%c", 'a' + i / 3), who = absl::StrFormat("bg%d@example.org", i);
    ASSERT_OK(live->Ingest({Msg(i), Msg(i + 1), Msg(i + 2), Post(word, who, word + " notes", "public")}, {}).status());
    // Visible at once, whether the background merge has run or not.
    EXPECT_EQ(live->documents(), static_cast<uint64_t>(i / 3 * 4 + 4));
    const ExpertsAnswer a = Ask(live.get(), word, Caller{});
    const ExpertResult* e = Find(a, "mail:" + who);
    ASSERT_NE(e, nullptr) << word;
    ASSERT_FALSE(e->evidence.empty()) << word;
    EXPECT_EQ(e->evidence[0].id, "jsonl:dt:" + word);
  }
  // The background thread merges on its own: wait (generously) for a fresh server's answers.
  std::string diff;
  bool same = false;
  for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
       !same && std::chrono::steady_clock::now() < give_up;) {
    same = SameAsFresh(live.get(), dir.Sub("db"), &diff);
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(same) << diff;
}

}  // namespace
}  // namespace whoknows::service
