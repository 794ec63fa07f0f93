#include "whoknows/engine/graph.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "csr_view.h"

namespace whoknows::engine {
namespace {

absl::StatusOr<Graph> Build(VertexId num_vertices, std::span<const WeightedEdge> edges, bool undirected,
                            std::shared_ptr<Graph::Impl>* out) {
  const uint64_t m = static_cast<uint64_t>(edges.size()) * (undirected ? 2 : 1);
  if (m >= std::numeric_limits<EdgeIndex>::max()) {
    return absl::ResourceExhaustedError(absl::StrFormat("graph: %d edges exceed the 32-bit edge index", m));
  }
  if (num_vertices == std::numeric_limits<VertexId>::max()) {
    return absl::ResourceExhaustedError("graph: too many vertices for 32-bit ids");
  }
  auto impl = std::make_shared<Graph::Impl>();
  // Row starts by counting; edges keep their input order within a row (as
  // Boost's unsorted multi-pass constructor does), reverse edges right after
  // their forward edge in the input sequence.
  std::vector<EdgeIndex> pos(static_cast<size_t>(num_vertices) + 1, 0);
  absl::flat_hash_map<GroupBits, uint8_t> mask_id;
  bool full = false;
  for (size_t i = 0; i < edges.size(); ++i) {
    const WeightedEdge& e = edges[i];
    if (e.from >= num_vertices || e.to >= num_vertices) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d (%d->%d) names a vertex >= %d", i,
                                                        e.from, e.to, num_vertices));
    }
    if (!std::isfinite(e.weight) || e.weight < 0) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d has weight %g", i, e.weight));
    }
    ++pos[e.from + 1];
    if (undirected) ++pos[e.to + 1];
    if (!full && !mask_id.contains(e.mask)) {
      if (impl->palette.size() == 256) {
        full = true;
      } else {
        mask_id.emplace(e.mask, static_cast<uint8_t>(impl->palette.size()));
        impl->palette.push_back(e.mask);
      }
    }
  }
  for (VertexId v = 0; v < num_vertices; ++v) pos[v + 1] += pos[v];
  std::vector<std::pair<VertexId, VertexId>> pairs(m);
  std::vector<uint8_t> ids(full ? 0 : m);
  impl->weight.resize(m);
  if (full) impl->mask_full.resize(m);
  auto place = [&](VertexId from, VertexId to, const WeightedEdge& e) {
    const EdgeIndex at = pos[from]++;
    pairs[at] = {from, to};
    impl->weight[at] = e.weight;
    if (full) {
      impl->mask_full[at] = e.mask;
    } else {
      ids[at] = mask_id.find(e.mask)->second;
    }
  };
  for (const WeightedEdge& e : edges) {
    place(e.from, e.to, e);
    if (undirected) place(e.to, e.from, e);
  }
  if (full) ids.assign(m, 0);  // the CSR's one-byte property is unused then
  impl->csr = Csr(boost::edges_are_sorted, pairs.begin(), pairs.end(), ids.begin(), num_vertices,
                  static_cast<EdgeIndex>(m));
  impl->out_weight.assign(num_vertices, 0.0f);
  const EdgeIndex* rs = impl->rowstart();
  for (VertexId v = 0; v < num_vertices; ++v) {
    double sum = 0;
    for (EdgeIndex e = rs[v]; e < rs[v + 1]; ++e) sum += impl->weight[e];
    impl->out_weight[v] = static_cast<float>(sum);
  }
  *out = std::move(impl);
  return Graph();
}

}  // namespace

Graph::Graph() {
  static const std::shared_ptr<const Impl> kEmpty = [] {
    auto impl = std::make_shared<Impl>();
    impl->csr = Csr(boost::edges_are_sorted, static_cast<std::pair<VertexId, VertexId>*>(nullptr),
                    static_cast<std::pair<VertexId, VertexId>*>(nullptr), static_cast<uint8_t*>(nullptr), 0);
    return std::shared_ptr<const Impl>(std::move(impl));
  }();
  impl_ = kEmpty;
  Bind();
}
Graph::~Graph() = default;
Graph::Graph(const Graph&) = default;
Graph& Graph::operator=(const Graph&) = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

void Graph::Bind() {
  rowstart_ = impl_->rowstart();
  column_ = impl_->columns();
  weight_ = impl_->weight.data();
  mask_id_ = impl_->mask_ids();
  palette_ = impl_->palette.data();
  mask_full_ = impl_->mask_full.empty() ? nullptr : impl_->mask_full.data();
  out_weight_ = impl_->out_weight.data();
  num_vertices_ = static_cast<VertexId>(impl_->rowstart_size() - 1);
  num_edges_ = static_cast<EdgeIndex>(impl_->columns_size());
  all_masks_ = 0;
  has_empty_mask_ = false;
  // Every mask in use is in the palette (or, past 256, in mask_full).
  auto note = [&](GroupBits m) {
    all_masks_ |= m;
    has_empty_mask_ |= m == 0;
  };
  if (mask_full_ != nullptr) {
    for (EdgeIndex e = 0; e < num_edges_; ++e) note(mask_full_[e]);
  } else {
    for (GroupBits m : impl_->palette) note(m);
  }
}

