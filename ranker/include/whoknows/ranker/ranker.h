#ifndef WHOKNOWS_RANKER_RANKER_H_
#define WHOKNOWS_RANKER_RANKER_H_

// The learned ranker of an index: trained from the index's own history,
// stored with it, loaded by every reader (the CLI, the server, replicas).
//
// History (CollectHistory): every thread of the snapshot whose start has
// people who answered it, as of the thread's own time:
//   Q&A: a question with an accepted answer; truth = the accepted answerer
//        (grade 2) and, with HistoryOptions::other_answerers, the other
//        answerers (grade 1).
//   mail, chat, posts: a thread start with replies; truth = the repliers
//        (grade 1), not the starter.
// A truth person must have been active before the thread started (else no
// ranking could have named them). Each history query is searched in the index
// and ranked as of its own time (AskOptions::now = to = its time: neither its
// own thread nor anything later is seen); its candidates' features
// (engine::ExtractFeatures) are one training group.
//
// Storage: one user-metadata entry of the index, kMetadataKey -> JSON
// {format, features, kind, note, history, groups, rows, trained_at, ..., model}
// with the XGBoost model inline. In the index rather than a file beside it:
// it commits atomically with the documents, xapian-replicate copies it to
// replicas, and a sharded index keeps it in shard 0, where a combined reader
// reads user metadata. A stored decision to use the blend (too little
// history) is kept too, so the retrain policy knows what it was based on.
//
// Fallback: fewer than TrainOptions::min_groups usable history queries (a
// truth among the candidates) -> the hand-tuned blend (Ranker::model null).
//
// Communities (RankerOptions::per_community): in an index of several
// communities with history (a mailing list, a Q&A site, a chat workspace),
// each community whose own history trains a model gets one (its newest
// max_history queries), and a question is ranked by the model of the
// community most of its matches are in (QuestionCommunity). Mixing them in one
// model is worse: the newest history of the busiest community crowds out the
// others', and what predicts a reply on a list (how much one writes) is not
// what predicts an accepted answer (bench/RESULTS.md). `model` ranks the
// other communities: trained on their history together, else the model of the
// community with the most history.
//
// Retrain policy (NeedsTraining): nothing stored yet and some history; a
// stored model over other features; the blend was stored for a history below
// TrainOptions::min_groups and the history reached it; or the history grew
// by max(retrain_min_new, retrain_growth x the stored history) since the last
// training. `whoknows index` checks it at the
// end of a run, a writable server after each ingest (training runs on a
// background thread over the current snapshot; queries never wait for it),
// `whoknows train` trains unconditionally.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace whoknows::ranker {

inline constexpr std::string_view kMetadataKey = "ranker:model";

struct HistoryOptions {
  // Q&A: also label answerers that were not accepted (grade 1).
  bool other_answerers = false;
};

struct HistoryQuery {
  uint32_t doc = engine::kNone;  // the question / thread start (snapshot doc index)
  int64_t now = 0;               // its time
  uint32_t asker = engine::kNone;
  std::vector<std::pair<uint32_t, uint8_t>> truth;  // (person index, grade >= 1)
  std::vector<indexer::SearchHit> hits;             // SearchHistory
  bool searched = false;                            // SearchHistory has run it (once is enough)
  std::vector<std::string> topics;                  // Q&A: the question's own topics (its tags)
};

// Every history query of the snapshot, oldest first.
std::vector<HistoryQuery> CollectHistory(const engine::Snapshot& s, const HistoryOptions& options = {});

// A conversation start (the first message of a mail or chat thread) as a query: its subject
// says what the thread is about in a few words, while its body brings every word of a log,
// a patch, a session dump or a long story, of which BM25 keeps the 40 rarest (IndexReader::
// Search). So the hits of title + "\n" + text (cut at max_query_bytes) get the hits of the
// title alone added, scaled so that the title's best hit adds subject_weight x the whole
// query's best score. Without a title, or with subject_weight 0, the hits of the whole text.
// Not for Q&A: a question's title is a question ("How do I ..."), and weighing it up costs
// routing MRR on validation (bench/RESULTS.md, "Replies: the subject of a conversation").
inline constexpr double kSubjectWeight = 2.0;  // chosen on the replies validation splits
// A thread start searched by SearchConversationStart (training's history and eval's cases
// alike): anything but a Q&A record.
inline bool IsConversationStart(indexer::RecordKind kind) {
  return kind != indexer::RecordKind::kQuestion && kind != indexer::RecordKind::kAnswer &&
         kind != indexer::RecordKind::kComment;
}
absl::StatusOr<std::vector<indexer::SearchHit>> SearchConversationStart(indexer::IndexReader* reader,
                                                                        std::string_view title,
                                                                        std::string_view text,
                                                                        size_t max_query_bytes, size_t n,
                                                                        double subject_weight = kSubjectWeight);

