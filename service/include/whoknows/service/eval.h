#ifndef WHOKNOWS_SERVICE_EVAL_H_
#define WHOKNOWS_SERVICE_EVAL_H_

// `whoknows eval`: offline evaluation on real data with a time split.
//
// Each data set (one PATH: anything indexer::ReadAny reads) is split on its
// own: its records (de-duplicated by id) are sorted by time and the split
// time is the timestamp at `split_fraction` of them. Records before the split
// are indexed into a temporary Xapian database (IndexWriter), which is read
// back (IndexReader + engine::BuildSnapshot); nothing at or after the split is
// ever indexed. Test cases come from the records at or after the split:
//
//   routing  each question (kind question) at/after the split with an accepted
//            answer whose author is active before the split (authored a
//            document in the index) and is not the asker. Query: the
//            question's title and body. Truth: the accepted answer's author.
//            The asker is excluded from every ranking.
//   replies  each thread whose root message is at/after the split. Query: the
//            root's title and text. Truth: the people who replied in the
//            thread (authors of its other messages), except the starter, who
//            were active before the split. The starter is excluded.
//   connect  each person active before the split. Truth: the people they
//            first interacted with after the split, where an interaction is a
//            reply (one person's message has the other's as its parent,
//            either way) at/after the split and "first" means the two were not
//            contacts in the pre-split snapshot (contacts = replied to each
//            other or shared a thread). Both must be active before the split.
//            Existing contacts and the person are excluded from rankings.
//
// Threads are rebuilt from the records: a message's parent is its reply_to
// record when that exists in the data set, else its thread_id record; the
// root is the end of that chain. Identity keys of test-period records are
// resolved with the pre-split index (IndexReader::ResolvePerson), falling
// back to the lower-cased display name for mail keys (as the writer merges).
//
// Methods are all computed in the same run on the same split:
//   routing/replies: engine::AllMethods() (whoknows, popularity,
//   recent-popularity, bm25-voting, whoknows-no-graph, whoknows-no-<component>)
//   plus whoknows-blend. whoknows and whoknows-no-graph use a learned ranker
//   (engine::RankModel) trained on the history before the split (see
//   EvalOptions::max_history) when there is enough of it, else the blend;
//   whoknows-blend and the whoknows-no-<component> ablations use the blend.
//   connect: common-neighbours, adamic-adar, resource-allocation, jaccard
//   (engine::PredictLinks over the pre-split reply graph, candidates at
//   distance two), popularity, recent-popularity (365 days before the split),
//   whoknows (the learned engine::ConnectModel when the history trains one,
//   else the hand-tuned PPR) and whoknows-ppr (engine::SuggestConnections,
//   hand-tuned). CandRec (candidate recall) for every method.
// Metrics per test case: reciprocal rank, P@1, nDCG@3, nDCG@10, Hits@10
// (binary relevance over the truth set), averaged over test cases per data
// set, and pooled over all data sets (micro-average over test cases).
//
// Not thread-safe; each call uses its own temporary directories (removed
// before returning, unless keep_index_dir is set).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/connect_model.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/indexer/record.h"
#include "whoknows/ranker/ranker.h"

