#include "whoknows/engine/metrics.h"

#include <algorithm>
#include <cmath>

namespace whoknows::engine {
namespace {

bool In(std::span<const std::string> set, const std::string& x) {
  return std::find(set.begin(), set.end(), x) != set.end();
}

// Calls fn(rank, relevant) for the first k distinct ids (rank from 1).
template <typename Fn>
void Walk(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k, Fn fn) {
  size_t rank = 0;
  for (size_t i = 0; i < ranked.size() && rank < k; ++i) {
    if (In(ranked.first(i), ranked[i])) continue;  // duplicate
    ++rank;
    fn(rank, In(truth, ranked[i]));
  }
}

size_t DistinctTruth(std::span<const std::string> truth) {
  size_t n = 0;
  for (size_t i = 0; i < truth.size(); ++i) n += !In(truth.first(i), truth[i]);
  return n;
}

}  // namespace

double ReciprocalRank(std::span<const std::string> ranked, std::span<const std::string> truth) {
  double rr = 0;
  Walk(ranked, truth, ranked.size(), [&](size_t rank, bool rel) {
    if (rel && rr == 0) rr = 1.0 / static_cast<double>(rank);
  });
  return rr;
}

double PrecisionAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k) {
  if (k == 0) return 0;
  size_t hits = 0;
  Walk(ranked, truth, k, [&](size_t, bool rel) { hits += rel; });
  return static_cast<double>(hits) / static_cast<double>(k);
}

double HitsAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k) {
  bool hit = false;
  Walk(ranked, truth, k, [&](size_t, bool rel) { hit |= rel; });
  return hit ? 1.0 : 0.0;
}

double NdcgAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k) {
  double dcg = 0;
  Walk(ranked, truth, k, [&](size_t rank, bool rel) {
    if (rel) dcg += 1.0 / std::log2(static_cast<double>(rank) + 1);
  });
  double ideal = 0;
  const size_t n = std::min(k, DistinctTruth(truth));
  for (size_t r = 1; r <= n; ++r) ideal += 1.0 / std::log2(static_cast<double>(r) + 1);
  return ideal > 0 ? dcg / ideal : 0;
}

void MetricSums::Add(std::span<const std::string> ranked, std::span<const std::string> truth) {
  ++queries;
  mrr += ReciprocalRank(ranked, truth);
  p_at_1 += PrecisionAt(ranked, truth, 1);
  ndcg_at_10 += NdcgAt(ranked, truth, 10);
  hits_at_5 += HitsAt(ranked, truth, 5);
  hits_at_10 += HitsAt(ranked, truth, 10);
}

}  // namespace whoknows::engine
