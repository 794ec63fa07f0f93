// IndexWriter / IndexReader on a real Xapian database in a temp dir.
#include <gtest/gtest.h>

#include <set>

#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"

namespace whoknows::indexer {
namespace {

Record Mail(const std::string& id, const std::string& author, const std::string& name, int64_t ts,
            const std::string& subject, const std::string& text, const std::string& reply_to = "") {
  Record r;
  r.id = "mbox:test:" + id;
  r.kind = RecordKind::kMail;
  r.source = "mbox:test";
  r.author_key = author;
  r.author_name = name;
  r.timestamp = ts;
  r.title = subject;
  r.text = text;
  r.reply_to = reply_to.empty() ? "" : "mbox:test:" + reply_to;
  r.thread_id = reply_to.empty() ? r.id : "mbox:test:" + reply_to;
  r.topics = {"test"};
  r.community = "test";
  r.visibility = "public";
  return r;
}

class IndexTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string db() const { return tmp_.Sub("db"); }

  void WriteAll(const std::vector<Record>& recs, IndexSummary* out = nullptr, size_t commit_every = 2) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexWriter> w, IndexWriter::Open(db(), {.commit_every = commit_every}));
    for (const Record& r : recs) ASSERT_OK(w->Add(r));
    ASSERT_OK(w->Commit());
    if (out != nullptr) *out = w->summary();
  }
  std::vector<Record> Corpus() {
    return {Mail("1", "mail:ripley@stats.ox.ac.uk", "Brian Ripley", 1000, "lapack crash", "lapack segfaults on dgesv"),
            Mail("2", "mail:murdoch@stats.uwo.ca", "Duncan Murdoch", 2000, "Re: lapack crash",
                 "rebuild lapack with the reference blas", "1"),
            Mail("3", "mail:ripley@stats.ox.ac.uk", "Prof Brian Ripley", 3000, "windows build", "rtools gcc toolchain"),
            Mail("4", "mailname:duncan murdoch", "Duncan Murdoch", 4000, "Re: windows build", "use rtools 4.0", "3")};
  }
};

TEST_F(IndexTest, WritesSearchableDocumentsAndIdentities) {
  IndexSummary s;
  WriteAll(Corpus(), &s);
  EXPECT_EQ(s.indexed, 4u);
  EXPECT_EQ(s.duplicates, 0u);
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  EXPECT_EQ(reader->doc_count(), 4u);
  ASSERT_OK_AND_ASSIGN(auto hits, reader->Search("lapack", {}, 10));
  ASSERT_EQ(hits.size(), 2u);
  std::set<std::string> authors;
  for (const SearchHit& h : hits) {
    ASSERT_OK_AND_ASSIGN(DocText t, reader->GetDoc(h.docid));
    authors.insert(t.author);
  }
  EXPECT_EQ(authors, (std::set<std::string>{"mail:ripley@stats.ox.ac.uk", "mail:murdoch@stats.uwo.ca"}));
  // The obfuscated-era key merges into the person with the same display name.
  ASSERT_OK_AND_ASSIGN(std::string p, reader->ResolvePerson("mailname:duncan murdoch"));
  EXPECT_EQ(p, "mail:murdoch@stats.uwo.ca");
  ASSERT_OK_AND_ASSIGN(auto persons, reader->ListPersons());
  EXPECT_EQ(persons.size(), 2u);
  // Stemming: "crashes" finds "crash".
  ASSERT_OK_AND_ASSIGN(auto stemmed, reader->Search("crashes", {}, 10));
  EXPECT_EQ(stemmed.size(), 2u);
}

TEST_F(IndexTest, EmptyQueryIsErrorAndNoMatchIsEmpty) {
  WriteAll(Corpus());
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  EXPECT_EQ(reader->Search("   ", {}, 10).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto none, reader->Search("zyxwvut", {}, 10));
  EXPECT_TRUE(none.empty());
}

TEST_F(IndexTest, ReindexIsIdempotentAndIncrementalAddsOnlyNew) {
  std::vector<Record> recs = Corpus();
  std::vector<Record> first(recs.begin(), recs.begin() + 3);
  IndexSummary s1, s2, s3;
  WriteAll(first, &s1);
  WriteAll(first, &s2);
  EXPECT_EQ(s2.indexed, 0u);
  EXPECT_EQ(s2.duplicates, 3u);
  WriteAll(recs, &s3);
  EXPECT_EQ(s3.indexed, 1u);
  EXPECT_EQ(s3.duplicates, 3u);
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  EXPECT_EQ(reader->doc_count(), 4u);
}

TEST_F(IndexTest, DuplicateWithinOneBatchIsStoredOnce) {
  std::vector<Record> recs = Corpus();
  recs.push_back(recs[0]);
  IndexSummary s;
  WriteAll(recs, &s, /*commit_every=*/100);
  EXPECT_EQ(s.indexed, 4u);
  EXPECT_EQ(s.duplicates, 1u);
}

