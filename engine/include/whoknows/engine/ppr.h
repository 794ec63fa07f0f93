#ifndef WHOKNOWS_ENGINE_PPR_H_
#define WHOKNOWS_ENGINE_PPR_H_

// Personalized PageRank over an engine::Graph.
//
// Definition: pi = alpha * s + (1 - alpha) * pi * P, where s is the
// normalised seed distribution and P(u, v) = w(u, v) / d(u) over the edges
// visible to the caller (d(u) = visible weighted out-degree). A vertex with
// no visible out-edge (dangling) sends its (1 - alpha) share back to s.

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/engine/graph.h"

namespace whoknows::engine {

inline constexpr int64_t kTimeless = INT64_MIN;

struct Seed {
  VertexId vertex = 0;
  double weight = 1.0;  // > 0; seeds are normalised to sum 1
};

struct PprOptions {
  double alpha = 0.15;  // teleport (restart) probability
  // Residual threshold per unit of weighted degree: a vertex is pushed while
  // residual(u) >= r_max * max(d(u), 1).
  double r_max = 1e-6;
  GroupBits group_mask = kAllGroups;  // edges invisible to the caller are skipped
  uint64_t max_pushes = 0;            // stop after this many pushes (0 = no limit)
  // Optional time filter: when `vertex_time` is set (one entry per vertex,
  // kTimeless for vertices without a time) and from/to are not both 0, edges
  // into vertices with time < from or >= to (to > 0) are skipped as invisible.
  const int64_t* vertex_time = nullptr;
  int64_t time_from = 0;
  int64_t time_to = 0;
};

// Per-thread scratch, sized to the graph once and reused across queries.
// Reset() is O(1): every cell carries the call (generation) that last wrote it,
// and a cell of an earlier call reads as untouched (residual and score 0).
struct PprWorkspace {
  // Per vertex, in one 16-byte cell so that visiting an edge's target reads
  // one cache line: residual, visible weighted out-degree, the estimate p_hat
  // (reserve) and the stamp. Fields are valid only when stamp == generation.
  struct Cell {
    float residual = 0.0f;
    float degree = 0.0f;
    float reserve = 0.0f;
    uint32_t stamp = 0;
  };
  std::vector<Cell> cells;
  uint32_t generation = 0;        // this call's stamp (0 = none yet)
  std::vector<VertexId> touched;  // vertices with a non-zero residual at some point, in first-touch order
  std::vector<VertexId> queue;
  std::vector<std::pair<double, VertexId>> seeds;  // normalised
  std::vector<std::pair<float, VertexId>> heap;    // TopK scratch
  uint64_t pushes = 0;
  bool truncated = false;  // max_pushes was hit

  // Makes the arrays fit a graph of n vertices (O(n) only when n changes).
  void Prepare(VertexId n);
  void Reset();
  // The estimate p_hat(v) of the last push (0 for vertices it did not touch).
  float score(VertexId v) const {
    return v < cells.size() && cells[v].stamp == generation ? cells[v].reserve : 0.0f;
  }
  // Visible weighted out-degree of a touched vertex.
  float degree(VertexId v) const { return cells[v].degree; }
};

// Personalized PageRank by forward push (Andersen-Chung-Lang), weighted,
// with a FIFO that enqueues a vertex when its residual crosses
// r_max * degree (NetworKit's ApproximatePageRank), so no visited set.
// Thread-compatible: one PprWorkspace per thread; the Graph is shared read-only.
// Guarantee (undirected graphs, symmetric masks, no dangling vertex, run to
// completion): 0 <= pi(v) - p_hat(v) <= r_max * d(v) for every v.
// Cost: O(1 / (alpha * r_max)) pushes' worth of edge scans, independent of graph size.
// The result is workspace->score(v) (touched vertices in workspace->touched).
// Returns InvalidArgument if `seeds` is empty, has no positive weight, names a
// vertex >= graph.num_vertices(), or options are out of range.
absl::Status ForwardPush(const Graph& graph, std::span<const Seed> seeds, const PprOptions& options,
                         PprWorkspace* workspace);

struct PowerIterationOptions {
  double alpha = 0.15;
  GroupBits group_mask = kAllGroups;
  int max_iterations = 10000;
  double tolerance = 1e-13;  // stop when the L1 change is below this
};

// Exact reference: dense power iteration, O(iterations * (V + E)).
// Same errors as ForwardPush.
absl::StatusOr<std::vector<double>> PowerIteration(const Graph& graph, std::span<const Seed> seeds,
                                                   const PowerIterationOptions& options);

// The k largest workspace scores among touched vertices in [begin, end),
// best first (ties by lower id), via a fixed-size heap. O(touched * log k).
std::vector<std::pair<VertexId, double>> TopK(PprWorkspace* workspace, size_t k, VertexId begin = 0,
                                              VertexId end = kNone);
// The k largest entries of a dense score vector, best first.
std::vector<std::pair<VertexId, double>> TopK(std::span<const double> scores, size_t k);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_PPR_H_
