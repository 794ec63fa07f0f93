#ifndef WHOKNOWS_BENCH_PPR_REFERENCE_H_
#define WHOKNOWS_BENCH_PPR_REFERENCE_H_

// engine::ForwardPush as it was on main 15521df (before branch ppr5), kept
// verbatim as the reference for the in-process A/B benchmark
// (bench/experts_ppr_bench.cc) and for the bit-identity test
// (tests/engine/ppr_test.cc): same FIFO, same float operations in the same
// order, its own workspace. Header-only; not part of the engine.

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

#include "whoknows/engine/graph.h"
#include "whoknows/engine/ppr.h"

namespace whoknows::engine::reference {

struct Workspace {
  struct Cell {
    float residual = 0.0f;
    float degree = -1.0f;
  };
  std::vector<float> reserve;
  std::vector<Cell> cells;
  std::vector<VertexId> touched;
  std::vector<VertexId> queue;
  std::vector<std::pair<double, VertexId>> seeds;
  uint64_t pushes = 0;
  uint64_t edges = 0;  // edge visits (rows scanned by pushes)
  bool truncated = false;

  void Prepare(VertexId n) {
    if (reserve.size() == n) return;
    reserve.assign(n, 0.0f);
    cells.assign(n, Cell{});
    touched.clear();
    queue.clear();
  }
  void Reset() {
    for (VertexId v : touched) {
      reserve[v] = 0.0f;
      cells[v] = Cell{};
    }
    touched.clear();
    queue.clear();
    seeds.clear();
    pushes = 0;
    edges = 0;
    truncated = false;
  }
};

// Arguments are assumed valid (the engine's ForwardPush checks them).
inline void ForwardPush(const Graph& graph, std::span<const Seed> seeds, const PprOptions& options, Workspace* ws) {
  double total = 0;
  for (const Seed& s : seeds) total += s.weight;
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
  const float alpha = static_cast<float>(options.alpha);
  const double r_max = options.r_max;
  float* reserve = ws->reserve.data();
  Workspace::Cell* cell = ws->cells.data();

  auto edge_ok = [&](EdgeIndex e) {
    if (!(graph.mask(e) & caller)) return false;
    if (!by_time) return true;
    const int64_t t = vtime[cols[e]];
    return t == kTimeless || (t >= t_from && (t_to == 0 || t < t_to));
  };
  auto touch = [&](VertexId v) {
    if (cell[v].degree < 0) {
      if (all) {
        cell[v].degree = graph.out_weight(v);
      } else {
        double sum = 0;
        for (EdgeIndex e = rowstart[v]; e < rowstart[v + 1]; ++e) {
          if (edge_ok(e)) sum += weights[e];
        }
        cell[v].degree = static_cast<float>(sum);
      }
      ws->touched.push_back(v);
    }
  };
  auto threshold = [&](VertexId v) { return static_cast<float>(r_max * std::max(cell[v].degree, 1.0f)); };

  for (const Seed& s : seeds) {
    if (s.weight <= 0) continue;
    ws->seeds.emplace_back(s.weight / total, s.vertex);
    touch(s.vertex);
    cell[s.vertex].residual += static_cast<float>(s.weight / total);
  }
  for (VertexId v : ws->touched) {
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
    if (head > 65536 && head * 2 > queue.size()) {
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
    const float r = cell[u].residual;
    cell[u].residual = 0.0f;
    reserve[u] += alpha * r;
    ++ws->pushes;
    const float rest = (1.0f - alpha) * r;
    const float d = cell[u].degree;
    if (d <= 0) {
      for (const auto& [w, s] : ws->seeds) add(s, static_cast<float>(rest * w));
      continue;
    }
    const float scale = rest / d;
    const EdgeIndex end = rowstart[u + 1];
    ws->edges += end - rowstart[u];
    if (all) {
      for (EdgeIndex e = rowstart[u]; e < end; ++e) add(cols[e], scale * weights[e]);
    } else {
      for (EdgeIndex e = rowstart[u]; e < end; ++e) {
        if (edge_ok(e)) add(cols[e], scale * weights[e]);
      }
    }
  }
}

}  // namespace whoknows::engine::reference

#endif  // WHOKNOWS_BENCH_PPR_REFERENCE_H_
