#include "whoknows/engine/metrics.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace whoknows::engine {
namespace {

using V = std::vector<std::string>;

TEST(MetricsTest, HandComputedCases) {
  const V ranked = {"a", "b", "c", "d", "e"};
  const V truth = {"c", "e", "z"};
  EXPECT_DOUBLE_EQ(ReciprocalRank(ranked, truth), 1.0 / 3);
  EXPECT_DOUBLE_EQ(PrecisionAt(ranked, truth, 1), 0.0);
  EXPECT_DOUBLE_EQ(PrecisionAt(ranked, truth, 5), 2.0 / 5);
  EXPECT_DOUBLE_EQ(HitsAt(ranked, truth, 2), 0.0);
  EXPECT_DOUBLE_EQ(HitsAt(ranked, truth, 3), 1.0);
  // DCG@5 = 1/log2(4) + 1/log2(6); IDCG@5 = 1 + 1/log2(3) + 1/log2(4) (3 relevant).
  const double dcg = 1 / std::log2(4.0) + 1 / std::log2(6.0);
  const double idcg = 1 + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_NEAR(NdcgAt(ranked, truth, 5), dcg / idcg, 1e-12);
  // @2: nothing relevant.
  EXPECT_DOUBLE_EQ(NdcgAt(ranked, truth, 2), 0.0);
  // Perfect ranking.
  const V perfect = {"c", "e", "z"};
  EXPECT_DOUBLE_EQ(NdcgAt(perfect, truth, 10), 1.0);
  EXPECT_DOUBLE_EQ(ReciprocalRank(perfect, truth), 1.0);
  EXPECT_DOUBLE_EQ(PrecisionAt(perfect, truth, 1), 1.0);
}

TEST(MetricsTest, EdgeCases) {
  const V none;
  const V truth = {"x"};
  EXPECT_DOUBLE_EQ(ReciprocalRank(none, truth), 0.0);
  EXPECT_DOUBLE_EQ(NdcgAt(none, truth, 10), 0.0);
  EXPECT_DOUBLE_EQ(ReciprocalRank(truth, none), 0.0);
  EXPECT_DOUBLE_EQ(NdcgAt(truth, none, 10), 0.0);
  EXPECT_DOUBLE_EQ(PrecisionAt(truth, truth, 0), 0.0);
  // Duplicates count once.
  const V dup = {"a", "a", "x"};
  EXPECT_DOUBLE_EQ(ReciprocalRank(dup, truth), 0.5);
  MetricSums sums;
  sums.Add(V{"x"}, truth);
  sums.Add(V{"a", "x"}, truth);
  EXPECT_EQ(sums.queries, 2u);
  EXPECT_DOUBLE_EQ(sums.Mean(sums.mrr), 0.75);
  EXPECT_DOUBLE_EQ(sums.Mean(sums.p_at_1), 0.5);
  EXPECT_DOUBLE_EQ(sums.Mean(sums.hits_at_5), 1.0);
}

}  // namespace
}  // namespace whoknows::engine
