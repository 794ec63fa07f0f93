#ifndef WHOKNOWS_INDEXER_TERM_MATCH_H_
#define WHOKNOWS_INDEXER_TERM_MATCH_H_

// Private to the indexer: the top documents of an OR of plain terms, computed
// from the revision's decoded term postings (TermCache, bm25_source.h)
// without Xapian's matcher.
//
// Why: with every term decoded, Xapian's matcher was what remained of the
// BM25 search (~1.2 of ~4.1 ms CPU per uncached FindExperts at 1M: a tree of
// virtual OrPostList / ExternalPostList calls per posting, bench/RESULTS.md
// "FindExperts at 1M"). Most questions parse to an OR of 2-5 terms, which
// this merges directly over the arrays with max-score pruning.
//
// The answer is the exact top n of Xapian's own ranking of the same query
// over Bm25Source leaves: the same documents in the same order with
// bit-identical weights as the first n of Enquire::get_mset(0, all matches).
// A document's weight is summed over the same binary tree Xapian builds for
// an OR (OrContext::postlist: Huffman-like on the terms' frequency
// estimates), so the float additions happen in the same groupings; the order
// is weight descending then docid ascending, as the MSet's.
//
// One difference: Xapian 1.4.22's pruned get_mset(0, n) is itself not always
// the first n of its full ranking. In term_match_test ~0.2% of random ORs of
// 3-8 terms lose a document near the cut (its pruning skips one that belongs
// in, and the next one moves up); this matcher returns the exact top n then.
// bench/RESULTS.md counts how often that changes a FindExperts answer.

#include <xapian.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bm25_source.h"

namespace whoknows::indexer::internal {

// The leaves of `q` when it is a term or an OR of terms (nested ORs
// flattened), in the order Xapian's matcher adds them (depth first, left to
// right); false for anything else (phrases, +/-, filters, elite sets, scaled
// subqueries).
bool OrOfTerms(const Xapian::Query& q, std::vector<std::string>* terms);

struct ScoredDoc {
  Xapian::docid docid = 0;
  double weight = 0;
  bool operator==(const ScoredDoc&) const = default;
};

// What Xapian::Enquire(db) with the query OR(Bm25Source(t, lengths) for t in
// `terms`), BM25Weight and get_mset(0, n) returns, computed from the decoded
// postings. `db` is the single local database `lengths` was read from, at the
// same revision. nullopt when a term's postings are neither in the
// revision's TermCache nor fit it (the caller asks Xapian then). May throw
// Xapian::Error (decoding a term). Thread-safe for distinct `db` objects.
std::optional<std::vector<ScoredDoc>> MatchOrOfTerms(const Xapian::Database& db,
                                                     const std::shared_ptr<const DocLengths>& lengths,
                                                     std::span<const std::string> terms, size_t n);

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_TERM_MATCH_H_