TEST_F(IndexTest, FiltersRestrictResults) {
  std::vector<Record> recs = Corpus();
  recs[1].visibility = "internal";
  recs[1].community = "core";
  WriteAll(recs);
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  SearchFilter pub;
  pub.visibility = {"public"};
  ASSERT_OK_AND_ASSIGN(auto hits, reader->Search("lapack", pub, 10));
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_OK_AND_ASSIGN(DocText t, reader->GetDoc(hits[0].docid));
  EXPECT_EQ(t.id, "mbox:test:1");
  SearchFilter window;
  window.from = 1500;
  window.to = 3500;
  ASSERT_OK_AND_ASSIGN(auto w, reader->Search("lapack rtools", window, 10));
  EXPECT_EQ(w.size(), 2u);  // docs 2 and 3
  SearchFilter comm;
  comm.communities = {"core"};
  ASSERT_OK_AND_ASSIGN(auto c, reader->Search("lapack", comm, 10));
  EXPECT_EQ(c.size(), 1u);
}

TEST_F(IndexTest, AliasesMergeAcrossSources) {
  std::vector<Record> recs = Corpus();
  Record se;
  se.id = "se:x:post:1";
  se.kind = RecordKind::kAnswer;
  se.source = "se:x";
  se.author_key = "se:x:user:7";
  se.author_name = "bdr";
  se.text = "answer about lapack";
  recs.push_back(se);
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(db(), {}));
    ASSERT_OK(w->ApplyAliases({{"Brian Ripley", {"mail:ripley@stats.ox.ac.uk", "se:x:user:7"}}}));
    for (const Record& r : recs) ASSERT_OK(w->Add(r));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  ASSERT_OK_AND_ASSIGN(std::string p, reader->ResolvePerson("se:x:user:7"));
  EXPECT_EQ(p, "mail:ripley@stats.ox.ac.uk");
  int by_ripley = 0;
  ASSERT_OK(reader->ForEachDocument([&](const StoredDoc& d) { by_ripley += d.author == p; }));
  EXPECT_EQ(by_ripley, 3);
  ASSERT_OK_AND_ASSIGN(auto persons, reader->ListPersons());
  for (const Person& person : persons) {
    if (person.id == p) {
      EXPECT_EQ(person.name, "Brian Ripley");  // the aliases file pins the name
    }
  }
}

TEST_F(IndexTest, EraseRemovesDocumentsAndIdentity) {
  WriteAll(Corpus());
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(db(), {}));
    ASSERT_OK_AND_ASSIGN(uint64_t n, w->ErasePerson("mail:murdoch@stats.uwo.ca"));
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(w->ErasePerson("nobody").status().code(), absl::StatusCode::kNotFound);
  }
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  EXPECT_EQ(reader->doc_count(), 2u);
  EXPECT_FALSE(reader->ResolvePerson("mail:murdoch@stats.uwo.ca").ok());
  EXPECT_FALSE(reader->ResolvePerson("mailname:duncan murdoch").ok());
  ASSERT_OK_AND_ASSIGN(auto hits, reader->Search("rebuild reference blas", {}, 10));
  EXPECT_TRUE(hits.empty());
}

TEST_F(IndexTest, OptOutIsPersisted) {
  WriteAll(Corpus());
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(db(), {}));
    ASSERT_OK(w->SetOptOut("mail:ripley@stats.ox.ac.uk", true));
  }
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  ASSERT_OK_AND_ASSIGN(auto persons, reader->ListPersons());
  int opted = 0;
  for (const Person& p : persons) opted += p.opted_out ? (p.id == "mail:ripley@stats.ox.ac.uk" ? 1 : 100) : 0;
  EXPECT_EQ(opted, 1);
}

TEST_F(IndexTest, SecondWriterIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(db(), {}));
  auto second = IndexWriter::Open(db(), {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(IndexTest, LongIdsAndTermsDoNotThrow) {
  std::vector<Record> recs = Corpus();
  recs[0].id = "mbox:test:" + std::string(1000, 'x');
  recs[0].topics = {std::string(500, 't')};
  IndexSummary s;
  WriteAll(recs, &s);
  EXPECT_EQ(s.indexed, 4u);
  WriteAll(recs, &s);
  EXPECT_EQ(s.duplicates, 4u);
}

TEST_F(IndexTest, StatsCountKindsSourcesThreads) {
  WriteAll(Corpus());
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  ASSERT_OK_AND_ASSIGN(IndexStats st, reader->Stats());
  EXPECT_EQ(st.documents, 4u);
  ASSERT_EQ(st.by_kind.size(), 1u);
  EXPECT_EQ(st.by_kind[0].first, "mail");
  EXPECT_EQ(st.threads, 2u);
  EXPECT_EQ(st.persons, 2u);
  EXPECT_EQ(st.first_timestamp, 1000);
  EXPECT_EQ(st.last_timestamp, 4000);
}

// The snippet is a window around the first text word that starts with a
// query word (3+ letters, any case), also for a question of many KiB.
TEST_F(IndexTest, SnippetCentresOnFirstQueryWord) {
  WriteAll(Corpus());
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  DocText d;
  d.text = std::string(300, 'x') + " then the Rtools toolchain fails to link " + std::string(300, 'y');
  std::string snip = reader->Snippet(d, "why does RTOOL break", 60);
  EXPECT_EQ(snip.find("Rtools toolchain"), std::string("…").size() + 60 / 3) << snip;
  std::string long_query;
  for (int i = 0; long_query.size() < 60000; ++i) long_query += "word" + std::to_string(i) + " ";
  EXPECT_EQ(reader->Snippet(d, long_query + " toolchain", 60).find("toolchain"), std::string("…").size() + 60 / 3);
  EXPECT_EQ(reader->Snippet(d, long_query, 60).substr(0, 10), std::string(10, 'x'));  // no match: the start
}

}  // namespace
}  // namespace whoknows::indexer
