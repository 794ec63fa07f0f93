#include "whoknows/engine/ppr.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_format.h"

namespace whoknows::engine {
namespace {

constexpr size_t kAheadFar = 16;   // queue entries ahead whose row start and cell are fetched
constexpr size_t kAheadNear = 6;  // queue entries ahead whose row is fetched
constexpr EdgeIndex kAheadEdge = 6;  // edges ahead whose target's cell is fetched

absl::Status CheckArgs(const Graph& graph, std::span<const Seed> seeds, double alpha, double* total) {
  if (!(alpha > 0 && alpha <= 1)) return absl::InvalidArgumentError(absl::StrFormat("ppr: alpha %g not in (0, 1]", alpha));
  if (seeds.empty()) return absl::InvalidArgumentError("ppr: no seeds");
  *total = 0;
  for (const Seed& s : seeds) {
    if (s.vertex >= graph.num_vertices()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("ppr: seed vertex %d >= num_vertices %d", s.vertex, graph.num_vertices()));
    }
    if (!std::isfinite(s.weight) || s.weight < 0) {
      return absl::InvalidArgumentError(absl::StrFormat("ppr: seed weight %g", s.weight));
    }
    *total += s.weight;
  }
  if (!(*total > 0)) return absl::InvalidArgumentError("ppr: seed weights sum to 0");
  return absl::OkStatus();
}

}  // namespace

void PprWorkspace::Prepare(VertexId n) {
  if (cells.size() == n) return;
  cells.assign(n, Cell{});
  generation = 0;
  touched.clear();
  queue.clear();
}

void PprWorkspace::Reset() {
  if (++generation == 0) {  // wrapped: every stamp could collide, clear them once
    for (Cell& c : cells) c.stamp = 0;
    generation = 1;
  }
  touched.clear();
  queue.clear();
  seeds.clear();
  pushes = 0;
  truncated = false;
}

