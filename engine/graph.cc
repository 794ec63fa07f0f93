#include "whoknows/engine/graph.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

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
  std::vector<std::pair<VertexId, VertexId>> pairs;
  std::vector<EdgeProps> props;
  pairs.reserve(m);
  props.reserve(m);
  for (size_t i = 0; i < edges.size(); ++i) {
    const WeightedEdge& e = edges[i];
    if (e.from >= num_vertices || e.to >= num_vertices) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d (%d->%d) names a vertex >= %d", i,
                                                        e.from, e.to, num_vertices));
    }
    if (!std::isfinite(e.weight) || e.weight < 0) {
      return absl::InvalidArgumentError(absl::StrFormat("graph: edge %d has weight %g", i, e.weight));
    }
    pairs.emplace_back(e.from, e.to);
    props.push_back({e.weight, e.mask});
    if (undirected) {
      pairs.emplace_back(e.to, e.from);
      props.push_back({e.weight, e.mask});
    }
  }
  auto impl = std::make_shared<Graph::Impl>();
  impl->csr = Csr(boost::edges_are_unsorted_multi_pass, pairs.begin(), pairs.end(), props.begin(), num_vertices);
  impl->out_weight.assign(num_vertices, 0.0f);
  const EdgeIndex* rs = impl->rowstart();
  const EdgeProps* p = impl->props();
  for (VertexId v = 0; v < num_vertices; ++v) {
    double sum = 0;
    for (EdgeIndex e = rs[v]; e < rs[v + 1]; ++e) sum += p[e].weight;
    impl->out_weight[v] = static_cast<float>(sum);
  }
  *out = std::move(impl);
  return Graph();
}

}  // namespace

Graph::Graph() {
  static const std::shared_ptr<const Impl> kEmpty = [] {
    auto impl = std::make_shared<Impl>();
    impl->csr = Csr(boost::edges_are_unsorted_multi_pass, static_cast<std::pair<VertexId, VertexId>*>(nullptr),
                    static_cast<std::pair<VertexId, VertexId>*>(nullptr), static_cast<EdgeProps*>(nullptr), 0);
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
  props_ = impl_->props();
  out_weight_ = impl_->out_weight.data();
  num_vertices_ = static_cast<VertexId>(impl_->rowstart_size() - 1);
  num_edges_ = static_cast<EdgeIndex>(impl_->columns_size());
  all_masks_ = 0;
  has_empty_mask_ = false;
  for (EdgeIndex e = 0; e < num_edges_; ++e) {
    all_masks_ |= props_[e].mask;
    has_empty_mask_ |= props_[e].mask == 0;
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

float Graph::VisibleOutWeight(VertexId v, GroupBits caller) const {
  if (CoversAll(caller)) return out_weight_[v];
  double sum = 0;
  for (EdgeIndex e = rowstart_[v]; e < rowstart_[v + 1]; ++e) {
    if (props_[e].mask & caller) sum += props_[e].weight;
  }
  return static_cast<float>(sum);
}

uint32_t Graph::VisibleOutDegree(VertexId v, GroupBits caller) const {
  if (CoversAll(caller)) return rowstart_[v + 1] - rowstart_[v];
  uint32_t n = 0;
  for (EdgeIndex e = rowstart_[v]; e < rowstart_[v + 1]; ++e) n += (props_[e].mask & caller) != 0;
  return n;
}

size_t Graph::bytes() const {
  return impl_->rowstart_size() * sizeof(EdgeIndex) + impl_->columns_size() * (sizeof(VertexId) + sizeof(EdgeProps)) +
         impl_->out_weight.size() * sizeof(float);
}

}  // namespace whoknows::engine
