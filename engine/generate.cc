#include "whoknows/engine/generate.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace whoknows::engine {

std::vector<WeightedEdge> PowerLawEdges(const PowerLawOptions& o) {
  std::vector<WeightedEdge> edges;
  const VertexId n = o.num_vertices;
  if (n < 2) return edges;
  edges.reserve(o.num_edges);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<float> wdist(o.min_weight, o.max_weight);
  if (o.ring) {
    for (VertexId i = 0; i < n && edges.size() < o.num_edges; ++i) edges.push_back({i, (i + 1) % n, wdist(rng)});
  }
  // Chung-Lu: P(endpoint = i) ~ (i + 1)^(-1 / (exponent - 1)).
  const double e = 1.0 / std::max(1.01, o.exponent - 1.0);
  std::vector<double> cum(n);
  double total = 0;
  for (VertexId i = 0; i < n; ++i) {
    total += std::pow(static_cast<double>(i) + 1.0, -e);
    cum[i] = total;
  }
  std::uniform_real_distribution<double> u(0.0, total);
  auto pick = [&] {
    const double x = u(rng);
    return static_cast<VertexId>(std::min<size_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin(), n - 1));
  };
  while (edges.size() < o.num_edges) {
    const VertexId a = pick(), b = pick();
    if (a == b) continue;
    edges.push_back({a, b, wdist(rng)});
  }
  // Shuffle vertex ids so the hubs are not the low ids.
  std::vector<VertexId> perm(n);
  for (VertexId i = 0; i < n; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  for (WeightedEdge& ed : edges) {
    ed.from = perm[ed.from];
    ed.to = perm[ed.to];
  }
  return edges;
}

}  // namespace whoknows::engine
