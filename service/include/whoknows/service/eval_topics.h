#ifndef WHOKNOWS_SERVICE_EVAL_TOPICS_H_
#define WHOKNOWS_SERVICE_EVAL_TOPICS_H_

// `whoknows eval topics PATH...`: how well topics derived from a thread's
// text (indexer::TopicExtractor, what the indexer stores for mail and chat)
// recover the tags people gave it, on Stack Exchange sites with the tags
// hidden from the extractor.
//
// Per data set: records are grouped into threads (a question, its answers
// and comments); threads whose question has tags are ordered by the
// question's time and split at `split_fraction`. The threads before the
// split are the corpus the extractor knows: their records give the document
// frequencies (one document per record, as in the index) and their tags the
// vocabulary (as tags in the index do). Each thread after the split is a test
// case: its title and every record's text go to the extractor, never its
// tags. A topic matches a tag when their keys (stemmed words) are equal
// (TopicExtractor::Key).
//
// Methods, computed in the same run over the same corpus statistics:
//   whoknows           TopicExtractor::Extract with the vocabulary
//   whoknows-no-vocab  the same without the vocabulary (ablation)
//   tfidf              the top five single words by (1 + log tf) * idf, with
//                      the same tokens and stop-words (TfIdfTerms)
// Metrics per test thread: P@5 = matching topics among the first five / 5,
// recall@5 = tags matched by the first five topics / tags; averaged per data
// set and pooled over data sets (micro-average over threads).
//
// Validation (`validate`): only the threads before each split are used,
// split again at `split_fraction` (corpus | validation threads); coordinate
// ascent over a small grid per TopicOptions knob maximises pooled whoknows P@5.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "whoknows/indexer/topics.h"

namespace whoknows::service {

struct TopicsEvalOptions {
  double split_fraction = 0.8;  // in (0, 1)
  size_t k = 5;
  indexer::TopicOptions topics;  // max_topics is set to k
  int tune_rounds = 2;
  std::function<void(const std::string&)> log;  // may be null
};

struct TopicsMethodResult {
  std::string method;
  double p_at_5 = 0, recall_at_5 = 0;
};

struct TopicsDatasetResult {
  std::string path;
  size_t n = 0;  // test threads
  size_t corpus_threads = 0, corpus_records = 0;
  std::vector<TopicsMethodResult> methods;
  // A few test threads with their tags and each method's topics (text output).
  std::vector<std::string> examples;
};

struct TopicsEvalReport {
  double split_fraction = 0.8;
  std::vector<TopicsDatasetResult> datasets;
  TopicsDatasetResult pooled;  // path "pooled"
  // With validation: the knobs chosen and the validation objective.
  std::vector<std::pair<std::string, double>> chosen;
  double validation_start = 0, validation_best = 0;
  size_t validation_n = 0;
};

// NotFound for a missing PATH, InvalidArgument for a bad option or a data set
// without tagged threads on both sides of the split.
absl::StatusOr<TopicsEvalReport> RunTopicsEval(const std::vector<std::string>& paths,
                                               const TopicsEvalOptions& options);
// Tunes options.topics on validation splits (see above); the report holds the
// validation scores of the chosen options (datasets and pooled are the
// validation sets).
absl::StatusOr<TopicsEvalReport> TuneTopicsOnValidation(const std::vector<std::string>& paths,
                                                        const TopicsEvalOptions& options);
// Sets one TopicOptions knob by name: title_weight, min_df, max_df_fraction,
// phrase_boost, min_phrase_tf, min_phrase_cohesion, known_boost, min_score.
// InvalidArgument otherwise.
absl::Status SetTopicParam(std::string_view name, double value, indexer::TopicOptions* options);

// {"task":"topics","split_fraction",..., "datasets":[{"path","n","methods":[{"method","p_at_5",
// "recall_at_5"}]}], "pooled":{"n","methods"}} (+ "validation" when tuned).
nlohmann::json TopicsEvalReportToJson(const TopicsEvalReport& report);
std::string FormatTopicsEvalReport(const TopicsEvalReport& report);

// The `whoknows eval topics` command (flags already parsed by cli_eval.cc).
int RunEvalTopicsCommand(const std::vector<std::string>& paths, double split_fraction,
                         const std::vector<std::string>& params, bool validate, bool json, bool quiet,
                         int tune_rounds);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_EVAL_TOPICS_H_
