#include "whoknows/service/eval_balance.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/engine/metrics.h"
#include "whoknows/routing/experts.h"

namespace whoknows::service {
namespace {

constexpr const char* kMethods[] = {"whoknows", "whoknows-balanced", "popularity", "round-robin",
                                    "whoknows-outcomes"};
constexpr size_t kNumMethods = 5;

// An outcome of a routing, applied to the method's load model once the
// replay reaches its time (RecordOutcome as a live system would see it).
struct OutcomeEvent {
  int64_t time = 0;
  uint64_t serial = 0;  // ties: in the order the events were made
  std::string person, routing_id;
  routing::Outcome outcome = routing::Outcome::kPending;
  bool operator>(const OutcomeEvent& o) const { return time != o.time ? time > o.time : serial > o.serial; }
};

// Per method: the routed counts per person and the reciprocal-rank sum.
struct Tally {
  absl::flat_hash_map<std::string, uint32_t> routed;
  double rr = 0;
  size_t n = 0;
  routing::LoadModel model;  // the log this method's routings build up
  std::priority_queue<OutcomeEvent, std::vector<OutcomeEvent>, std::greater<>> pending;  // outcomes not yet known
};

double Round4(double x) { return std::round(x * 1e4) / 1e4; }

// Counts over the population: every person active before the split, plus anyone routed.
std::vector<uint32_t> Counts(const engine::Snapshot& s, const Tally& t) {
  std::vector<uint32_t> counts;
  absl::flat_hash_map<std::string, uint32_t> left = t.routed;
  for (uint32_t p = 0; p < s.num_persons(); ++p) {
    if (s.person(p).doc_count == 0) continue;
    auto it = left.find(s.person(p).id);
    counts.push_back(it == left.end() ? 0 : it->second);
    if (it != left.end()) left.erase(it);
  }
  for (const auto& [id, n] : left) counts.push_back(n);
  return counts;
}

// The rankings of one data set's cases, computed once and replayed under
// any number of balance settings (they do not depend on the load).
struct Ranked {
  std::vector<std::vector<engine::Expert>> whoknows;  // per case
  std::vector<std::vector<std::string>> popularity;   // per case
  std::vector<routing::QuestionSource> source;        // per case, from its hits (as FindExperts)
};

absl::StatusOr<Ranked> RankCases(const ReplaySet& set, const EvalOptions& o, const BalanceEvalOptions& bo) {
  const engine::Snapshot& s = *set.snapshot;
  Ranked r;
  for (const ReplayCase& c : set.cases) {
    // Ranked exactly as `whoknows` in RunEval: the learned ranker of this
    // split, as of the split (where the index ends), the asker excluded. The
    // load is taken at the question's own time (Replay).
    engine::AskOptions base = o.ask;
    base.offset = 0;
    base.now = set.split_time;
    base.model = set.model;
    if (c.asker != nullptr) base.asker = *c.asker;
    base.exclude_persons = *c.exclude;
    base.max_evidence = 1;
    base.max_topics = 0;
    base.explain = false;
    base.k = std::max(o.depth, bo.balance.pool);
    WK_ASSIGN_OR_RETURN(std::vector<engine::Expert> w, engine::RankExperts(s, *c.hits, base));
    for (engine::Expert& e : w) e.evidence.clear();
    r.source.push_back(routing::QuestionSourceOf(s, *c.hits));
    r.whoknows.push_back(std::move(w));
    engine::AskOptions po = o.baseline_ask;
    po.method = engine::Method::kPopularity;
    po.k = o.depth;
    po.offset = 0;
    po.now = set.split_time;
    if (c.asker != nullptr) po.asker = *c.asker;
    po.exclude_persons = *c.exclude;
    po.max_evidence = 1;
    po.max_topics = 0;
    WK_ASSIGN_OR_RETURN(std::vector<engine::Expert> p, engine::RankExperts(s, *c.hits, po));
    std::vector<std::string> ids;
    for (const engine::Expert& e : p) ids.push_back(e.id);
    r.popularity.push_back(std::move(ids));
  }
  return r;
}

absl::Status Replay(const ReplaySet& set, const Ranked& rk, const EvalOptions& o, const BalanceEvalOptions& bo,
                    std::vector<Tally>* tallies) {
  const engine::Snapshot& s = *set.snapshot;
  std::vector<std::string> ranked;
  size_t rr_pointer = 0;
  uint64_t serial = 0, event_serial = 0;
  // whoknows-outcomes: unbalanced, but sees the same outcomes (no load price).
  routing::BalanceOptions outcomes_only = bo.balance;
  outcomes_only.weight = 0;
  outcomes_only.mail_weight = -1;  // no load price for mail questions either
  const int64_t no_response_after = static_cast<int64_t>(bo.no_response_days * 86400);
  for (size_t ci = 0; ci < set.cases.size(); ++ci) {
    const ReplayCase& c = set.cases[ci];
    const std::vector<engine::Expert>& whoknows = rk.whoknows[ci];
    for (size_t m = 0; m < kNumMethods; ++m) {
      Tally& t = (*tallies)[m];
      ranked.clear();
      const std::string_view method = kMethods[m];
      // Outcomes known strictly before this question (answered at the
      // answer's time; no response once no_response_days have passed).
      while (!t.pending.empty() && t.pending.top().time < c.now) {
        const OutcomeEvent& ev = t.pending.top();
        t.model.SetOutcome(ev.person, ev.routing_id, ev.outcome, ev.time);
        t.pending.pop();
      }
      if (method == "whoknows") {
        for (const engine::Expert& e : whoknows) ranked.push_back(e.id);
      } else if (method == "whoknows-balanced") {
        std::vector<engine::Expert> b = whoknows;
        WK_RETURN_IF_ERROR(routing::BalanceExperts(&b, t.model, c.now, bo.balance, &s, rk.source[ci]));
        for (const engine::Expert& e : b) ranked.push_back(e.id);
      } else if (method == "whoknows-outcomes") {
        std::vector<engine::Expert> b = whoknows;
        WK_RETURN_IF_ERROR(routing::BalanceExperts(&b, t.model, c.now, outcomes_only, &s, rk.source[ci]));
        for (const engine::Expert& e : b) ranked.push_back(e.id);
      } else if (method == "popularity") {
        ranked = rk.popularity[ci];
      } else {  // round-robin among the top-n
        const size_t n = std::min(bo.round_robin_n, whoknows.size());
        std::vector<bool> taken(whoknows.size(), false);
        for (size_t j = 0; j < std::min(bo.route_k, n); ++j) {
          const size_t i = (rr_pointer + j) % n;
          ranked.push_back(whoknows[i].id);
          taken[i] = true;
        }
        if (n > 0) rr_pointer = (rr_pointer + bo.route_k) % n;
        for (size_t i = 0; i < whoknows.size(); ++i) {
          if (!taken[i]) ranked.push_back(whoknows[i].id);
        }
      }
      if (ranked.size() > o.depth) ranked.resize(o.depth);
      t.rr += engine::ReciprocalRank(ranked, *c.truth);
      ++t.n;
      // One routing id per question, shared by the people it went to, as
      // RecordRouting logs it (the load model's "last N questions" counts questions).
      const std::string routing_id = absl::StrCat(c.key, "#", ++serial);
      for (size_t j = 0; j < ranked.size() && j < bo.route_k; ++j) {
        ++t.routed[ranked[j]];
        routing::RoutingEntry e;
        e.routing_id = routing_id;
        e.person = ranked[j];
        e.question = c.key;
        e.time = c.now;
        t.model.Add(e);
        if (!bo.outcomes || (method != "whoknows-balanced" && method != "whoknows-outcomes")) continue;
        // The outcome, as RecordOutcome would report it: answered when the
        // person answered (at that time), else no response after the delay.
        int64_t answered_at = -1;
        const std::vector<std::string>& responders = c.responders != nullptr ? *c.responders : *c.truth;
        for (size_t x = 0; x < responders.size(); ++x) {
          if (responders[x] == ranked[j]) {
            answered_at = c.responder_time != nullptr && x < c.responder_time->size() ? (*c.responder_time)[x] : c.now;
          }
        }
        const int64_t silent_at = c.now + no_response_after;
        if (answered_at < 0 || answered_at > silent_at) {
          t.pending.push({silent_at, ++event_serial, ranked[j], routing_id, routing::Outcome::kNoResponse});
        }
        if (answered_at >= 0) {
          t.pending.push({std::max(answered_at, c.now), ++event_serial, ranked[j], routing_id,
                          routing::Outcome::kAnswered});
        }
      }
    }
  }
  return absl::OkStatus();
}

BalanceDataset Summarise(const std::string& path, const std::vector<std::vector<uint32_t>>& counts,
                         const std::vector<Tally>& tallies) {
  BalanceDataset d;
  d.path = path;
  d.n = tallies.empty() ? 0 : tallies[0].n;
  for (size_t m = 0; m < tallies.size(); ++m) {
    LoadMethodResult r;
    r.method = kMethods[m];
    r.mrr = tallies[m].n ? tallies[m].rr / static_cast<double>(tallies[m].n) : 0;
    r.load = routing::ComputeLoadFigures(counts[m], tallies[m].n);
    d.methods.push_back(std::move(r));
  }
  return d;
}

// How far inside the three balance targets a balanced result is: the smallest
// of MRR / (min_mrr_ratio x unbalanced), (0.5 x unbalanced max_share) /
// max_share and distinct / (1.5 x unbalanced distinct), minus 1 (>= 0: all
// three met).
double TargetMargin(const LoadMethodResult& plain, const LoadMethodResult& bal, double min_mrr_ratio) {
  const double mrr = plain.mrr > 0 ? bal.mrr / (min_mrr_ratio * plain.mrr) : 1.0;
  const double share = bal.load.max_share > 0 ? 0.5 * plain.load.max_share / bal.load.max_share : 1.0;
  const double distinct = plain.load.distinct_people > 0
                              ? static_cast<double>(bal.load.distinct_people) /
                                    (1.5 * static_cast<double>(plain.load.distinct_people))
                              : 1.0;
  return std::min({mrr, share, distinct}) - 1.0;
}

nlohmann::json DatasetJson(const BalanceDataset& d) {
  nlohmann::json arr = nlohmann::json::array();
  for (const LoadMethodResult& m : d.methods) {
    arr.push_back({{"method", m.method},
                   {"mrr", Round4(m.mrr)},
                   {"max_share", Round4(m.load.max_share)},
                   {"gini", Round4(m.load.gini)},
                   {"distinct_people", m.load.distinct_people}});
  }
  nlohmann::json j = {{"path", d.path}, {"n", d.n}, {"methods", arr}};
  if (!d.ranker.empty()) j["ranker"] = d.ranker;
  return j;
}

nlohmann::json OptionsJson(const routing::BalanceOptions& b) {
  return {{"weight", b.weight},         {"exponent", b.exponent},       {"default_capacity", b.default_capacity},
          {"decline_weight", b.decline_weight}, {"window_days", b.window_days}, {"pool", b.pool},
          {"recent_questions", b.recent_questions}, {"share_cap", b.share_cap},
          {"activity_weight", b.activity_weight}, {"keep_top_margin", b.keep_top_margin}, {"route_k", b.route_k},
          {"mode", b.gain_depth > 0 ? "gain" : "spread"}, {"gain_depth", b.gain_depth}, {"gain_beta", b.gain_beta},
          {"outcome_weight", b.outcome_weight}, {"outcome_prior", b.outcome_prior}, {"outcome_days", b.outcome_days},
          {"mail_weight", b.mail_weight}, {"mail_share_cap", b.mail_share_cap},
          {"mail_free_load", b.mail_free_load}, {"free_load", b.free_load}};
}

void AppendTable(const BalanceDataset& d, std::string* out) {
  absl::StrAppendFormat(out, "  %-20s %6s %7s %10s %7s %9s\n", "method", "n", "MRR", "max_share", "gini", "distinct");
  for (const LoadMethodResult& m : d.methods) {
    absl::StrAppendFormat(out, "  %-20s %6d %7.3f %10.3f %7.3f %9d\n", m.method, d.n, m.mrr, m.load.max_share,
                          m.load.gini, m.load.distinct_people);
  }
}

}  // namespace

absl::StatusOr<BalanceEvalReport> RunBalanceEval(EvalTask task, const std::vector<std::string>& paths,
                                                 const EvalOptions& o, const BalanceEvalOptions& bo) {
  BalanceEvalReport report;
  report.task = task;
  report.validation = bo.validation;
  report.balance = bo.balance;
  report.outcomes = bo.outcomes;
  report.no_response_days = bo.no_response_days;
  std::vector<std::vector<uint32_t>> pooled_counts(kNumMethods);
  std::vector<Tally> pooled(kNumMethods);
  WK_RETURN_IF_ERROR(ForEachReplaySet(task, paths, o, bo.validation, [&](const ReplaySet& set) -> absl::Status {
    WK_ASSIGN_OR_RETURN(Ranked rk, RankCases(set, o, bo));
    std::vector<Tally> tallies(kNumMethods);
    WK_RETURN_IF_ERROR(Replay(set, rk, o, bo, &tallies));
    std::vector<std::vector<uint32_t>> counts(kNumMethods);
    for (size_t m = 0; m < kNumMethods; ++m) {
      counts[m] = Counts(*set.snapshot, tallies[m]);
      pooled_counts[m].insert(pooled_counts[m].end(), counts[m].begin(), counts[m].end());
      pooled[m].rr += tallies[m].rr;
      pooled[m].n += tallies[m].n;
    }
    BalanceDataset d = Summarise(set.path, counts, tallies);
    d.split_time = set.split_time;
    d.ranker = set.ranker;
    if (o.log) {
      for (const LoadMethodResult& m : d.methods) {
        o.log(absl::StrFormat("eval --balance: %s: %-18s MRR %.3f max_share %.3f distinct %d", set.path, m.method,
                              m.mrr, m.load.max_share, m.load.distinct_people));
      }
    }
    report.datasets.push_back(std::move(d));
    return absl::OkStatus();
  }));
  report.pooled = Summarise("pooled", pooled_counts, pooled);
  return report;
}

nlohmann::json BalanceEvalReportToJson(const BalanceEvalReport& r) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const BalanceDataset& d : r.datasets) datasets.push_back(DatasetJson(d));
  nlohmann::json pooled = DatasetJson(r.pooled);
  pooled.erase("path");
  return {{"task", std::string(EvalTaskName(r.task))},
          {"replay", r.validation ? "validation" : "test"},
          {"outcomes", r.outcomes},
          {"no_response_days", r.no_response_days},
          {"balance", OptionsJson(r.balance)},
          {"datasets", datasets},
          {"pooled", pooled}};
}

