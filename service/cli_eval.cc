// whoknows eval TASK PATH... [--split-fraction 0.8] [--json] [--max-queries N] [--validate]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "whoknows/base/log.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/eval.h"
#include "whoknows/service/eval_balance.h"
#include "whoknows/service/eval_topics.h"

namespace whoknows::service {
namespace {

struct EvalArgs {
  std::string task;
  std::vector<std::string> paths;
  double split_fraction = 0.8;
  size_t max_queries = 0;
  size_t retrieve_n = 200;
  size_t depth = 100;
  size_t max_query_bytes = 4096;
  std::string temp_dir;
  std::vector<std::string> params;
  int tune_rounds = 3;
  size_t max_history = 2000;
  std::string ltr_objective = "rank:pairwise";
  int ltr_rounds = 200;
  int ltr_depth = 3;
  std::string ltr_booster = "gblinear";
  bool json = false, validate = false, quiet = false, validation_tables = false, other_answerers = false;
  size_t min_history = 0;
  bool question_topics = false;
  double validation_fraction = 0;
  double blend_weight = -1;
  double ltr_lambda = 10, ltr_alpha = 0;
  double min_vote_share = engine::AskOptions{}.min_vote_share;
  double subject_weight = ranker::kSubjectWeight;
  std::string cases_out;
  engine::TrainOptions connect_train = engine::ConnectTrainOptions{}.train;
  std::vector<std::string> connect_variants;
  std::vector<double> connect_fractions = engine::ConnectTrainOptions{}.history_fractions;
  size_t connect_recent = engine::ConnectFeatureOptions{}.max_recent_candidates;
  size_t connect_link = engine::ConnectFeatureOptions{}.max_link_candidates;
  bool on_validation = false;
  bool balance = false;
  BalanceEvalOptions balance_options;
  double min_mrr_ratio = 0.95;
  bool pooled_training = false;
  std::vector<double> pooled_other_weights = EvalOptions{}.pooled_other_weights;
};

int RunBalance(EvalTask task, const EvalArgs& a, const EvalOptions& o) {
  if (a.validate) {
    absl::StatusOr<BalanceTuneResult> r = TuneBalance(task, a.paths, o, a.balance_options, a.min_mrr_ratio);
    if (!r.ok()) {
      LogError("eval: %s", r.status().ToString());
      return 1;
    }
    std::printf("%s", a.json ? (BalanceTuneResultToJson(*r).dump(2) + "\n").c_str() : FormatBalanceTuneResult(*r).c_str());
    return 0;
  }
  absl::StatusOr<BalanceEvalReport> r = RunBalanceEval(task, a.paths, o, a.balance_options);
  if (!r.ok()) {
    LogError("eval: %s", r.status().ToString());
    return 1;
  }
  std::printf("%s", a.json ? (BalanceEvalReportToJson(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str()
                           : FormatBalanceEvalReport(*r).c_str());
  return 0;
}

int RunEvalCommand(const EvalArgs& a) {
  if (a.task == "topics") {  // service/eval_topics.cc
    return RunEvalTopicsCommand(a.paths, a.split_fraction, a.params, a.validate, a.json, a.quiet, a.tune_rounds);
  }
  absl::StatusOr<EvalTask> task = ParseEvalTask(a.task);
  if (!task.ok()) {
    LogError("%s", task.status().message());
    return 2;
  }
  EvalOptions o;
  o.split_fraction = a.split_fraction;
  o.max_queries = a.max_queries;
  o.retrieve_n = a.retrieve_n;
  o.depth = a.depth;
  o.max_query_bytes = a.max_query_bytes;
  o.temp_dir = a.temp_dir;
  o.tune_rounds = a.tune_rounds;
  o.max_history = a.max_history;
  o.train.objective = a.ltr_objective;
  o.train.rounds = a.ltr_rounds;
  o.train.max_depth = a.ltr_depth;
  o.train.booster = a.ltr_booster;
  if (a.min_history > 0) o.train.min_groups = a.min_history;
  o.history.other_answerers = a.other_answerers;
  o.question_topics = a.question_topics;
  o.validation_fraction = a.validation_fraction;
  o.subject_weight = a.subject_weight;
  o.cases_out = a.cases_out;
  o.train.blend_weight = a.blend_weight;
  o.train.reg_lambda = a.ltr_lambda;
  o.train.reg_alpha = a.ltr_alpha;
  o.ask.min_vote_share = a.min_vote_share;
  o.pooled_training = a.pooled_training;
  o.pooled_other_weights = a.pooled_other_weights;
  // One switch, two spellings: --validate --validation-tables and --on-validation.
  o.validation_tables = (a.validate && a.validation_tables) || a.on_validation;
  o.connect_train.train = a.connect_train;
  o.connect_train.history_fractions = a.connect_fractions;
  o.connect_train.features.max_recent_candidates = a.connect_recent;
  o.connect_train.features.max_link_candidates = a.connect_link;
  for (const std::string& v : a.connect_variants) {
    std::vector<std::string> f = absl::StrSplit(v, absl::MaxSplits(':', 3));  // the objective has a ':' too
    engine::TrainOptions t = a.connect_train;
    if (f.size() < 3 || !absl::SimpleAtoi(f[1], &t.max_depth) || !absl::SimpleAtoi(f[2], &t.rounds)) {
      LogError("eval: --connect-variant wants BOOSTER:DEPTH:ROUNDS[:OBJECTIVE], got '%s'", v);
      return 2;
    }
    t.booster = f[0];
    if (f.size() > 3) t.objective = f[3];
    o.connect_variants.push_back(t);
  }
  for (const std::string& kv : a.params) {
    const size_t eq = kv.find('=');
    double value = 0;
    if (eq == std::string::npos || !absl::SimpleAtod(kv.substr(eq + 1), &value)) {
      LogError("eval: --param wants NAME=VALUE, got '%s'", kv);
      return 2;
    }
    if (absl::Status s = SetEvalParam(std::string_view(kv).substr(0, eq), value, &o.ask, &o.connect); !s.ok()) {
      LogError("eval: %s", s.message());
      return 2;
    }
  }
  if (!a.quiet) o.log = [](const std::string& line) { LogInfo("%s", line); };
  if (a.balance) return RunBalance(*task, a, o);
  if (a.validate && !a.validation_tables && !a.on_validation) {
    absl::StatusOr<TuneResult> r = TuneOnValidation(*task, a.paths, o);
    if (!r.ok()) {
      LogError("eval: %s", r.status().ToString());
      return 1;
    }
    if (a.json) {
      std::printf("%s\n", TuneResultToJson(*r).dump(2).c_str());
    } else {
      std::printf("%s", FormatTuneResult(*r).c_str());
    }
    return 0;
  }
  absl::StatusOr<EvalReport> r = RunEval(*task, a.paths, o);
  if (!r.ok()) {
    LogError("eval: %s", r.status().ToString());
    return 1;
  }
  if (a.json) {
    std::printf("%s\n", EvalReportToJson(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s", FormatEvalReport(*r).c_str());
  }
  return 0;
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Evaluate ranking methods on a time split of real data: routing (Stack Exchange), replies (mail, "
      "Slack), connect (any)");
  cmd->add_option("task", a->task, "routing | replies | connect | topics")->required();
  cmd->add_option("paths", a->paths, "Data sets, each split on its own (file or directory)")->required();
  cmd->add_option("--split-fraction", a->split_fraction,
                  "Split at the timestamp at this fraction of each data set's records")
      ->capture_default_str();
  cmd->add_option("--max-queries", a->max_queries,
                  "At most N test cases per data set, sampled deterministically (0 = all)")
      ->capture_default_str();
  cmd->add_option("--retrieve-n", a->retrieve_n, "BM25 documents per query")->capture_default_str();
  cmd->add_option("--depth", a->depth, "Ranking depth per method (MRR is MRR@depth)")->capture_default_str();
  cmd->add_option("--max-query-bytes", a->max_query_bytes, "Query text (title + body) is cut to this many bytes")
      ->capture_default_str();
  cmd->add_option("--temp-dir", a->temp_dir, "Where the temporary indexes go (default $TMPDIR or /tmp)");
  cmd->add_option("--param", a->params,
                  "Override a weight for every whoknows method, NAME=VALUE (repeatable): half_life_days, "
                  "half_life_days_qa, w_thread, w_thread_qa, w_ppr, w_asker, w_prior, w_recent, w_topic, w_contact, "
                  "w_comment, w_accepted, ppr.alpha, "
                  "ppr.r_max, connect.beta, connect.ppr.alpha, connect.ppr.r_max");
  cmd->add_option("--tune-rounds", a->tune_rounds,
                  "With --validate: coordinate-ascent rounds (0 = just score the current weights)")
      ->capture_default_str();
  cmd->add_flag("--validate", a->validate,
                "Tune weights on a validation split carved from each training period (never the test split)");
  cmd->add_option("--history", a->max_history,
                  "Learning to rank: train the whoknows ranker on the newest N queries before the split "
                  "(0 = the hand-tuned blend)")
      ->capture_default_str();
  cmd->add_option("--ltr-objective", a->ltr_objective, "XGBoost ranking objective (rank:pairwise, rank:ndcg)")
      ->capture_default_str();
  cmd->add_option("--ltr-rounds", a->ltr_rounds, "XGBoost boosting rounds")->capture_default_str();
  cmd->add_option("--ltr-depth", a->ltr_depth, "XGBoost tree depth")->capture_default_str();
  cmd->add_option("--ltr-booster", a->ltr_booster, "XGBoost booster (gbtree, gblinear)")->capture_default_str();
  cmd->add_option("--min-history", a->min_history,
                  "Learning to rank: fewer usable history queries than this -> the hand-tuned blend (0 = the default, " +
                      std::to_string(engine::TrainOptions{}.min_groups) + ")");
  cmd->add_flag("--other-answerers", a->other_answerers,
                "Learning to rank, Q&A: history = every answered question, labels graded (accepted answerer 2, "
                "other answerers 1) instead of questions with an accepted answer");
  cmd->add_flag("--validation-tables", a->validation_tables,
                "With --validate: every method's table on the validation split instead of tuning");
  cmd->add_option("--cases-out", a->cases_out,
                  "routing/replies: append each case's reciprocal rank per method to this file (JSON lines)");
  cmd->add_flag("--on-validation", a->on_validation,
                "Report every method on the validation split (the training period split again), not the test split");
  cmd->add_option("--connect-variant", a->connect_variants,
                  "connect: also train and report BOOSTER:DEPTH:ROUNDS[:OBJECTIVE] (repeatable; for --on-validation)");
  cmd->add_option("--connect-fractions", a->connect_fractions,
                  "connect: history times as fractions of the training period's docs")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--connect-recent", a->connect_recent, "connect: most recently active candidates per person")
      ->capture_default_str();
  cmd->add_option("--connect-link", a->connect_link, "connect: best distance-two (Adamic-Adar) candidates per person")
      ->capture_default_str();
  cmd->add_option("--connect-booster", a->connect_train.booster, "connect: XGBoost booster (gbtree, gblinear)")
      ->capture_default_str();
  cmd->add_option("--connect-rounds", a->connect_train.rounds, "connect: XGBoost boosting rounds")
      ->capture_default_str();
  cmd->add_option("--connect-depth", a->connect_train.max_depth, "connect: XGBoost tree depth")->capture_default_str();
  cmd->add_option("--connect-objective", a->connect_train.objective, "connect: XGBoost ranking objective")
      ->capture_default_str();
  cmd->add_flag("--balance", a->balance,
                "routing/replies: replay the test period in time order, routing each question to the top 3 and "
                "logging it; MRR beside max_share, gini and distinct_people (with --validate: tune the balance "
                "trade-off on the validation split)");
  cmd->add_option("--balance-weight", a->balance_options.balance.weight, "Balance: load price at full load (marginal gain: in reciprocal rank; spread charge: in score spreads)")
      ->capture_default_str();
  cmd->add_option("--balance-capacity", a->balance_options.balance.default_capacity,
                  "Balance: routed questions per week that count as full load")
      ->capture_default_str();
  cmd->add_option("--balance-pool", a->balance_options.balance.pool, "Balance: candidates re-ranked")
      ->capture_default_str();
  cmd->add_option("--balance-exponent", a->balance_options.balance.exponent,
                  "Balance: load exponent (2 = light loads barely count, heavy ones a lot)")
      ->capture_default_str();
  cmd->add_option("--balance-share-cap", a->balance_options.balance.share_cap,
                  "Balance: share of the last --balance-recent questions that counts as full load (0 = off)")
      ->capture_default_str();
  cmd->add_option("--balance-recent", a->balance_options.balance.recent_questions,
                  "Balance: how many recent questions the share is taken over")
      ->capture_default_str();
  cmd->add_option("--balance-activity-weight", a->balance_options.balance.activity_weight,
                  "Balance: the most active candidate's capacity is (1 + this) x the default")
      ->capture_default_str();
  cmd->add_option("--balance-keep-top", a->balance_options.balance.keep_top_margin,
                  "Balance: the first candidate keeps the first place when this far (in score spread) ahead "
                  "(< 0 = off)")
      ->capture_default_str();
  cmd->add_option("--balance-route-k", a->balance_options.balance.route_k,
                  "Balance: only who fills the first N places changes, the rest keep their order (0 = re-sort "
                  "the pool)")
      ->capture_default_str();
  cmd->add_option("--balance-gain-depth", a->balance_options.balance.gain_depth,
                  "Balance: marginal-gain assignment among the first N (0 = the spread charge; README)")
      ->capture_default_str();
  cmd->add_option("--balance-gain-beta", a->balance_options.balance.gain_beta,
                  "Balance, marginal gain: score calibration (chance of answering ~ exp(beta x score / spread))")
      ->capture_default_str();
  cmd->add_option("--balance-outcome-weight", a->balance_options.balance.outcome_weight,
                  "Balance: feedback from recent outcomes (answer chance x m^this; 0 = off; README)")
      ->capture_default_str();
  cmd->add_option("--balance-outcome-prior", a->balance_options.balance.outcome_prior,
                  "Balance: pseudo-outcomes shrinking a person's answer rate towards the pool's")
      ->capture_default_str();
  cmd->add_option("--balance-outcome-days", a->balance_options.balance.outcome_days,
                  "Balance: outcomes of the last N days count")
      ->capture_default_str();
  cmd->add_option("--balance-decline-weight", a->balance_options.balance.decline_weight,
                  "Balance: discount for declines (no response counts half)")
      ->capture_default_str();
  cmd->add_flag_callback("--balance-no-outcomes", [a]() { a->balance_options.outcomes = false; },
                "Balance replay: no outcomes are fed back (the load comes from routings alone)");
  cmd->add_option("--balance-no-response-days", a->balance_options.no_response_days,
                  "Balance replay: a routed person who has not answered after N days is a no response")
      ->capture_default_str();
  cmd->add_option("--balance-mail-weight", a->balance_options.balance.mail_weight,
                  "Balance: --balance-weight for mail questions (most evidence is mail; < 0 = the same)")
      ->capture_default_str();
  cmd->add_option("--balance-mail-share-cap", a->balance_options.balance.mail_share_cap,
                  "Balance: --balance-share-cap for mail questions (< 0 = the same)")
      ->capture_default_str();
  cmd->add_option("--balance-mail-free-load", a->balance_options.balance.mail_free_load,
                  "Balance: --balance-free-load for mail questions (< 0 = the same)")
      ->capture_default_str();
  cmd->add_option("--balance-free-load", a->balance_options.balance.free_load,
                  "Balance: loads below this fraction of full cost nothing (0 = off; < 1)")
      ->capture_default_str();
  cmd->add_option("--balance-grid", a->balance_options.grid,
                  "Balance --validate: full (both modes), mail (only the mail settings), free-load (free load x "
                  "share cap x weight) or capacity (weekly capacity x share cap); the last three by the margin "
                  "rule (README)")
      ->capture_default_str();
  cmd->add_option("--balance-min-mrr", a->min_mrr_ratio,
                  "Balance --validate: keep MRR at least this fraction of unbalanced")
      ->capture_default_str();
  cmd->add_flag("--question-topics", a->question_topics,
                "routing: rank with the question's own tags as its topics (whoknows methods and their training)");
  cmd->add_option("--validation-fraction", a->validation_fraction,
                  "--validate: split the training period at this fraction (default: --split-fraction)");
  cmd->add_option("--blend-weight", a->blend_weight,
                  "Weight of the hand-tuned blend mixed into the learned ranker's score, 0..1 "
                  "(negative: chosen on the newest quarter of the history)")
      ->capture_default_str();
  cmd->add_option("--ltr-lambda", a->ltr_lambda, "XGBoost L2 regularisation (lambda); 0 = XGBoost's default")
      ->capture_default_str();
  cmd->add_option("--ltr-alpha", a->ltr_alpha, "XGBoost L1 regularisation (alpha); 0 = XGBoost's default");
  cmd->add_option("--min-vote-share", a->min_vote_share,
                  "whoknows methods: people whose vote is below this share of the query's best vote are listed with "
                  "those without a matching document (0: any vote counts)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_flag("--pooled-training", a->pooled_training,
                "routing/replies: also rank with rankers trained on several data sets' histories (each before its "
                "own split): whoknows-pooled (all), whoknows-loo (the others only), whoknows-mix[W] (own + others "
                "weighted W)");
  cmd->add_option("--pooled-other-weight", a->pooled_other_weights,
                  "--pooled-training: weight of the other data sets' history in whoknows-mix[W] (repeatable)")
      ->capture_default_str();
  cmd->add_option("--subject-weight", a->subject_weight,
                  "replies: a mail/chat thread start is searched with its subject's hits added at this weight "
                  "(test cases and training history; 0: the whole text only)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->add_flag("--quiet", a->quiet, "No progress on stderr");
  cmd->callback([a, exit_code] { *exit_code = RunEvalCommand(*a); });
}

}  // namespace whoknows::service
