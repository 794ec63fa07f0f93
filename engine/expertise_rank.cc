#include "whoknows/engine/expertise_rank.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <numeric>
#include <tuple>

namespace whoknows::engine {

std::vector<double> WeightedPageRank(uint32_t n, std::span<const PeopleEdge> edges, int iterations) {
  constexpr double kDamping = 0.85;
  std::vector<double> out_w(n, 0.0);
  for (const PeopleEdge& e : edges) out_w[e.from] += e.weight;
  std::vector<double> pr(n, n > 0 ? 1.0 / n : 0.0), next(n);
  for (int it = 0; it < iterations && n > 0; ++it) {
    double dangling = 0;
    for (uint32_t v = 0; v < n; ++v) {
      if (!(out_w[v] > 0)) dangling += pr[v];
    }
    const double base = (1 - kDamping) / n + kDamping * dangling / n;
    std::fill(next.begin(), next.end(), base);
    for (const PeopleEdge& e : edges) next[e.to] += kDamping * pr[e.from] * e.weight / out_w[e.from];
    double delta = 0;
    for (uint32_t v = 0; v < n; ++v) delta += std::fabs(next[v] - pr[v]);
    pr.swap(next);
    if (delta < 1e-9) break;
  }
  for (double& x : pr) x *= n;
  return pr;
}

std::shared_ptr<const ExpertiseRank> ExpertiseRank::Build(const Snapshot& s) {
  auto er = std::make_shared<ExpertiseRank>();
  er->persons_ = s.num_persons();
  std::vector<std::tuple<int64_t, uint32_t, uint32_t>> e;
  for (uint32_t t = 0; t < s.num_threads(); ++t) {
    ForEachAnswerEdge(
        s, t, 200, [&](uint32_t d) { return s.doc(d).group != kNoGroup; },
        [&](uint32_t from, uint32_t to, uint32_t d) { e.emplace_back(s.doc(d).timestamp, from, to); });
  }
  std::sort(e.begin(), e.end());
  er->edges_.reserve(e.size());
  er->ts_.reserve(e.size());
  for (const auto& [ts, from, to] : e) {
    er->edges_.push_back({from, to, 1.0});
    er->ts_.push_back(ts);
  }
  return er;
}

std::shared_ptr<const std::vector<float>> ExpertiseRank::AsOf(int64_t t) const {
  const size_t before = t == 0 ? edges_.size()
                               : static_cast<size_t>(std::lower_bound(ts_.begin(), ts_.end(), t) - ts_.begin());
  // The newest checkpoint (a multiple of edges / kCheckpoints, or all) not past `before`.
  size_t prefix = before;
  if (before < edges_.size()) {
    const size_t k = before * kCheckpoints / std::max<size_t>(1, edges_.size());
    prefix = k * edges_.size() / kCheckpoints;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_prefix_.find(prefix);
    if (it != by_prefix_.end()) return it->second;
  }
  std::vector<double> pr;
  if (const char* e = std::getenv("WHOKNOWS_EXP"); e != nullptr && std::string(e).find("erdecay") != std::string::npos && prefix > 0) {
    // experiment: edges decayed by their age at the checkpoint (half-life 365 days)
    std::vector<PeopleEdge> d(edges_.begin(), edges_.begin() + static_cast<std::ptrdiff_t>(prefix));
    const int64_t end = ts_[prefix - 1];
    for (size_t i = 0; i < prefix; ++i) d[i].weight = std::exp2(-static_cast<double>(end - ts_[i]) / (365.0 * 86400));
    pr = WeightedPageRank(persons_, d);
  } else if (const char* e2 = std::getenv("WHOKNOWS_EXP"); e2 != nullptr && std::string(e2).find("erwin") != std::string::npos && prefix > 0) {
    // experiment: only the edges of the 365 days before the checkpoint's newest edge
    const size_t from = static_cast<size_t>(
        std::lower_bound(ts_.begin(), ts_.begin() + static_cast<std::ptrdiff_t>(prefix), ts_[prefix - 1] - 365 * 86400) - ts_.begin());
    pr = WeightedPageRank(persons_, std::span<const PeopleEdge>(edges_.data() + from, prefix - from));
  } else {
    pr = WeightedPageRank(persons_, std::span<const PeopleEdge>(edges_.data(), prefix));
  }
  auto made = std::make_shared<std::vector<float>>(pr.begin(), pr.end());
  std::lock_guard<std::mutex> lock(mu_);
  return by_prefix_.emplace(prefix, std::move(made)).first->second;
}

std::shared_ptr<const ExpertiseRank> ExpertiseRankOf(const Snapshot& s) {
  struct Key {
    const Snapshot* p;
    uint32_t docs, persons;
    int64_t max_ts;
    bool operator==(const Key& o) const {
      return p == o.p && docs == o.docs && persons == o.persons && max_ts == o.max_ts;
    }
  };
  static std::mutex mu;
  static std::vector<std::pair<Key, std::shared_ptr<const ExpertiseRank>>> cache;
  const Key key{&s, s.num_docs(), s.num_persons(), s.max_timestamp()};
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [k, v] : cache) {
      if (k == key) return v;
    }
  }
  std::shared_ptr<const ExpertiseRank> made = ExpertiseRank::Build(s);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 16) cache.erase(cache.begin());
  cache.emplace_back(key, made);
  return made;
}

}  // namespace whoknows::engine