std::string FormatBalanceEvalReport(const BalanceEvalReport& r) {
  std::string out;
  absl::StrAppendFormat(&out,
                        "whoknows eval %s --balance: the %s period replayed in time order, each question routed to "
                        "the top 3 and logged\n"
                        "balance: weight %g, default capacity %g/week, window %g days, share cap %g of the last %d "
                        "questions, exponent %g, pool %d, activity weight %g, keep-top margin %g, %s\n",
                        EvalTaskName(r.task), r.validation ? "validation" : "test", r.balance.weight,
                        r.balance.default_capacity, r.balance.window_days, r.balance.share_cap,
                        r.balance.recent_questions, r.balance.exponent, r.balance.pool, r.balance.activity_weight,
                        r.balance.keep_top_margin,
                        r.balance.gain_depth > 0 ? absl::StrFormat("marginal-gain assignment among the first %d "
                                                                   "(beta %g)",
                                                                   r.balance.gain_depth, r.balance.gain_beta)
                                                 : std::string("spread charge"));
  if (r.balance.free_load > 0) absl::StrAppendFormat(&out, "free load %g\n", r.balance.free_load);
  if (r.balance.mail_weight >= 0 || r.balance.mail_share_cap >= 0 || r.balance.mail_free_load >= 0) {
    const routing::BalanceOptions m = routing::OptionsForSource(r.balance, routing::QuestionSource::kMail);
    absl::StrAppendFormat(&out, "mail questions (most of their matches are mail): weight %g, share cap %g, free load %g\n",
                          m.weight, m.share_cap, m.free_load);
  }
  if (r.outcomes) {
    absl::StrAppendFormat(&out,
                          "outcomes fed back as RecordOutcome would see them (answered when answered, no response "
                          "after %g days; only questions routed earlier): whoknows-balanced and whoknows-outcomes "
                          "(unbalanced) use them with outcome weight %g over %g days; whoknows, popularity and "
                          "round-robin do not\n",
                          r.no_response_days, r.balance.outcome_weight, r.balance.outcome_days);
  } else {
    out += "no outcomes fed back (--balance-no-outcomes): the load comes from routings alone\n";
  }
  for (const BalanceDataset& d : r.datasets) {
    absl::StrAppendFormat(&out, "\n%s (%d questions; whoknows ranker: %s)\n", d.path, d.n, d.ranker);
    AppendTable(d, &out);
  }
  if (r.datasets.size() > 1) {
    absl::StrAppendFormat(&out, "\npooled over %d data sets\n", r.datasets.size());
    AppendTable(r.pooled, &out);
  }
  return out;
}

