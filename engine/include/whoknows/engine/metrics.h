#ifndef WHOKNOWS_ENGINE_METRICS_H_
#define WHOKNOWS_ENGINE_METRICS_H_

// Ranking metrics over a ranked list of person ids and a set of relevant ids
// (binary relevance; several may be relevant). Duplicates in `ranked` count
// once (at their first position). An empty truth set scores 0 everywhere.

#include <span>
#include <string>

namespace whoknows::engine {

// 1 / rank of the first relevant id (0 if none).
double ReciprocalRank(std::span<const std::string> ranked, std::span<const std::string> truth);
// Relevant ids in the top k / k.
double PrecisionAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k);
// 1 if any relevant id is in the top k.
double HitsAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k);
// DCG@k / ideal DCG@k with gain 1 / log2(rank + 1).
double NdcgAt(std::span<const std::string> ranked, std::span<const std::string> truth, size_t k);

// Running means of the metrics over queries.
struct MetricSums {
  size_t queries = 0;
  double mrr = 0, p_at_1 = 0, ndcg_at_10 = 0, hits_at_5 = 0, hits_at_10 = 0;
  void Add(std::span<const std::string> ranked, std::span<const std::string> truth);
  double Mean(double sum) const { return queries ? sum / static_cast<double>(queries) : 0; }
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_METRICS_H_
