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
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace whoknows::indexer::internal {

// One term's postings at one revision with their BM25 weights, decoded once
// (what a Bm25Source reads instead of Xapian's posting list when the term is
// in the revision's cache, DocLengths::terms).
struct TermPostings {
  std::vector<Xapian::docid> docid;  // ascending
  std::vector<double> weight;        // [i]: the weight of docid[i], bit-identical to Bm25Source's
  Xapian::doccount termfreq = 0;
  double maxweight = 0;  // Xapian's bound (BM25Weight::get_maxpart), what the matcher prunes with
  double top = 0;        // the largest of `weight` (term_match.h prunes with it)
  size_t bytes() const;
};

// Decoded term postings of one revision, shared by every query on it, up to a
// byte budget (terms are kept in the order they are first asked for; once the
// budget is spent, other terms are read from Xapian as before). The budget is
// WHOKNOWS_TERM_CACHE_MB when the reader was opened (default 256; 0 turns the
// cache off).
//
// Why: at 1M documents the posting lists of a query's 3-4 terms hold ~10^5
// postings; decoding them from glass blocks (pread, varint decode) and
// looking up each document's length was ~2 ms of a ~5.6 ms FindExperts call.
class TermCache {
 public:
  TermCache();  // budget TermCacheBudgetFromEnv()
  void set_budget(size_t bytes) { budget_ = bytes; }  // before the cache is shared
  // The cached postings of `term`, or null.
  std::shared_ptr<const TermPostings> Find(const std::string& term) const;
  // Whether a list of `postings` postings would still fit.
  bool HasRoom(Xapian::doccount postings) const;
  // Keeps `p` for `term` if it fits (a concurrent builder may have won: its list is returned).
  std::shared_ptr<const TermPostings> Add(const std::string& term, std::shared_ptr<const TermPostings> p);
  size_t bytes() const;
  size_t budget() const { return budget_; }
  size_t terms() const;

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const TermPostings>> map_;
  size_t bytes_ = 0;
  size_t budget_ = 0;
};

// Document lengths of one database revision, indexed by docid, and the
// revision's decoded term postings.
struct DocLengths {
  uint64_t revision = 0;
  std::vector<uint32_t> length;  // [docid]; 0 for deleted or past the end
  mutable TermCache terms;
  size_t bytes() const { return length.capacity() * sizeof(uint32_t); }
};

// Reads every document length of `db` (one pass over the length list: ~18 ms
// CPU at 1M documents). May throw Xapian::Error.
// `term_cache_bytes`: the budget of its TermCache (default: from the environment).
std::shared_ptr<const DocLengths> ReadDocLengths(const Xapian::Database& db, uint64_t revision,
                                                 std::optional<size_t> term_cache_bytes = std::nullopt);

// The lengths of `db` at `revision`, shared by every reader of `path` (the
// newest revision is kept; an older one is read but not kept). Thread-safe.
// Readers with different term cache budgets (TermCacheBudgetFromEnv when they
// were opened) share only with their own kind.
std::shared_ptr<const DocLengths> SharedDocLengths(const std::string& path, const Xapian::Database& db,
                                                   uint64_t revision, size_t term_cache_bytes);

// The decoded postings of `term` in `db` at the revision of `lengths`: from
// its TermCache, else decoded and added when they fit; null when they do not
// fit (read the term from Xapian then). May throw Xapian::Error.
std::shared_ptr<const TermPostings> CachedPostings(const Xapian::Database& db, const std::string& term,
                                                   const std::shared_ptr<const DocLengths>& lengths);

// WHOKNOWS_TERM_CACHE_MB in bytes (default 256 MB; 0: no term cache).
size_t TermCacheBudgetFromEnv();

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
  // Every posting of term_ in `db` with its weight (as get_weight would give it).
  std::shared_ptr<const TermPostings> Decode(const Xapian::Database& db) const;
  Xapian::docid get_docid() const override { return cached_ != nullptr ? cached_->docid[pos_] : *it_; }
  void next(double min_wt) override;
  void skip_to(Xapian::docid did, double min_wt) override;
  bool at_end() const override {
    return started_ && (cached_ != nullptr ? pos_ == cached_->docid.size() : it_ == end_);
  }
  Xapian::PostingSource* clone() const override { return new Bm25Source(term_, lengths_); }
  std::string name() const override { return "whoknows::Bm25Source"; }
  void init(const Xapian::Database& db) override;
  std::string get_description() const override { return "Bm25Source(" + term_ + ")"; }

 private:
  std::string term_;
  std::shared_ptr<const DocLengths> lengths_;
  Xapian::PostingIterator it_, end_;
  // The revision's decoded postings of term_ (TermCache), read instead of it_ when set.
  std::shared_ptr<const TermPostings> cached_;
  size_t pos_ = 0;
  bool started_ = false;
  Xapian::doccount termfreq_ = 0;
  double termweight_ = 0;
  double len_factor_ = 0;
};

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_BM25_SOURCE_H_