absl::StatusOr<BalanceTuneResult> TuneBalance(EvalTask task, const std::vector<std::string>& paths,
                                              const EvalOptions& o, const BalanceEvalOptions& bo_in,
                                              double min_mrr_ratio) {
  // Each data set is prepared once and replayed per grid point.
  std::vector<routing::BalanceOptions> grid;
  const bool mail_grid = bo_in.grid == "mail", free_grid = bo_in.grid == "free-load";
  const bool capacity_grid = bo_in.grid == "capacity";
  if (!mail_grid && !free_grid && !capacity_grid && bo_in.grid != "full") {
    return absl::InvalidArgumentError(absl::StrCat("--balance-grid: unknown grid \"", bo_in.grid,
                                                   "\" (full, mail, free-load, capacity)"));
  }
  // The small grids: three dimensions, the rest as given. Free loads
  // (routing::BalanceOptions::free_load) with the load price's cap and level;
  // the mail settings (routing::BalanceOptions::mail_weight), chosen on a
  // mail archive's validation split.
  using Set = void (*)(routing::BalanceOptions*, double, double, double);
  auto small = [&](std::initializer_list<double> xs, std::initializer_list<double> ys,
                   std::initializer_list<double> zs, Set set) {
    for (double x : xs) {
      for (double y : ys) {
        for (double z : zs) {
          routing::BalanceOptions b = bo_in.balance;
          b.route_k = bo_in.route_k;
          set(&b, x, y, z);
          grid.push_back(b);
        }
      }
    }
  };
  if (free_grid) {
    small({0.0, 0.25, 0.5, 0.75}, {0.4, 0.5}, {0.4, 0.2}, [](routing::BalanceOptions* b, double f, double s, double w) {
      b->free_load = f;
      b->share_cap = s;
      b->weight = w;
    });
  }
  if (mail_grid) {
    small({0.4, 0.2}, {0.4, 0.5}, {0.0, 0.25, 0.5}, [](routing::BalanceOptions* b, double w, double s, double f) {
      b->mail_weight = w;
      b->mail_share_cap = s;
      b->mail_free_load = f;
    });
  }
  if (capacity_grid) {
    // The weekly capacity (default_capacity) with the share cap: on a busy
    // list the capacity binds before the share cap does.
    small({3.0, 6.0, 10.0, 1000.0}, {0.3, 0.4, 0.5}, {bo_in.balance.weight},
          [](routing::BalanceOptions* b, double c, double s, double w) {
            b->default_capacity = c;
            b->share_cap = s;
            b->weight = w;
          });
  }
  const bool small_grid = mail_grid || free_grid || capacity_grid;
  for (double keep : {-1.0, 0.3, 0.5}) {
    if (small_grid) break;
    for (double act : {0.0, 1.0, 3.0, 6.0}) {
      for (double e : {1.0, 2.0, 3.0}) {
        for (double share : {0.05, 0.1, 0.2, 0.3}) {
          for (double w : {0.5, 1.0, 2.0, 4.0, 8.0}) {
            routing::BalanceOptions b = bo_in.balance;
            b.gain_depth = 0;
            b.outcome_weight = 0;
            b.keep_top_margin = keep;
            b.activity_weight = act;
            b.exponent = e;
            b.share_cap = share;
            b.weight = w;
            b.route_k = bo_in.route_k;
            grid.push_back(b);
          }
        }
      }
    }
  }
  // Marginal-gain assignment (routing::BalanceOptions::gain_depth): the load
  // price is in units of reciprocal rank, so its weights are smaller.
  for (double beta : {2.0, 4.0}) {
    if (small_grid) break;
    for (size_t recent : {20, 40}) {
      for (double share : {0.2, 0.3, 0.4, 0.5}) {
        for (double e : {1.0, 2.0, 4.0, 8.0}) {
          for (double w : {0.05, 0.1, 0.2, 0.4}) {
            // Feedback from outcomes (off, or weight x window in days).
            for (auto [ow, od] : {std::pair{0.0, 90.0}, {0.5, 90.0}, {1.0, 90.0}, {2.0, 90.0}, {0.5, 365.0},
                                  {1.0, 365.0}, {2.0, 365.0}}) {
              routing::BalanceOptions b = bo_in.balance;
              b.gain_depth = 6;
              b.gain_beta = beta;
              b.recent_questions = recent;
              b.keep_top_margin = -1;
              b.activity_weight = 0;
              b.exponent = e;
              b.share_cap = share;
              b.weight = w;
              b.route_k = bo_in.route_k;
              b.outcome_weight = ow;
              b.outcome_days = od;
              grid.push_back(b);
            }
          }
        }
      }
    }
  }
  std::vector<std::vector<Tally>> pooled(grid.size());
  for (std::vector<Tally>& v : pooled) v = std::vector<Tally>(kNumMethods);
  std::vector<std::vector<std::vector<uint32_t>>> counts(grid.size(), std::vector<std::vector<uint32_t>>(kNumMethods));
  WK_RETURN_IF_ERROR(ForEachReplaySet(task, paths, o, /*validation=*/true, [&](const ReplaySet& set) -> absl::Status {
    WK_ASSIGN_OR_RETURN(Ranked rk, RankCases(set, o, bo_in));
    for (size_t g = 0; g < grid.size(); ++g) {
      BalanceEvalOptions bo = bo_in;
      bo.balance = grid[g];
      std::vector<Tally> t(kNumMethods);
      WK_RETURN_IF_ERROR(Replay(set, rk, o, bo, &t));
      for (size_t m = 0; m < kNumMethods; ++m) {
        std::vector<uint32_t> c = Counts(*set.snapshot, t[m]);
        counts[g][m].insert(counts[g][m].end(), c.begin(), c.end());
        pooled[g][m].rr += t[m].rr;
        pooled[g][m].n += t[m].n;
      }
    }
    return absl::OkStatus();
  }));
  BalanceTuneResult result;
  result.chosen = bo_in.balance;
  const bool margin_rule = small_grid;
  result.rule = margin_rule ? "margin" : "lowest-share";
  double best_share = 2, best_mrr = -1, best_margin = -1;
  for (size_t g = 0; g < grid.size(); ++g) {
    BalanceDataset d = Summarise("validation", counts[g], pooled[g]);
    const LoadMethodResult& plain = d.methods[0];
    const LoadMethodResult& bal = d.methods[1];
    const bool ok = bal.mrr >= min_mrr_ratio * plain.mrr &&
                    static_cast<double>(bal.load.distinct_people) >= 1.5 * static_cast<double>(plain.load.distinct_people);
    bool better = false;
    if (margin_rule) {
      // The point furthest inside all three targets: the largest of the
      // smallest relative slacks (MRR over min_mrr_ratio x, max_share under
      // 0.5x, distinct over 1.5x); ties to higher MRR.
      const double margin = TargetMargin(plain, bal, min_mrr_ratio);
      better = margin >= 0 && (margin > best_margin + 1e-9 ||
                               (std::abs(margin - best_margin) <= 1e-9 && bal.mrr > best_mrr));
      if (better) best_margin = margin;
    } else {
      better = ok && (bal.load.max_share < best_share - 1e-9 ||
                      (std::abs(bal.load.max_share - best_share) <= 1e-9 && bal.mrr > best_mrr));
    }
    if (better) {
      best_share = bal.load.max_share;
      best_mrr = bal.mrr;
      result.chosen = grid[g];
      result.chosen_index = g;
      result.met = true;
    }
    result.grid.emplace_back(grid[g], std::move(d));
  }
  return result;
}

