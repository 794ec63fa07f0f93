#ifndef WHOKNOWS_INDEXER_BM25_SOURCE_H_
#define WHOKNOWS_INDEXER_BM25_SOURCE_H_

// Private to the indexer: Xapian's BM25 (default parameters) with the
// document lengths read from memory instead of from the database.
//
// Why: for every document a term matches, Xapian's BM25Weight asks the
// database for the document's length, and glass keeps the lengths in one
// chunked posting list that the matcher walks forward from the start on
// every query. With 1M documents and ~100k postings per query that walk
// decodes nearly the whole list each time: 58% of a FindExperts call
// (bench/RESULTS.md "FindExperts at 1M"). Here each term leaf of a query
// becomes a PostingSource that reads the term's postings and the wdf from
// Xapian and the length from an array built once per database revision
// (4 bytes per document). The weights are bit-for-bit those of
// Xapian::BM25Weight() (same formula, same operations, same order;
// bm25_source_test checks documents and weights against Xapian's), so the
// ranking does not change.

#include <xapian.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace whoknows::indexer::internal {

// Document lengths of one database revision, indexed by docid.
struct DocLengths {
  uint64_t revision = 0;
  std::vector<uint32_t> length;  // [docid]; 0 for deleted or past the end
  size_t bytes() const { return length.capacity() * sizeof(uint32_t); }
};

// Reads every document length of `db` (one pass over the length list: ~18 ms
// CPU at 1M documents). May throw Xapian::Error.
std::shared_ptr<const DocLengths> ReadDocLengths(const Xapian::Database& db, uint64_t revision);

// The lengths of `db` at `revision`, shared by every reader of `path` (the
// newest revision is kept; an older one is read but not kept). Thread-safe.
std::shared_ptr<const DocLengths> SharedDocLengths(const std::string& path, const Xapian::Database& db,
                                                   uint64_t revision);

// `q` with every weighted term leaf replaced by a Bm25Source over `lengths`:
// the leaves of OR, AND, AND_MAYBE, the left side of AND_NOT and the
// subqueries of ELITE_SET. Phrases, NEAR, scaled and other subqueries are kept
// as they are (Xapian weighs them with `BM25Weight`, the same formula). Only
// valid for a single local database (PostingSource::init sees one database;
// a remote one cannot run it).
Xapian::Query WithInMemoryLengths(const Xapian::Query& q, const std::shared_ptr<const DocLengths>& lengths);

// One term's postings weighted as BM25Weight() (k1 1, k2 0, k3 1, b 0.5,
// min_normlen 0.5; wqf 1, as the query parser gives).
class Bm25Source final : public Xapian::PostingSource {
 public:
  Bm25Source(std::string term, std::shared_ptr<const DocLengths> lengths)
      : term_(std::move(term)), lengths_(std::move(lengths)) {}

  Xapian::doccount get_termfreq_min() const override { return termfreq_; }
  Xapian::doccount get_termfreq_est() const override { return termfreq_; }
  Xapian::doccount get_termfreq_max() const override { return termfreq_; }
  double get_weight() const override;
  Xapian::docid get_docid() const override { return *it_; }
  void next(double min_wt) override;
  void skip_to(Xapian::docid did, double min_wt) override;
  bool at_end() const override { return started_ && it_ == end_; }
  Xapian::PostingSource* clone() const override { return new Bm25Source(term_, lengths_); }
  std::string name() const override { return "whoknows::Bm25Source"; }
  void init(const Xapian::Database& db) override;
  std::string get_description() const override { return "Bm25Source(" + term_ + ")"; }

 private:
  std::string term_;
  std::shared_ptr<const DocLengths> lengths_;
  Xapian::PostingIterator it_, end_;
  bool started_ = false;
  Xapian::doccount termfreq_ = 0;
  double termweight_ = 0;
  double len_factor_ = 0;
};

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_BM25_SOURCE_H_