absl::StatusOr<Graph> Graph::FromEdges(VertexId num_vertices, std::span<const WeightedEdge> edges) {
  std::shared_ptr<Impl> impl;
  absl::StatusOr<Graph> g = Build(num_vertices, edges, /*undirected=*/false, &impl);
  if (!g.ok()) return g.status();
  g->impl_ = std::move(impl);
  g->Bind();
  return g;
}

absl::StatusOr<Graph> Graph::FromUndirectedEdges(VertexId num_vertices, std::span<const WeightedEdge> edges) {
  std::shared_ptr<Impl> impl;
  absl::StatusOr<Graph> g = Build(num_vertices, edges, /*undirected=*/true, &impl);
  if (!g.ok()) return g.status();
  g->impl_ = std::move(impl);
  g->Bind();
  return g;
}

absl::StatusOr<Graph> Graph::FromRows(std::vector<EdgeIndex> rowstart, std::vector<VertexId> columns,
                                      std::vector<float> weights, std::span<const GroupBits> masks) {
  if (rowstart.empty() || rowstart.front() != 0 || rowstart.back() != columns.size() ||
      weights.size() != columns.size() || masks.size() != columns.size()) {
    return absl::InvalidArgumentError("graph: rows, columns, weights and masks do not match");
  }
  if (rowstart.size() - 1 >= std::numeric_limits<VertexId>::max()) {
    return absl::ResourceExhaustedError("graph: too many vertices for 32-bit ids");
  }
  const VertexId n = static_cast<VertexId>(rowstart.size() - 1);
  const size_t m = columns.size();
  auto impl = std::make_shared<Impl>();
  absl::flat_hash_map<GroupBits, uint8_t> mask_id;
  bool full = false;
  for (size_t e = 0; e < m && !full; ++e) {
    if (!mask_id.contains(masks[e])) {
      if (impl->palette.size() == 256) {
        full = true;
      } else {
        mask_id.emplace(masks[e], static_cast<uint8_t>(impl->palette.size()));
        impl->palette.push_back(masks[e]);
      }
    }
  }
  std::vector<uint8_t> ids(m, 0);
  if (full) {
    impl->mask_full.assign(masks.begin(), masks.end());
  } else {
    // Runs of one mask are the common case: look up only when it changes.
    GroupBits last = 0;
    uint8_t last_id = 0;
    bool have = false;
    for (size_t e = 0; e < m; ++e) {
      if (!have || masks[e] != last) {
        last = masks[e];
        last_id = mask_id.find(last)->second;
        have = true;
      }
      ids[e] = last_id;
    }
  }
  for (VertexId v = 0; v < n; ++v) {
    if (rowstart[v] > rowstart[v + 1]) return absl::InvalidArgumentError("graph: row starts decrease");
  }
  for (size_t e = 0; e < m; ++e) {
    if (columns[e] >= n) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d names a vertex >= %d", e, n));
    }
    if (!std::isfinite(weights[e]) || weights[e] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d has weight %g", e, weights[e]));
    }
  }
  impl->out_weight.assign(n, 0.0f);
  for (VertexId v = 0; v < n; ++v) {
    double sum = 0;
    for (EdgeIndex e = rowstart[v]; e < rowstart[v + 1]; ++e) sum += weights[e];
    impl->out_weight[v] = static_cast<float>(sum);
  }
  impl->weight = std::move(weights);
  // An empty CSR with n vertices, then its arrays replaced (the layout Boost's
  // sorted-edges constructor would produce from the same rows).
  impl->csr = Csr(boost::edges_are_sorted, static_cast<std::pair<VertexId, VertexId>*>(nullptr),
                  static_cast<std::pair<VertexId, VertexId>*>(nullptr), static_cast<uint8_t*>(nullptr), n);
  impl->csr.m_forward.m_rowstart = std::move(rowstart);
  impl->csr.m_forward.m_column = std::move(columns);
  impl->csr.m_forward.m_edge_properties = std::move(ids);
  Graph g;
  g.impl_ = std::move(impl);
  g.Bind();
  return g;
}

float Graph::VisibleOutWeight(VertexId v, GroupBits caller) const {
  if (CoversAll(caller)) return out_weight_[v];
  double sum = 0;
  for (EdgeIndex e = rowstart_[v]; e < rowstart_[v + 1]; ++e) {
    if (mask(e) & caller) sum += weight_[e];
  }
  return static_cast<float>(sum);
}

uint32_t Graph::VisibleOutDegree(VertexId v, GroupBits caller) const {
  if (CoversAll(caller)) return rowstart_[v + 1] - rowstart_[v];
  uint32_t n = 0;
  for (EdgeIndex e = rowstart_[v]; e < rowstart_[v + 1]; ++e) n += (mask(e) & caller) != 0;
  return n;
}

size_t Graph::bytes() const {
  return impl_->rowstart_size() * sizeof(EdgeIndex) +
         impl_->columns_size() * (sizeof(VertexId) + sizeof(uint8_t)) + impl_->weight.size() * sizeof(float) +
         impl_->palette.size() * sizeof(GroupBits) + impl_->mask_full.size() * sizeof(GroupBits) +
         impl_->out_weight.size() * sizeof(float);
}

}  // namespace whoknows::engine