nlohmann::json BalanceTuneResultToJson(const BalanceTuneResult& r) {
  nlohmann::json grid = nlohmann::json::array();
  for (const auto& [b, d] : r.grid) grid.push_back({{"balance", OptionsJson(b)}, {"pooled", DatasetJson(d)}});
  return {{"chosen", OptionsJson(r.chosen)}, {"constraints_met", r.met}, {"rule", r.rule}, {"grid", grid}};
}

std::string FormatBalanceTuneResult(const BalanceTuneResult& r) {
  std::string out = absl::StrFormat(
      "balance grid on the validation split (pooled), %d points; the Pareto frontier of (max_share, MRR) "
      "(--json: every point)\n"
      "  mode    keep_top activity recent exponent share_cap weight outcome_weight/days | MRR plain/balanced (ratio) | "
      "max_share "
      "plain/balanced (ratio) | distinct plain/balanced\n"
      "  (mode spread: load charged in score spreads; gain(depth,beta): marginal-gain assignment, price in RR)\n",
      r.grid.size());
  auto line = [&](const char* mark, const routing::BalanceOptions& b, const BalanceDataset& d) {
    const LoadMethodResult& p = d.methods[0];
    const LoadMethodResult& q = d.methods[1];
    const std::string mode = b.gain_depth > 0 ? absl::StrFormat("gain(%d,%g)", b.gain_depth, b.gain_beta) : "spread";
    absl::StrAppendFormat(&out, "%s %-9s %5g %4g %4d %g %5g %5g %g/%g | %.3f %.3f (%.2f) | %.3f %.3f (%.2f) | %d %d\n",
                          mark, mode, b.keep_top_margin, b.activity_weight, b.recent_questions, b.exponent,
                          b.share_cap, b.weight, b.outcome_weight, b.outcome_days, p.mrr, q.mrr,
                          p.mrr > 0 ? q.mrr / p.mrr : 0.0, p.load.max_share, q.load.max_share,
                          p.load.max_share > 0 ? q.load.max_share / p.load.max_share : 0.0, p.load.distinct_people,
                          q.load.distinct_people);
    if (b.mail_weight >= 0 || b.mail_share_cap >= 0 || b.mail_free_load >= 0 || b.free_load > 0) {
      out.pop_back();
      absl::StrAppendFormat(&out, " | mail weight %g share_cap %g free_load %g | free_load %g\n", b.mail_weight,
                            b.mail_share_cap, b.mail_free_load, b.free_load);
    }
  };
  std::vector<size_t> frontier;
  for (size_t g = 0; g < r.grid.size(); ++g) {
    const LoadMethodResult& q = r.grid[g].second.methods[1];
    bool dominated = false;
    for (size_t h = 0; h < r.grid.size() && !dominated; ++h) {
      const LoadMethodResult& q2 = r.grid[h].second.methods[1];
      dominated = q2.mrr >= q.mrr && q2.load.max_share <= q.load.max_share &&
                  (q2.mrr > q.mrr || q2.load.max_share < q.load.max_share || h < g);
    }
    if (!dominated) frontier.push_back(g);
  }
  std::sort(frontier.begin(), frontier.end(), [&](size_t a, size_t b) {
    return r.grid[a].second.methods[1].load.max_share < r.grid[b].second.methods[1].load.max_share;
  });
  for (size_t g : frontier) line(" ", r.grid[g].first, r.grid[g].second);
  if (r.met) {
    absl::StrAppendFormat(&out,
                          "chosen: gain_depth %d, gain_beta %g, keep_top_margin %g, activity_weight %g, "
                          "recent_questions %d, exponent %g, share_cap %g, weight %g, mail_weight %g, "
                          "mail_share_cap %g, mail_free_load %g, free_load %g (route_k %d; rule %s)\n",
                          r.chosen.gain_depth, r.chosen.gain_beta, r.chosen.keep_top_margin, r.chosen.activity_weight,
                          r.chosen.recent_questions, r.chosen.exponent, r.chosen.share_cap, r.chosen.weight,
                          r.chosen.mail_weight, r.chosen.mail_share_cap, r.chosen.mail_free_load, r.chosen.free_load,
                          r.chosen.route_k, r.rule);
    line(" ", r.grid[r.chosen_index].first, r.grid[r.chosen_index].second);
  } else {
    absl::StrAppendFormat(&out,
                          "no grid point kept MRR and 1.5x distinct people; options unchanged (weight %g, share_cap "
                          "%g)\n",
                          r.chosen.weight, r.chosen.share_cap);
  }
  return out;
}

}  // namespace whoknows::service
