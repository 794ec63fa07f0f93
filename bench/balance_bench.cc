// FindExperts latency with and without `balance`, in the same process on the
// same index and queries, interleaved per query so box noise hits both alike.
//
//   balance_bench --db DIR --queries FILE [--routings 5000] [--rounds 5] [--k 10] [--gain-depth N]
//
// DIR must be an index (whoknows index); the bench writes `--routings`
// routing log entries into it first (spread over the most returned people
// and the last 30 days) so the load model is not empty. FILE: one query per
// line. Prints the median per-call latency of each mode and their ratio
// (balanced / plain) per round and overall (median of rounds).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "whoknows/service/backend.h"

using namespace whoknows::service;

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"FindExperts with vs without balance"};
  std::string db, queries_file;
  size_t routings = 5000, rounds = 5, k = 10;
  app.add_option("--db", db)->required();
  app.add_option("--queries", queries_file)->required();
  app.add_option("--routings", routings);
  app.add_option("--rounds", rounds);
  app.add_option("--k", k);
  BackendOptions bo;
  app.add_option("--gain-depth", bo.balance.gain_depth,
                 "Balance mode: marginal-gain assignment among the first N (0 = the spread charge); default: the "
                 "server default")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> queries;
  std::ifstream in(queries_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) queries.push_back(line.substr(0, 4096));
  }
  if (queries.empty()) {
    std::fprintf(stderr, "%s: no queries\n", queries_file.c_str());
    return 2;
  }
  bo.writable = true;
  // Both modes computed on every call: the plain answers would otherwise come
  // from the experts cache (balanced answers never do), timing a lookup.
  bo.experts_cache = false;
  auto backend = Backend::Open(db, bo);
  if (!backend.ok()) {
    std::fprintf(stderr, "%s\n", backend.status().ToString().c_str());
    return 1;
  }
  Backend& b = **backend;
  // Routing log: each query's top-3 (unbalanced), repeated until `routings` entries.
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  size_t written = 0;
  for (size_t i = 0; written < routings && i < routings; ++i) {
    ExpertsQuery q;
    q.text = queries[i % queries.size()];
    q.k = 3;
    q.balance = false;
    auto a = b.FindExperts(q, Caller{});
    if (!a.ok() || a->experts.empty()) continue;
    RoutingRecord r;
    r.question_text = q.text;
    for (const ExpertResult& e : a->experts) r.people.push_back(e.person_id);
    r.time = now - static_cast<int64_t>((i * 7919) % (30 * 86400));
    auto id = b.RecordRouting(r, Caller{});
    if (!id.ok()) {
      std::fprintf(stderr, "%s\n", id.status().ToString().c_str());
      return 1;
    }
    // Outcomes too, so the feedback from them (BalanceOptions::outcome_weight) is exercised:
    // the first person answered, the others did not.
    for (size_t j = 0; j < r.people.size(); ++j) {
      const auto outcome = j == 0 ? whoknows::routing::Outcome::kAnswered : whoknows::routing::Outcome::kNoResponse;
      if (absl::Status s = b.RecordOutcome(*id, r.people[j], outcome, r.time + 3600, Caller{}); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
    }
    written += r.people.size();
  }
  std::printf("index %s: %zu queries, %zu routing entries logged (each with an outcome)\n", db.c_str(),
              queries.size(), written);
  std::vector<double> ratios;
  for (size_t round = 0; round < rounds; ++round) {
    std::vector<double> plain, balanced;
    for (size_t i = 0; i < queries.size(); ++i) {
      for (int pass = 0; pass < 2; ++pass) {
        const bool bal = ((i + round) % 2 == 0) == (pass == 0);  // alternate which goes first
        ExpertsQuery q;
        q.text = queries[i];
        q.k = k;
        q.balance = bal;
        const auto t0 = std::chrono::steady_clock::now();
        auto a = b.FindExperts(q, Caller{});
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!a.ok()) continue;
        (bal ? balanced : plain).push_back(ms);
      }
    }
    const double p = Median(plain), m = Median(balanced);
    ratios.push_back(m / p);
    std::printf("round %zu: plain median %.3f ms, balanced median %.3f ms, ratio %.3f\n", round + 1, p, m, m / p);
  }
  std::printf("median ratio balanced/plain over %zu rounds: %.3f\n", rounds, Median(ratios));
  return 0;
}
