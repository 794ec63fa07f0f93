#ifndef WHOKNOWS_SERVICE_EVAL_BALANCE_H_
#define WHOKNOWS_SERVICE_EVAL_BALANCE_H_

// `whoknows eval routing|replies --balance`: replays each data set's test
// period in time order. Every method routes each question to its top
// route_k people and logs it in its own load model, so later questions see
// the load (a 7-day window of replay time). Per method: MRR of the ranking it
// routed from, and load figures over the routed questions: max_share (the
// largest fraction of questions routed to one person), the Gini coefficient
// of routed counts over every person active before the split (zeros
// included), and distinct_people.
//
// Every method ranks from the same lists as `whoknows` in RunEval (the learned
// ranker trained on the history before the split, as of the split), computed
// once per data set and replayed under each balance setting.
// Methods (same run, same split): whoknows (unbalanced), whoknows-balanced
// (routing::BalanceExperts, as FindExperts with balance), popularity, and
// round-robin (whoknows top-10, routed to 3 of them by a rotating pointer;
// its ranking lists the routed people first, then the rest in order), and
// whoknows-outcomes (unbalanced: no load price, but the same feedback from
// outcomes as whoknows-balanced, so the gain of feedback alone is visible).
// whoknows, popularity and round-robin see no outcomes; with
// BalanceEvalOptions::outcomes the two others see the outcomes of their own
// earlier routings (the truth answerers' answer times; a routed person who
// did not answer is a no response after no_response_days).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "whoknows/routing/routing.h"
#include "whoknows/service/eval.h"

namespace whoknows::service {

struct BalanceEvalOptions {
  routing::BalanceOptions balance;
  size_t route_k = 3;  // also balance.route_k: the places balance fills (routing::BalanceOptions::route_k)
  size_t round_robin_n = 10;
  bool validation = false;  // replay the validation split of the training period instead of the test period
  // Outcomes in the replay: each routed person's outcome becomes known to the
  // method's load model as RecordOutcome would report it (answered at the
  // time they answered; no response once no_response_days passed without
  // an answer), and only for questions routed strictly earlier. Seen by
  // whoknows-balanced and whoknows-outcomes only.
  bool outcomes = true;
  double no_response_days = 2;
  // TuneBalance's grid: "full" (both modes, as below), "mail" (only the
  // per-source mail settings, mail_weight x mail_share_cap x mail_free_load) or "free-load"
  // (free_load x share_cap x weight); the last two keep the rest as given
  // and choose by the margin rule below.
  std::string grid = "full";
};

struct LoadMethodResult {
  std::string method;
  double mrr = 0;
  routing::LoadFigures load;
};

struct BalanceDataset {
  std::string path;
  size_t n = 0;
  std::vector<LoadMethodResult> methods;
  int64_t split_time = 0;
  std::string ranker;  // how whoknows ranked: "learned (...)" or "blend (...)" (ReplaySet::ranker)
};

struct BalanceEvalReport {
  EvalTask task = EvalTask::kRouting;
  bool validation = false;
  routing::BalanceOptions balance;
  bool outcomes = true;  // BalanceEvalOptions::outcomes
  double no_response_days = 2;
  std::vector<BalanceDataset> datasets;
  BalanceDataset pooled;
};

absl::StatusOr<BalanceEvalReport> RunBalanceEval(EvalTask task, const std::vector<std::string>& paths,
                                                 const EvalOptions& options, const BalanceEvalOptions& balance);
// {"task","balance":{...},"datasets":[{"path","n","methods":[{"method","mrr","max_share","gini",
// "distinct_people"}]}],"pooled":{...}}
nlohmann::json BalanceEvalReportToJson(const BalanceEvalReport& report);
std::string FormatBalanceEvalReport(const BalanceEvalReport& report);

// Grid search on the validation split (never test) over both modes: the
// spread charge (keep_top_margin x activity_weight x exponent x share_cap x
// weight) and the marginal-gain assignment (gain_beta x recent_questions x
// exponent x share_cap x weight x feedback from outcomes (outcome_weight 0,
// or 0.5/1/2 over 90 or 365 days), gain_depth 6): the setting with the lowest pooled
// max_share among those keeping MRR >= min_mrr_ratio x unbalanced and
// distinct people >= 1.5x; ties to higher MRR. Returns the report of every
// grid point (the text marks the Pareto frontier of max_share and MRR).
// With grids "mail" and "free-load", the rule is instead the point furthest inside all three
// targets (the largest of the smallest relative slacks: MRR over
// min_mrr_ratio x, max_share under 0.5x, distinct over 1.5x), so the setting
// keeps room on every target rather than sitting at the MRR limit.
struct BalanceTuneResult {
  routing::BalanceOptions chosen;  // the given options when no grid point met the constraints
  bool met = false;
  std::string rule;  // "lowest-share" (grid "full") or "margin" (grids "mail", "free-load")
  size_t chosen_index = 0;  // into grid, when met
  std::vector<std::pair<routing::BalanceOptions, BalanceDataset>> grid;  // pooled validation figures
};
absl::StatusOr<BalanceTuneResult> TuneBalance(EvalTask task, const std::vector<std::string>& paths,
                                              const EvalOptions& options, const BalanceEvalOptions& balance,
                                              double min_mrr_ratio);
nlohmann::json BalanceTuneResultToJson(const BalanceTuneResult& r);
std::string FormatBalanceTuneResult(const BalanceTuneResult& r);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_EVAL_BALANCE_H_
