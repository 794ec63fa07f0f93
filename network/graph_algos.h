#ifndef WHOKNOWS_NETWORK_GRAPH_ALGOS_H_
#define WHOKNOWS_NETWORK_GRAPH_ALGOS_H_

// Private helpers of the network library.

#include <cstdint>
#include <tuple>
#include <vector>

namespace whoknows::network {

// PageRank with damping `d` on a directed weighted graph given as sorted
// (from, to, weight) triples; dangling mass is spread uniformly. Sums to 1.
std::vector<double> PageRank(uint32_t n, const std::vector<std::tuple<uint32_t, uint32_t, double>>& edges, double d);

}  // namespace whoknows::network

#endif  // WHOKNOWS_NETWORK_GRAPH_ALGOS_H_
