#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "whoknows/routing/routing.h"

namespace whoknows::routing {

namespace {

// Marginal-gain assignment (BalanceOptions::gain_depth): out[0, pool) holds
// the pool in input order with loads and penalties (prices) set; reorders it.
void GainAssign(std::span<const Candidate> candidates, const BalanceOptions& o, size_t pool, double spread,
                std::vector<BalancedCandidate>* out) {
  std::vector<BalancedCandidate>& v = *out;
  // Chance of answering: softmax of the calibrated score over the pool.
  std::vector<double> p(pool);
  double total = 0;
  for (size_t i = 0; i < pool; ++i) {
    p[i] = std::exp(o.gain_beta * (candidates[i].score - candidates[0].score) / spread);
    total += p[i];
  }
  for (double& x : p) x /= total;
  // Who may take a routed place: the first gain_depth not at a capacity they set.
  std::vector<size_t> eligible;
  for (size_t i = 0; i < std::min(pool, o.gain_depth); ++i) {
    if (!v[i].at_capacity) eligible.push_back(i);
  }
  const size_t r = std::min(o.route_k, eligible.size());
  // Expected reciprocal rank of: chosen (in input order), then the rest of
  // the pool in input order, people at capacity last.
  std::vector<size_t> chosen(r), order, best;
  std::vector<bool> in(pool);
  auto value = [&]() {
    std::fill(in.begin(), in.end(), false);
    order.clear();
    double price = 0;
    for (size_t c : chosen) {
      in[c] = true;
      order.push_back(c);
      price += v[c].penalty;
    }
    for (bool cap : {false, true}) {
      for (size_t i = 0; i < pool; ++i) {
        if (!in[i] && v[i].at_capacity == cap) order.push_back(i);
      }
    }
    double err = 0;
    for (size_t pos = 0; pos < order.size(); ++pos) err += p[order[pos]] / static_cast<double>(pos + 1);
    return err - price;
  };
  // Every r-subset of the eligible, in lexicographic order (the input's own
  // top first, so ties keep it).
  std::vector<size_t> idx(r);
  for (size_t j = 0; j < r; ++j) idx[j] = j;
  double best_value = -std::numeric_limits<double>::infinity();
  while (true) {
    for (size_t j = 0; j < r; ++j) chosen[j] = eligible[idx[j]];
    const double val = value();
    if (val > best_value + 1e-12) {
      best_value = val;
      best = order;
    }
    size_t j = r;
    while (j > 0 && idx[j - 1] == eligible.size() - r + (j - 1)) --j;
    if (j == 0) break;
    ++idx[j - 1];
    for (size_t q = j; q < r; ++q) idx[q] = idx[q - 1] + 1;
  }
  if (best.empty()) {  // r == 0: nobody eligible
    chosen.clear();
    value();
    best = order;
  }
  std::vector<BalancedCandidate> sorted;
  sorted.reserve(pool);
  for (size_t pos = 0; pos < best.size(); ++pos) {
    BalancedCandidate b = std::move(v[best[pos]]);
    b.score = candidates[b.index].score;  // the order carries the decision, the score stays the relevance
    if (pos < r) {
      absl::StrAppendFormat(&b.note, "; routed (load price %.3f)", b.penalty);
    } else if (b.index < o.route_k && !b.at_capacity) {
      absl::StrAppendFormat(&b.note,
                            "; busy: passed to a near-equal free person (load price %.3f above the expected rank "
                            "it would gain)",
                            b.penalty);
    }
    sorted.push_back(std::move(b));
  }
  std::move(sorted.begin(), sorted.end(), v.begin());
}

}  // namespace

absl::StatusOr<std::vector<BalancedCandidate>> Balance(std::span<const Candidate> input, const LoadModel& model,
                                                       int64_t now, const BalanceOptions& o) {
  for (double v : {o.weight, o.exponent, o.default_capacity, o.decline_weight, o.window_days, o.share_cap,
                   o.activity_weight, o.gain_beta, o.outcome_weight, o.outcome_prior, o.outcome_days}) {
    if (!std::isfinite(v) || v < 0) return absl::InvalidArgumentError("balance options must be finite and >= 0");
  }
  if (o.window_days <= 0 || o.default_capacity <= 0) {
    return absl::InvalidArgumentError("balance window_days and default_capacity must be > 0");
  }
  if (std::isnan(o.keep_top_margin)) return absl::InvalidArgumentError("balance keep_top_margin must be a number");
  if (!(o.free_load >= 0 && o.free_load < 1)) return absl::InvalidArgumentError("balance free_load must be in [0, 1)");
  if (!std::isfinite(o.mail_weight) || !std::isfinite(o.mail_share_cap) || !std::isfinite(o.mail_free_load)) {
    return absl::InvalidArgumentError(
        "balance mail_weight, mail_share_cap and mail_free_load must be finite (< 0 = unset)");
  }
  const double window_weeks = o.window_days / 7.0;
  const int64_t window = static_cast<int64_t>(o.window_days * 86400);
  const int64_t outcome_window = static_cast<int64_t>(o.outcome_days * 86400);
  const size_t pool = std::min(input.size(), std::max<size_t>(o.pool, 1));
  // The pool's score spread: the unit in which load is charged.
  double spread = 0, top_activity = 0;
  if (pool > 0) {
    spread = input[0].score - input[pool - 1].score;
    if (!(spread > 0)) spread = std::max(std::abs(input[0].score), 1.0);
    for (size_t i = 0; i < pool; ++i) top_activity = std::max(top_activity, input[i].activity);
  }
  std::vector<PersonLoad> loads(pool);
  for (size_t i = 0; i < pool; ++i) {
    loads[i] = model.Get(input[i].person, now, window, o.share_cap > 0 ? o.recent_questions : 0, outcome_window);
  }
  // Feedback from recent outcomes (BalanceOptions::outcome_weight): the pool
  // is re-ordered by the outcome-adjusted score; `perm` maps back to the input.
  std::vector<size_t> perm(input.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::vector<double> factor(pool, 1.0);
  std::vector<Candidate> adjusted;
  std::span<const Candidate> candidates = input;
  if (o.outcome_weight > 0 && pool > 1) {
    double answered = 0, outcomes = 0;
    for (const PersonLoad& l : loads) {
      answered += l.recent_answered;
      outcomes += l.recent_answered + l.recent_unanswered;
    }
    if (outcomes > 0) {
      const double rho = (answered + 1.0) / (outcomes + 2.0);
      adjusted.assign(input.begin(), input.end());
      for (size_t i = 0; i < pool; ++i) {
        const double n = loads[i].recent_answered + loads[i].recent_unanswered;
        if (n == 0) continue;
        const double m = (loads[i].recent_answered + o.outcome_prior * rho) / (n + o.outcome_prior) / rho;
        factor[i] = std::pow(m, o.outcome_weight);
        adjusted[i].score += spread * o.outcome_weight * std::log(m) / std::max(o.gain_beta, 1e-9);
      }
      std::stable_sort(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(pool),
                       [&](size_t a, size_t b) { return adjusted[a].score > adjusted[b].score; });
      std::vector<Candidate> sorted(input.begin(), input.end());
      std::vector<PersonLoad> sorted_loads(pool);
      std::vector<double> sorted_factor(pool);
      for (size_t i = 0; i < pool; ++i) {
        sorted[i] = std::move(adjusted[perm[i]]);
        sorted_loads[i] = loads[perm[i]];
        sorted_factor[i] = factor[perm[i]];
      }
      adjusted = std::move(sorted);
      loads = std::move(sorted_loads);
      factor = std::move(sorted_factor);
      candidates = adjusted;
    }
  }
  std::vector<BalancedCandidate> out(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    BalancedCandidate& b = out[i];
    b.index = i;
    b.score = candidates[i].score;
    if (i >= pool) continue;
    b.load = loads[i];
    b.outcome_factor = factor[i];
    const bool own = b.load.capacity > 0;
    // Capacity relative to the person's own history (activity_weight 0: flat).
    const double lift =
        1.0 + (top_activity > 0 ? o.activity_weight * std::max(0.0, candidates[i].activity) / top_activity : 0.0);
    b.capacity = (own ? static_cast<double>(b.load.capacity) : o.default_capacity * lift) * window_weeks;
    double u = static_cast<double>(b.load.routed) / b.capacity;
    if (o.share_cap > 0 && b.load.recent_total > 0) {
      u = std::max(u, static_cast<double>(b.load.recent) / static_cast<double>(b.load.recent_total) /
                          (o.share_cap * lift));
    }
    const double outcomes = static_cast<double>(b.load.declined + b.load.no_response + b.load.answered);
    const double decline_rate = (b.load.declined + 0.5 * b.load.no_response) / (outcomes + 2.0);
    // Loads under free_load of full cost nothing (BalanceOptions::free_load).
    const double x = o.free_load > 0 ? std::max(0.0, u - o.free_load) / (1.0 - o.free_load) : u;
    b.penalty = (x > 0 ? o.weight * std::pow(x, o.exponent) : 0.0) + o.decline_weight * decline_rate;
    b.score = candidates[i].score - spread * b.penalty;
    b.at_capacity = own && static_cast<double>(b.load.routed) >= b.capacity;
    if (b.at_capacity) {
      b.note = absl::StrFormat("at capacity: %d routed in %g days of %g (-%.2f, listed after people with room)",
                               b.load.routed, o.window_days, b.capacity, b.penalty);
    } else if (b.load.routed == 0 && b.load.recent == 0 && b.load.declined == 0) {
      b.note = absl::StrFormat("free: nothing routed in %g days", o.window_days);
    } else {
      b.note = absl::StrFormat("%d routed in %g days of capacity %g, %d of the last %d questions, %d declined (-%.2f)",
                               b.load.routed, o.window_days, b.capacity, b.load.recent, b.load.recent_total,
                               b.load.declined, b.penalty);
    }
    if (b.outcome_factor != 1.0) {
      absl::StrAppendFormat(&b.note,
                            "; answered %d of %d routed questions with an outcome in %g days (answer chance x%.2f)",
                            b.load.recent_answered, b.load.recent_answered + b.load.recent_unanswered, o.outcome_days,
                            b.outcome_factor);
    }
  }
  if (o.gain_depth > 0 && o.route_k > 0 && pool > 1) {
    GainAssign(candidates, o, pool, spread, &out);
    for (BalancedCandidate& b : out) b.index = perm[b.index];
    return out;
  }
  // A clear favourite keeps the first place (unless at a capacity they set).
  size_t first = 0;
  if (pool > 1 && o.keep_top_margin >= 0 && !out[0].at_capacity &&
      candidates[0].score - candidates[1].score >= o.keep_top_margin * spread) {
    out[0].score = candidates[0].score;
    out[0].penalty = 0;
    out[0].note += "; kept first: clearly ahead";
    first = 1;
  }
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.begin() + static_cast<std::ptrdiff_t>(pool),
                   [](const BalancedCandidate& a, const BalancedCandidate& b) {
                     if (a.at_capacity != b.at_capacity) return !a.at_capacity;
                     return a.score > b.score;
                   });
  if (o.route_k > 0 && o.route_k < pool) {
    // The first route_k by balanced score are routed; show them, and the rest, in the original order.
    auto by_index = [](const BalancedCandidate& a, const BalancedCandidate& b) {
      if (a.at_capacity != b.at_capacity) return !a.at_capacity;
      return a.index < b.index;
    };
    const auto routed_end = out.begin() + static_cast<std::ptrdiff_t>(o.route_k);
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), routed_end, by_index);
    std::sort(routed_end, out.begin() + static_cast<std::ptrdiff_t>(pool), by_index);
  }
  for (BalancedCandidate& b : out) b.index = perm[b.index];
  return out;
}

std::string_view QuestionSourceName(QuestionSource s) { return s == QuestionSource::kMail ? "mail" : "other"; }

BalanceOptions OptionsForSource(const BalanceOptions& o, QuestionSource s) {
  BalanceOptions r = o;
  if (s == QuestionSource::kMail) {
    if (o.mail_weight >= 0) r.weight = o.mail_weight;
    if (o.mail_share_cap >= 0) r.share_cap = o.mail_share_cap;
    if (o.mail_free_load >= 0) r.free_load = o.mail_free_load;
  }
  r.mail_weight = -1;
  r.mail_share_cap = -1;
  r.mail_free_load = -1;
  return r;
}

}  // namespace whoknows::routing