// Searches each query's text (title + text, cut at max_query_bytes) in `reader`; a
// conversation start (not a Q&A question) by SearchConversationStart.
absl::Status SearchHistory(indexer::IndexReader* reader, const engine::Snapshot& s, size_t retrieve_n,
                           size_t max_query_bytes, std::span<HistoryQuery> queries,
                           double subject_weight = kSubjectWeight);

// A community's own model (Ranker::by_community).
struct CommunityModel {
  std::string community;
  std::shared_ptr<const engine::RankModel> model;
  size_t history = 0;           // the community's history queries
  size_t groups = 0, rows = 0;  // trained on
};

// What ranks `ask` in an index: a learned model, or the blend and why.
struct Ranker {
  std::shared_ptr<const engine::RankModel> model;  // null: the hand-tuned blend
  std::string note;             // why the blend ("" for a model)
  size_t history = 0;           // history queries in the index when trained
  int64_t history_latest = 0;   // the newest one's time
  size_t groups = 0, rows = 0;  // usable history queries, candidate rows
  int64_t trained_at = 0;       // wall clock, epoch seconds (0: never trained)
  std::string objective, booster;
  double feature_seconds = 0, train_seconds = 0;
  bool stale = false;  // stored over other features or unreadable: retrain
  // Communities with a model of their own, by name (RankerOptions::per_community).
  std::vector<CommunityModel> by_community;

  bool learned() const { return model != nullptr || !by_community.empty(); }
  // The model for a question whose matches are mostly in `community` (""
  // unknown): the community's own, else `model` (null: the blend).
  std::shared_ptr<const engine::RankModel> ModelFor(std::string_view community) const;
  // "learned (xgboost rank:pairwise, 412 history queries, trained 2026-11-27)"
  // or "blend (fallback: ...)"; with community models "learned per community
  // (history queries: r-devel 1926, ...); other communities: learned (...)".
  std::string Describe() const;
  // What ranks a question of `community`: "learned (..., community r-devel)".
  std::string DescribeFor(std::string_view community) const;
};

// The community most of the first `n` hits are in ("" when none is in the
// snapshot).
std::string QuestionCommunity(const engine::Snapshot& s, std::span<const indexer::SearchHit> hits, size_t n = 20);

struct RankerOptions {
  engine::AskOptions ask;      // ranking options; ask.method kNoGraph trains the no-graph ablation
  engine::TrainOptions train = engine::RankTrainOptions();  // train.min_groups: the fallback threshold
  HistoryOptions history;
  size_t max_history = 2000;  // the newest N history queries
  size_t retrieve_n = 200;
  size_t max_query_bytes = 4096;
  size_t retrain_min_new = 50;
  double retrain_growth = 0.10;
  std::function<bool()> cancelled;  // polled between history queries: Cancelled
  // Q&A history questions rank with their own tags as the query's topics
  // (AskOptions::query_topics), for a deployment whose questions come with
  // their tags. Off: no gain on the routing validation splits.
  bool question_topics = false;
  // A model per community with enough history of its own (see the top).
  bool per_community = true;
  // History conversation starts: SearchConversationStart's subject weight (0: the whole text only).
  double subject_weight = kSubjectWeight;
};

// Trains on `queries` (searched). FailedPrecondition from the model (too few
// usable groups) is not an error: a blend Ranker with the reason. `groups`
// (may be null) receives the training groups, one per query in order (e.g. to
// pool several indexes' histories with TrainOnGroups).
absl::StatusOr<Ranker> TrainOnHistory(const engine::Snapshot& s, std::span<const HistoryQuery> queries,
                                      const RankerOptions& options,
                                      std::vector<engine::TrainingGroup>* groups = nullptr);

// Trains on ready-made groups (TrainOnHistory's, possibly of several indexes;
// the newest quarter, for the blend weight, is the end of the span). As
// TrainOnHistory: too few usable groups gives a blend Ranker with the reason.
absl::StatusOr<Ranker> TrainOnGroups(std::span<const engine::TrainingGroup> groups, const RankerOptions& options);

// CollectHistory + the newest max_history + SearchHistory + TrainOnHistory.
absl::StatusOr<Ranker> Train(indexer::IndexReader* reader, const engine::Snapshot& s, const RankerOptions& options);

// The metadata value for `r` and back. Parse of a value written with other
// features (an older build) gives a blend Ranker saying so, not an error.
absl::StatusOr<std::string> Encode(const Ranker& r);
absl::StatusOr<Ranker> Parse(std::string_view value);

// Writes (commits) / reads the stored ranker. Load without a stored one: a
// blend Ranker with note "no model stored".
absl::Status Store(indexer::IndexWriter* writer, const Ranker& r);
absl::StatusOr<std::string> StoredValue(indexer::IndexReader* reader);  // "" when none
absl::StatusOr<Ranker> Load(indexer::IndexReader* reader);

bool NeedsTraining(const Ranker& stored, size_t history_now, const RankerOptions& options);

}  // namespace whoknows::ranker

#endif  // WHOKNOWS_RANKER_RANKER_H_
