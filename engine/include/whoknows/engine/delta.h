#ifndef WHOKNOWS_ENGINE_DELTA_H_
#define WHOKNOWS_ENGINE_DELTA_H_

// Query-time overlay for documents ingested after the served snapshot (issue
// 13: ingest visible in under a second without rebuilding a 1M-document
// snapshot per commit). A server keeps the big base snapshot immutable and
// builds a small "delta" snapshot of the new documents alone (with their
// authors and mentioned people); FindExperts ranks the BM25 hits on the base
// (the hits the base does not know are ignored there), votes the hits that are
// delta documents on the delta (RankExperts without the graph: Model 2 votes,
// role weights, decay, visibility, filters, opt-out and exclusions as usual),
// and merges the two here. A background thread then folds the delta into a
// new base (ExtendSnapshot or BuildSnapshot: exactly a full build), after which
// answers are a fresh server's again.
//
// The merge puts delta votes on the base's scale: a delta document's vote is
// its BM25 score over the best base hit's (instead of the best delta hit's),
// and it raises a person's score by w_vote times that vote over the base's
// largest raw vote (the blend's vote term). A person known only from the delta
// is ranked by that term alone; a base person outside the base's top list by
// it too (an underestimate until the fold). Delta documents add no PPR, prior,
// topic or contact mass and no base-thread votes until the fold.

#include <vector>

#include "whoknows/engine/rank.h"

namespace whoknows::engine {

struct DeltaMerge {
  double base_best = 0;   // best BM25 score among the hits ranked on the base (0: none)
  double delta_best = 0;  // the same among the delta's hits
  double w_vote = 1.0;    // AskOptions::w_vote
  size_t max_evidence = 5;
  size_t max_topics = 5;
  bool evidence_first = true;  // AskOptions::evidence_first
  double min_vote_share = 0.1;  // AskOptions::min_vote_share
};

// `base` (RankExperts on the base, best first) with `delta` (RankExperts on
// the delta snapshot over the same hits, without graph) merged in by person
// id, best first (ties by id); delta experts without a vote are left out.
// With evidence_first, experts with a vote of at least min_vote_share of the
// best (merged) vote come first; the others' scores are capped at the lowest
// score of those in the list.
// Evidence is merged by contribution (delta contributions on the base scale);
// a delta-only expert has person = kNone (its index is not the base's).
std::vector<Expert> MergeDeltaExperts(std::vector<Expert> base, std::vector<Expert> delta, const DeltaMerge& m);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_DELTA_H_