absl::Status ForwardPush(const Graph& graph, std::span<const Seed> seeds, const PprOptions& options,
                         PprWorkspace* ws) {
  double total = 0;
  if (absl::Status s = CheckArgs(graph, seeds, options.alpha, &total); !s.ok()) return s;
  if (!(options.r_max > 0)) return absl::InvalidArgumentError("ppr: r_max must be > 0");
  ws->Prepare(graph.num_vertices());
  ws->Reset();

  const GroupBits caller = options.group_mask;
  const int64_t* vtime = options.vertex_time;
  const int64_t t_from = options.time_from, t_to = options.time_to;
  const bool by_time = vtime != nullptr && (t_from != 0 || t_to != 0);
  const bool all = graph.CoversAll(caller) && !by_time;
  const EdgeIndex* rowstart = graph.rowstart();
  const VertexId* cols = graph.columns();
  const float* weights = graph.weights();
  const float* out_weight = graph.out_weights();
  const float alpha = static_cast<float>(options.alpha);
  const double r_max = options.r_max;
  const uint32_t gen = ws->generation;
  PprWorkspace::Cell* cell = ws->cells.data();

  auto edge_ok = [&](EdgeIndex e) {
    if (!(graph.mask(e) & caller)) return false;
    if (!by_time) return true;
    const int64_t t = vtime[cols[e]];
    return t == kTimeless || (t >= t_from && (t_to == 0 || t < t_to));
  };
  // Marks v touched and caches its visible degree.
  // A cell whose stamp is not this call's generation is stale: it reads as
  // residual 0, reserve 0, not touched (so no O(touched) clearing between calls).
  auto touch = [&](VertexId v) {
    PprWorkspace::Cell& c = cell[v];
    if (c.stamp != gen) {
      c.residual = 0.0f;
      c.reserve = 0.0f;
      c.stamp = gen;
      if (all) {
        c.degree = out_weight[v];
      } else {
        double sum = 0;
        for (EdgeIndex e = rowstart[v]; e < rowstart[v + 1]; ++e) {
          if (edge_ok(e)) sum += weights[e];
        }
        c.degree = static_cast<float>(sum);
      }
      ws->touched.push_back(v);
    }
  };
  // Prefetch what touching/adding to v reads.
  auto fetch = [&](VertexId v) {
    __builtin_prefetch(cell + v);
    if (all) __builtin_prefetch(out_weight + v);
  };
  auto threshold = [&](VertexId v) { return static_cast<float>(r_max * std::max(cell[v].degree, 1.0f)); };

  for (const Seed& s : seeds) {
    if (s.weight <= 0) continue;
    ws->seeds.emplace_back(s.weight / total, s.vertex);
    touch(s.vertex);
    cell[s.vertex].residual += static_cast<float>(s.weight / total);
  }
  for (VertexId v : ws->touched) {  // each distinct seed once
    if (cell[v].residual >= threshold(v)) ws->queue.push_back(v);
  }

  auto add = [&](VertexId v, float amount) {
    touch(v);
    const float before = cell[v].residual;
    const float after = before + amount;
    cell[v].residual = after;
    const float t = threshold(v);
    if (before < t && after >= t) ws->queue.push_back(v);
  };

  size_t head = 0;
  std::vector<VertexId>& queue = ws->queue;
  while (head < queue.size()) {
    if (options.max_pushes && ws->pushes >= options.max_pushes) {
      ws->truncated = true;
      break;
    }
    const VertexId u = queue[head++];
    if (head > 65536 && head * 2 > queue.size()) {  // keep the FIFO's memory bounded
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
    // The FIFO names the next rows long before they are pushed; the loop is bound by
    // cache misses on them, so fetch ahead in stages: the row start and cell of an
    // entry far ahead, the row (targets, weights) of one nearer, and the cells
    // of the next row's first targets (the row loop fetches the rest kAheadEdge ahead).
    if (head + kAheadFar < queue.size()) {
      const VertexId f = queue[head + kAheadFar];
      __builtin_prefetch(rowstart + f);
      __builtin_prefetch(cell + f);
    }
    if (head + kAheadNear < queue.size()) {
      const EdgeIndex b = rowstart[queue[head + kAheadNear]];
      __builtin_prefetch(cols + b);
      __builtin_prefetch(weights + b);
    }
    if (head < queue.size()) {
      const VertexId f = queue[head];
      const EdgeIndex b = rowstart[f], n = std::min<EdgeIndex>(rowstart[f + 1] - b, kAheadEdge);
      for (EdgeIndex e = b; e < b + n; ++e) fetch(cols[e]);
    }
    const float r = cell[u].residual;
    cell[u].residual = 0.0f;
    cell[u].reserve += alpha * r;
    ++ws->pushes;
    const float rest = (1.0f - alpha) * r;
    const float d = cell[u].degree;
    if (d <= 0) {  // dangling: back to the seed distribution
      for (const auto& [w, s] : ws->seeds) add(s, static_cast<float>(rest * w));
      continue;
    }
    const float scale = rest / d;
    const EdgeIndex end = rowstart[u + 1];
    if (all) {
      for (EdgeIndex e = rowstart[u]; e < end; ++e) {
        if (e + kAheadEdge < end) fetch(cols[e + kAheadEdge]);
        add(cols[e], scale * weights[e]);
      }
    } else {
      for (EdgeIndex e = rowstart[u]; e < end; ++e) {
        if (e + kAheadEdge < end) fetch(cols[e + kAheadEdge]);
        if (edge_ok(e)) add(cols[e], scale * weights[e]);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> PowerIteration(const Graph& graph, std::span<const Seed> seeds,
                                                   const PowerIterationOptions& options) {
  double total = 0;
  if (absl::Status s = CheckArgs(graph, seeds, options.alpha, &total); !s.ok()) return s;
  const VertexId n = graph.num_vertices();
  const GroupBits caller = options.group_mask;
  std::vector<double> s(n, 0.0), p(n, 0.0), next(n, 0.0), deg(n, 0.0);
  for (const Seed& seed : seeds) s[seed.vertex] += seed.weight / total;
  for (VertexId v = 0; v < n; ++v) {
    double sum = 0;
    for (EdgeIndex e = graph.row_begin(v); e < graph.row_end(v); ++e) {
      if (graph.mask(e) & caller) sum += graph.weight(e);
    }
    deg[v] = sum;
  }
  p = s;
  const double alpha = options.alpha;
  for (int it = 0; it < options.max_iterations; ++it) {
    double dangling = 0;
    for (VertexId v = 0; v < n; ++v) next[v] = 0;
    for (VertexId u = 0; u < n; ++u) {
      if (p[u] == 0) continue;
      if (deg[u] <= 0) {
        dangling += p[u];
        continue;
      }
      const double scale = p[u] / deg[u];
      for (EdgeIndex e = graph.row_begin(u); e < graph.row_end(u); ++e) {
        if (graph.mask(e) & caller) next[graph.target(e)] += scale * graph.weight(e);
      }
    }
    double diff = 0;
    for (VertexId v = 0; v < n; ++v) {
      const double x = alpha * s[v] + (1 - alpha) * (next[v] + dangling * s[v]);
      diff += std::abs(x - p[v]);
      p[v] = x;
    }
    if (diff < options.tolerance) break;
  }
  return p;
}

std::vector<std::pair<VertexId, double>> TopK(PprWorkspace* ws, size_t k, VertexId begin, VertexId end) {
  // Min-heap on (score, -id): the root is the weakest kept entry.
  auto better = [](const std::pair<float, VertexId>& a, const std::pair<float, VertexId>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  auto& heap = ws->heap;
  heap.clear();
  if (k == 0) return {};
  for (VertexId v : ws->touched) {
    if (v < begin || v >= end) continue;
    const float x = ws->cells[v].reserve;
    if (x <= 0) continue;
    if (heap.size() < k) {
      heap.emplace_back(x, v);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better({x, v}, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = {x, v};
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  std::vector<std::pair<VertexId, double>> out;
  out.reserve(heap.size());
  for (const auto& [x, v] : heap) out.emplace_back(v, x);
  return out;
}

std::vector<std::pair<VertexId, double>> TopK(std::span<const double> scores, size_t k) {
  std::vector<std::pair<VertexId, double>> all;
  all.reserve(scores.size());
  for (size_t v = 0; v < scores.size(); ++v) {
    if (scores[v] > 0) all.emplace_back(static_cast<VertexId>(v), scores[v]);
  }
  const size_t n = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  all.resize(n);
  return all;
}

}  // namespace whoknows::engine
