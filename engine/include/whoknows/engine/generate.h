#ifndef WHOKNOWS_ENGINE_GENERATE_H_
#define WHOKNOWS_ENGINE_GENERATE_H_

// Synthetic graphs for tests and benchmarks (deterministic for a seed).

#include <cstdint>
#include <vector>

#include "whoknows/engine/graph.h"

namespace whoknows::engine {

struct PowerLawOptions {
  VertexId num_vertices = 2000;
  uint64_t num_edges = 10000;  // undirected edges, including the ring below
  double exponent = 2.5;       // degree distribution ~ k^-exponent (Chung-Lu weights)
  uint64_t seed = 1;
  float min_weight = 0.5f;     // edge weights uniform in [min_weight, max_weight]
  float max_weight = 2.0f;
  bool ring = true;            // add edges (i, i+1 mod n) so no vertex is dangling
};

// Undirected edges (each listed once; use Graph::FromUndirectedEdges) of a
// Chung-Lu random graph with power-law expected degrees, without self-loops.
std::vector<WeightedEdge> PowerLawEdges(const PowerLawOptions& options);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_GENERATE_H_
