// BM25 with the document lengths in memory (indexer/bm25_source.h) against
// Xapian's own BM25Weight on a real index: the same documents in the same
// order with bit-identical weights, for plain, +/- , phrase and long
// (elite set) queries, through IndexReader::Search and after an ingest.
#include <gtest/gtest.h>
#include <xapian.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../../indexer/bm25_source.h"
#include "coffee_index.h"
#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"

namespace whoknows::indexer {
namespace {

using testing::TempDir;

struct Hit {
  Xapian::docid docid;
  double weight;
  bool operator==(const Hit&) const = default;
};

std::vector<Hit> Match(const Xapian::Database& db, const Xapian::Query& q, Xapian::doccount n) {
  Xapian::Enquire e(db);
  e.set_query(q);
  e.set_weighting_scheme(Xapian::BM25Weight());
  Xapian::MSet m = e.get_mset(0, n);
  std::vector<Hit> out;
  for (auto it = m.begin(); it != m.end(); ++it) out.push_back({*it, it.get_weight()});
  return out;
}

class Bm25SourceTest : public testing::CoffeeIndexTest {};

Xapian::Query Parse(const Xapian::Database& db, const std::string& text, unsigned flags) {
  Xapian::QueryParser qp;
  qp.set_database(db);
  qp.set_stemmer(Xapian::Stem("en"));
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  qp.set_default_op(Xapian::Query::OP_OR);
  return qp.parse_query(text, flags);
}

TEST_F(Bm25SourceTest, SameDocumentsAndWeightsAsXapianBm25) {
  Xapian::Database xdb(db());
  auto lengths = internal::ReadDocLengths(xdb, 1);
  ASSERT_EQ(lengths->length.size(), xdb.get_lastdocid() + 1);
  const unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE;
  const std::vector<std::string> queries = {
      "espresso", "grind size for espresso", "cold brew coffee ratio", "+espresso milk",
      "espresso -milk", "\"french press\" grind", "moka-pot pressure", "How do I descale a Breville machine?",
      "caffeine content of decaf", "zzzznotaword espresso"};
  size_t nonempty = 0;
  for (const std::string& text : queries) {
    const Xapian::Query q = Parse(xdb, text, flags);
    for (Xapian::doccount n : {10u, 200u}) {
      const std::vector<Hit> want = Match(xdb, q, n);
      const std::vector<Hit> got = Match(xdb, internal::WithInMemoryLengths(q, lengths), n);
      EXPECT_EQ(got, want) << text << " n=" << n;
      nonempty += want.empty() ? 0 : 1;
    }
  }
  EXPECT_GE(nonempty, 16u);  // the comparisons are about real matches

  // A long text as FindExperts gets it: Xapian's elite set of 40 of its terms.
  std::string long_text;
  for (auto t = xdb.allterms_begin("Z"); t != xdb.allterms_end("Z") && long_text.size() < 2000; ++t) {
    if (t.get_termfreq() > 3) long_text += (*t).substr(1) + " ";
  }
  const Xapian::Query parsed = Parse(xdb, long_text, 0);
  std::vector<Xapian::Query> plain, sources;
  for (auto t = parsed.get_unique_terms_begin(); t != parsed.get_unique_terms_end(); ++t) {
    plain.emplace_back(*t);
    sources.emplace_back((new internal::Bm25Source(*t, lengths))->release());
  }
  ASSERT_GT(plain.size(), 40u);
  const std::vector<Hit> want = Match(xdb, Xapian::Query(Xapian::Query::OP_ELITE_SET, plain.begin(), plain.end(), 40), 200);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Match(xdb, Xapian::Query(Xapian::Query::OP_ELITE_SET, sources.begin(), sources.end(), 40), 200), want);
}

// The decoded-postings cache (internal::TermCache): the same documents and
// weights as Xapian's BM25Weight whether a term is read from the cache, from
// Xapian (budget 0), or some of each (a budget that fits only some terms), for
// OR, AND (skip_to over the cached arrays), AND_NOT, phrase and filtered
// queries, and the second query of a term reads the first one's list.
TEST_F(Bm25SourceTest, CachedPostingsGiveXapiansDocumentsAndWeights) {
  Xapian::Database xdb(db());
  auto streaming = internal::ReadDocLengths(xdb, 1, 0);
  auto cached = internal::ReadDocLengths(xdb, 1, size_t{64} << 20);
  // Room for the shortest lists only: "espresso" (the most common term here) does not fit.
  const Xapian::doccount espresso = xdb.get_termfreq("Zespresso");
  ASSERT_GT(espresso, 100u);
  auto partial = internal::ReadDocLengths(xdb, 1, espresso * 12 / 2);
  const unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE;
  std::vector<Xapian::Query> queries;
  for (const char* text : {"espresso", "grind size for espresso", "cold brew coffee ratio", "+espresso milk",
                           "espresso -milk", "\"french press\" grind", "caffeine content of decaf"}) {
    queries.push_back(Parse(xdb, text, flags));
  }
  queries.emplace_back(Xapian::Query::OP_AND, Parse(xdb, "espresso", 0), Parse(xdb, "milk", 0));
  queries.emplace_back(Xapian::Query::OP_AND, Parse(xdb, "grind", 0), Parse(xdb, "burr", 0));
  queries.emplace_back(Xapian::Query::OP_FILTER, Parse(xdb, "espresso milk", 0),
                       Xapian::Query(Xapian::Query::OP_VALUE_GE, kSlotTimestamp, Xapian::sortable_serialise(1400000000)));
  size_t nonempty = 0;
  for (int round = 0; round < 2; ++round) {  // round 1 reads the lists round 0 cached
    for (size_t i = 0; i < queries.size(); ++i) {
      for (Xapian::doccount n : {10u, 200u}) {
        const std::vector<Hit> want = Match(xdb, queries[i], n);
        EXPECT_EQ(Match(xdb, internal::WithInMemoryLengths(queries[i], streaming), n), want) << i << " n=" << n;
        EXPECT_EQ(Match(xdb, internal::WithInMemoryLengths(queries[i], cached), n), want) << i << " n=" << n;
        EXPECT_EQ(Match(xdb, internal::WithInMemoryLengths(queries[i], partial), n), want) << i << " n=" << n;
        nonempty += want.empty() ? 0 : 1;
      }
    }
  }
  EXPECT_GE(nonempty, 30u);  // real matches, incl. the AND queries
  EXPECT_EQ(streaming->terms.terms(), 0u);
  EXPECT_GE(cached->terms.terms(), 10u);
  EXPECT_NE(cached->terms.Find("Zespresso"), nullptr);
  EXPECT_EQ(cached->terms.Find("Zespresso")->docid.size(), espresso);
  EXPECT_LE(cached->terms.bytes(), cached->terms.budget());
  EXPECT_GT(partial->terms.terms(), 0u);
  EXPECT_EQ(partial->terms.Find("Zespresso"), nullptr);
  EXPECT_LE(partial->terms.bytes(), partial->terms.budget());
}

// IndexReader::Search with the in-memory lengths (the default) against the
// same reader code weighing with Xapian's lengths (WHOKNOWS_XAPIAN_LENGTHS),
// before and after an ingest adds documents (the lengths follow the revision).
TEST_F(Bm25SourceTest, SearchEqualsXapianLengthsAndFollowsNewRevisions) {
  TempDir copy;
  ASSERT_OK_AND_ASSIGN(PipelineResult r,
                       IndexPaths(copy.Sub("db"), {std::string(WK_SHARED_DATA_DIR) + "/stackexchange/coffee.stackexchange.com"},
                                  PipelineOptions{}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexReader> fast, IndexReader::Open(copy.Sub("db")));
  ASSERT_EQ(setenv("WHOKNOWS_XAPIAN_LENGTHS", "1", 1), 0);
  auto xapian = IndexReader::Open(copy.Sub("db"));
  unsetenv("WHOKNOWS_XAPIAN_LENGTHS");
  ASSERT_OK(xapian.status());
  auto same = [&](const std::string& text, const SearchFilter& f) {
    ASSERT_OK_AND_ASSIGN(std::vector<SearchHit> a, fast->Search(text, f, 200));
    ASSERT_OK_AND_ASSIGN(std::vector<SearchHit> b, (*xapian)->Search(text, f, 200));
    ASSERT_FALSE(b.empty()) << text;
    ASSERT_EQ(a.size(), b.size()) << text;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].docid, b[i].docid) << text << " rank " << i;
      EXPECT_EQ(a[i].score, b[i].score) << text << " rank " << i;
    }
  };
  same("espresso grind", {});
  SearchFilter since;
  since.from = 1400000000;
  same("milk foam espresso", since);

  // An ingest: a longer document that uses the query word, then both readers reopen.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexWriter> w, IndexWriter::Open(copy.Sub("db"), {}));
    Record rec;
    rec.id = "test:new-1";
    rec.kind = RecordKind::kQuestion;
    rec.source = "test";
    rec.author_key = "test:someone";
    rec.author_name = "Some One";
    rec.timestamp = 1700000000;
    rec.title = "espresso grind for a new machine";
    rec.text = "espresso grind espresso grind; which burr grinder, and how fine for a single basket";
    rec.thread_id = rec.id;
    rec.visibility = "public";
    ASSERT_OK(w->Add(rec));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK(fast->Reopen());
  ASSERT_OK((*xapian)->Reopen());
  ASSERT_OK_AND_ASSIGN(std::vector<SearchHit> after, fast->Search("espresso grind", {}, 200));
  ASSERT_FALSE(after.empty());
  bool found = false;
  for (const SearchHit& h : after) found = found || h.docid == fast->last_docid();
  EXPECT_TRUE(found) << "the ingested document is searchable with its length";
  same("espresso grind", {});
}

}  // namespace
}  // namespace whoknows::indexer
