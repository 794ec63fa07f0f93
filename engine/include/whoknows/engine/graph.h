#ifndef WHOKNOWS_ENGINE_GRAPH_H_
#define WHOKNOWS_ENGINE_GRAPH_H_

// An immutable weighted directed graph in compressed sparse row form, with a
// visibility mask on every edge. The Boost CSR type stays in the private
// csr_view.h; this header exposes raw row arrays for hot loops.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace whoknows::engine {

using VertexId = uint32_t;
using EdgeIndex = uint32_t;  // uint64_t past 4G edges

// A set of visibility groups, one bit per group (at most 32 groups).
using GroupBits = uint32_t;
inline constexpr GroupBits kAllGroups = 0xffffffffu;
inline constexpr uint32_t kNone = 0xffffffffu;

struct WeightedEdge {
  VertexId from = 0;
  VertexId to = 0;
  float weight = 1.0f;
  // Groups whose content justifies this edge. A traversal with caller mask
  // `m` follows the edge only when (mask & m) != 0.
  GroupBits mask = kAllGroups;
};

// Thread-safe for concurrent readers (immutable after construction). Copies
// share the same arrays (cheap).
class Graph {
 public:
  Graph();  // the empty graph
  ~Graph();
  Graph(const Graph&);
  Graph& operator=(const Graph&);
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  // Builds from directed edges (parallel edges are kept; within a row, edges
  // keep their input order). O(V + E).
  // InvalidArgument if an endpoint is >= num_vertices or a weight is negative
  // or not finite; ResourceExhausted past 2^32-1 edges.
  static absl::StatusOr<Graph> FromEdges(VertexId num_vertices, std::span<const WeightedEdge> edges);
  // As FromEdges, adding each edge in both directions (an undirected graph).
  static absl::StatusOr<Graph> FromUndirectedEdges(VertexId num_vertices, std::span<const WeightedEdge> edges);

  // From rows already laid out: row v is [rowstart[v], rowstart[v + 1]) of
  // columns/weights/masks (rowstart has num_vertices + 1 entries, starting at
  // 0). No sorting: O(V + E). Same errors as FromEdges.
  static absl::StatusOr<Graph> FromRows(std::vector<EdgeIndex> rowstart, std::vector<VertexId> columns,
                                        std::vector<float> weights, std::span<const GroupBits> masks);

  VertexId num_vertices() const { return num_vertices_; }
  EdgeIndex num_edges() const { return num_edges_; }

  EdgeIndex row_begin(VertexId v) const { return rowstart_[v]; }
  EdgeIndex row_end(VertexId v) const { return rowstart_[v + 1]; }
  VertexId target(EdgeIndex e) const { return column_[e]; }
  float weight(EdgeIndex e) const { return weight_[e]; }
  GroupBits mask(EdgeIndex e) const { return mask_full_ != nullptr ? mask_full_[e] : palette_[mask_id_[e]]; }
  // Sum of the weights of v's out-edges (all masks).
  float out_weight(VertexId v) const { return out_weight_[v]; }
  // Sum of the weights of v's out-edges visible under `caller`. O(1) when
  // `caller` covers every mask in the graph, else O(out-degree).
  float VisibleOutWeight(VertexId v, GroupBits caller) const;
  // Number of v's out-edges visible under `caller`.
  uint32_t VisibleOutDegree(VertexId v, GroupBits caller) const;
  // OR of every edge mask.
  GroupBits all_masks() const { return all_masks_; }
  // True when `caller` sees every edge (no edge has an empty mask and `caller`
  // includes every mask bit in use).
  bool CoversAll(GroupBits caller) const { return !has_empty_mask_ && (caller & all_masks_) == all_masks_; }

  // Raw arrays (valid as long as any copy of this Graph lives). Masks are
  // not one array: use mask(e) (a byte per edge into a palette of the
  // graph's distinct masks, or 32 bits per edge past 256 distinct masks).
  const EdgeIndex* rowstart() const { return rowstart_; }
  const VertexId* columns() const { return column_; }
  const float* weights() const { return weight_; }
  const float* out_weights() const { return out_weight_; }  // out_weight(v) for every v

  // Bytes held by the CSR arrays (row starts, columns, weights, mask ids and
  // palette, out weights): 9 bytes per edge + 8 per vertex while the graph
  // has at most 256 distinct masks, 13 per edge past that.
  size_t bytes() const;

  struct Impl;

 private:
  void Bind();

  std::shared_ptr<const Impl> impl_;
  VertexId num_vertices_ = 0;
  EdgeIndex num_edges_ = 0;
  GroupBits all_masks_ = 0;
  bool has_empty_mask_ = false;
  const EdgeIndex* rowstart_ = nullptr;
  const VertexId* column_ = nullptr;
  const float* weight_ = nullptr;
  const uint8_t* mask_id_ = nullptr;
  const GroupBits* palette_ = nullptr;
  const GroupBits* mask_full_ = nullptr;  // non-null past 256 distinct masks
  const float* out_weight_ = nullptr;
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_GRAPH_H_