namespace whoknows::service {

enum class EvalTask { kRouting, kReplies, kConnect };
std::string_view EvalTaskName(EvalTask task);
// InvalidArgument naming the task when unknown.
absl::StatusOr<EvalTask> ParseEvalTask(std::string_view name);

struct EvalOptions {
  double split_fraction = 0.8;  // in (0, 1)
  // At most this many test cases per data set (0 = all), sampled
  // deterministically (by a hash of the case's record/person id).
  size_t max_queries = 0;
  size_t retrieve_n = 200;   // BM25 documents per query (as the backend)
  size_t depth = 100;        // ranking depth per method (MRR is MRR@depth)
  size_t max_query_bytes = 4096;  // query text is cut here (the old 4 KiB backend limit, kept so figures compare)
  std::string temp_dir;      // parent of the temporary indexes; "" = $TMPDIR or /tmp
  // When set, the (first) data set's training index is written here and kept,
  // for inspection and tests.
  std::string keep_index_dir;
  engine::AskOptions ask;          // options of the whoknows* routing/replies methods
  // Options of the baselines popularity and bm25-voting (engine defaults);
  // tuning and --param never change them.
  engine::AskOptions baseline_ask;
  engine::ConnectOptions connect;  // base options for the connect whoknows method
  // Learning to rank (routing/replies): the newest max_history queries before
  // the split (history: their labels come from before the split too) train
  // the whoknows ranker (engine::RankModel); 0 = no training, the blend.
  size_t max_history = 2000;
  engine::TrainOptions train = engine::RankTrainOptions();
  ranker::HistoryOptions history;
  // RunEval on the validation split (each data set's training period split
  // again at split_fraction) instead of the test split: every method's table,
  // for choosing settings (never the test split).
  bool validation_tables = false;
  // connect: the learned connect ranking (engine::ConnectModel) trained on the
  // first interactions before the split (max_history = 0: the hand-tuned PPR).
  engine::ConnectTrainOptions connect_train;
  // connect, for choosing settings on --on-validation: more learned rankings
  // trained on the same history, reported as "whoknows[booster,depth,rounds,objective]".
  std::vector<engine::TrainOptions> connect_variants;
  // Coordinate-ascent rounds of TuneOnValidation (0 = only evaluate the
  // starting options on the validation split).
  int tune_rounds = 3;
  // Progress and diagnostics lines (stderr in the CLI). May be null.
  std::function<void(const std::string&)> log;
  // Routing: the whoknows methods get the test question's tags as its topics
  // (AskOptions::query_topics), and training ranks history questions with
  // theirs (ranker::RankerOptions::question_topics). Baselines never get them.
  bool question_topics = false;  // no gain on the validation splits (bench/RESULTS.md)
  // The validation split inside the training period (0 = split_fraction): a
  // smaller fraction gives more validation cases (and less history).
  double validation_fraction = 0;
  // Routing/replies: rankers trained on several data sets' histories, each
  // data set's own history before its own split (the same training groups as
  // its whoknows ranker), as more methods of every data set:
  //   whoknows-pooled     the union of every data set's history;
  //   whoknows-loo        the other data sets' histories only (leave one out:
  //                       a model shipped from public data, applied to an
  //                       organisation it has never seen);
  //   whoknows-mix[W]     the own history counted round(1 / W) times plus the
  //                       others' once (the others weigh W, W in (0, 1]), one
  //                       method per W in pooled_other_weights.
  // Groups of the data sets are interleaved by their position in their own
  // history (oldest first), so the blend weight is chosen on the newest
  // quarter of each. All data sets are prepared before any is ranked.
  bool pooled_training = false;
  std::vector<double> pooled_other_weights = {0.25};
  // Replies: a thread start that is a conversation (mail, chat) is searched with its subject
  // weighed up, in the test cases and in the training history alike
  // (ranker::SearchConversationStart; 0 = the whole text only, as before).
  double subject_weight = ranker::kSubjectWeight;
  // When set, every routing/replies case's reciprocal rank per method is
  // appended to this file, one JSON line each ({data, method, case, rr}):
  // paired differences between runs (say, with and without a feature).
  std::string cases_out;
};

struct MethodResult {
  std::string method;
  double mrr = 0, p_at_1 = 0, ndcg_at_3 = 0, ndcg_at_10 = 0, hits_at_10 = 0;
  // Share of test cases whose truth is among the method's candidates at any
  // depth (engine::CandidatePeople); routing/replies only (0 for connect).
  double candidate_recall = 0;
  // Standard error of the MRR (of the mean over cases of the reciprocal rank).
  double mrr_se = 0;
};

// whoknows against one baseline over the same cases (routing/replies): the mean
// of the per-case differences of reciprocal rank and its standard error.
struct PairedDiff {
  std::string baseline;
  double mrr_diff = 0, se = 0;
  std::string method = "whoknows";  // pooled training: whoknows-pooled etc. minus whoknows
};

struct DatasetResult {
  std::string path;
  size_t n = 0;  // test cases
  std::vector<MethodResult> methods;
  // Context (text output only).
  int64_t split_time = 0;
  size_t records = 0, train_records = 0, test_records = 0;
  size_t candidates = 0;  // test cases before sampling
  // Learning to rank (routing/replies): how whoknows ranked ("learned (...)"
  // or "blend (...)"), the history queries it was trained on, the newest of
  // them (always before split_time), and the time spent.
  std::string ranker;
  size_t history_queries = 0;
  int64_t history_latest = 0;
  size_t train_rows = 0;
  double feature_seconds = 0, train_seconds = 0;
  // whoknows minus popularity, recent-popularity and bm25-voting, paired per case.
  std::vector<PairedDiff> paired;
  // The learned ranker's weights per feature (a linear model; empty for
  // trees or the blend): what the model relies on, graph features included.
  std::vector<std::pair<std::string, double>> ranker_weights;
  // EvalOptions::pooled_training: each pooled ranker's description, by method.
  std::vector<std::pair<std::string, std::string>> pooled_rankers;
};

struct EvalReport {
  EvalTask task = EvalTask::kRouting;
  double split_fraction = 0.8;
  std::vector<DatasetResult> datasets;
  DatasetResult pooled;  // path "pooled"
};

// Runs one task over the given data sets. InvalidArgument for a bad task
// option (fraction outside (0,1)), NotFound/InvalidArgument for a PATH that
// cannot be read or holds no records; Internal for index failures.
absl::StatusOr<EvalReport> RunEval(EvalTask task, const std::vector<std::string>& paths, const EvalOptions& options);

// Reads one data set: every record of `path` (indexer::ReadAny), de-duplicated
// by id (first wins), sorted by (timestamp, id). Bad records are counted in
// *bad (may be null).
absl::StatusOr<std::vector<indexer::Record>> LoadRecords(const std::string& path, uint64_t* bad);
// The timestamp at `fraction` of the records' sorted timestamps.
int64_t SplitTime(std::span<const indexer::Record> sorted_records, double fraction);

// The JSON shape: {"task", "datasets": [{"path","n","methods":[{"method",
// "mrr","p_at_1","ndcg_at_3","ndcg_at_10","hits_at_10"}]}], "pooled": {"n","methods"}}.
nlohmann::json EvalReportToJson(const EvalReport& report);
// A table for people.
std::string FormatEvalReport(const EvalReport& report);

// --- validation tuning (never on the test split)
//
// For each data set only the records before its split are used: they are
// split again at `split_fraction` (the first part is indexed, the rest gives
// the validation queries). Coordinate ascent (options.tune_rounds rounds,
// stopping early when nothing changes) over a small grid per weight, starting
// from options.ask / options.connect:
// routing/replies: half_life_days, w_thread, w_ppr, w_asker, w_prior,
// ppr.alpha (objective: pooled whoknows MRR); connect: connect.beta and
// connect.ppr.alpha (objective: pooled whoknows Hits@10; these move only the
// hand-tuned ranking, so they matter when the learned one falls back; the
// learned one's settings are compared with validation_split and
// connect_variants instead).
struct TuneStep {
  std::string param;
  double value = 0;
  double objective = 0;
};
struct TuneResult {
  EvalTask task = EvalTask::kRouting;
  size_t n = 0;                 // pooled validation cases
  double baseline = 0;          // objective with the starting options
  double best = 0;              // objective with the chosen options
  std::string objective_name;   // "mrr" or "hits_at_10"
  std::vector<std::pair<std::string, double>> chosen;  // param -> value
  std::vector<TuneStep> trace;  // every grid point tried
  engine::AskOptions ask;
  engine::ConnectOptions connect;
};
absl::StatusOr<TuneResult> TuneOnValidation(EvalTask task, const std::vector<std::string>& paths,
                                            const EvalOptions& options);
// Sets one tunable weight by name (the names above). InvalidArgument for an
// unknown name or a negative / non-finite value.
absl::Status SetEvalParam(std::string_view name, double value, engine::AskOptions* ask,
                          engine::ConnectOptions* connect);
nlohmann::json TuneResultToJson(const TuneResult& result);
std::string FormatTuneResult(const TuneResult& result);

// --- hook for replays over the same splits (eval_balance.h: `eval --balance`)
struct ReplayCase {
  std::string key;
  int64_t now = 0;  // the query record's time; cases come in time order
  const std::vector<indexer::SearchHit>* hits = nullptr;
  const std::vector<std::string>* exclude = nullptr;  // person ids
  const std::vector<std::string>* truth = nullptr;    // person ids
  const std::string* asker = nullptr;                 // person id ("" unknown)
  // Everyone who answered at all (routing: any answer, accepted or not;
  // replies: the truth) and when each first did; for outcomes in replays.
  const std::vector<std::string>* responders = nullptr;
  const std::vector<int64_t>* responder_time = nullptr;
};
struct ReplaySet {
  std::string path;
  const engine::Snapshot* snapshot = nullptr;
  std::vector<ReplayCase> cases;
  int64_t split_time = 0;
  size_t records = 0, train_records = 0, test_records = 0, candidates = 0;
  // The whoknows ranker of RunEval on this split (trained on the history
  // before the split; null = the blend), so a replay ranks as `whoknows` does.
  std::shared_ptr<const engine::RankModel> model;
  std::string ranker;  // "learned (...)" or "blend (...)"
};
// Prepares each data set exactly as RunEval (routing/replies only), or with
// `validation` as TuneOnValidation does (the training period split again),
// and calls `fn` once per data set, in order; the set lives during the call.
absl::Status ForEachReplaySet(EvalTask task, const std::vector<std::string>& paths, const EvalOptions& options,
                              bool validation, const std::function<absl::Status(const ReplaySet&)>& fn);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_EVAL_H_
