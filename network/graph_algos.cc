// Graph algorithms of the talent network: betweenness (Boost.Graph exact,
// pivot-sampled Brandes), communities (igraph Louvain + Leiden), PageRank and
// the truck factor.
#include "graph_algos.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/betweenness_centrality.hpp"
#include "igraph.h"
#include "whoknows/network/network.h"

namespace whoknows::network {

// ---------------------------------------------------------------- betweenness

std::vector<double> ExactBetweenness(const SimpleGraph& g) {
  using G = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  G bg(g.n);
  for (const auto& [a, b] : g.edges) boost::add_edge(a, b, bg);
  std::vector<double> c(g.n, 0.0);
  boost::brandes_betweenness_centrality(
      bg, boost::centrality_map(boost::make_iterator_property_map(c.begin(), boost::get(boost::vertex_index, bg))));
  // Boost counts each unordered pair once on an undirected graph (as networkx's
  // unnormalised value); networkx normalises by 2 / ((n-1)(n-2)).
  const double scale = g.n > 2 ? 2.0 / ((static_cast<double>(g.n) - 1) * (static_cast<double>(g.n) - 2)) : 0.0;
  for (double& x : c) x *= scale;
  return c;
}

std::vector<double> SampledBetweenness(const SimpleGraph& g, uint32_t pivots, double delta, uint64_t seed,
                                       int threads, double* error_bound) {
  const uint32_t n = g.n;
  std::vector<double> out(n, 0.0);
  if (error_bound != nullptr) *error_bound = 0;
  if (n <= 2) return out;
  // CSR adjacency.
  std::vector<uint32_t> start(n + 1, 0), col(2 * g.edges.size());
  for (const auto& [a, b] : g.edges) {
    ++start[a + 1];
    ++start[b + 1];
  }
  for (uint32_t i = 0; i < n; ++i) start[i + 1] += start[i];
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (const auto& [a, b] : g.edges) {
      col[fill[a]++] = b;
      col[fill[b]++] = a;
    }
  }
  const uint32_t k = std::min(std::max<uint32_t>(pivots, 1), n);
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);
  for (uint32_t i = 0; i < k; ++i) {
    std::uniform_int_distribution<uint32_t> pick(i, n - 1);
    std::swap(perm[i], perm[pick(rng)]);
  }
  const int nt = std::max(1, threads);
  std::vector<std::vector<double>> partial(nt, std::vector<double>(n, 0.0));
  auto work = [&](int tid) {
    std::vector<int32_t> dist(n, -1);
    std::vector<double> sigma(n, 0), dep(n, 0);
    std::vector<uint32_t> order;
    order.reserve(n);
    std::vector<double>& acc = partial[tid];
    for (uint32_t i = static_cast<uint32_t>(tid); i < k; i += static_cast<uint32_t>(nt)) {
      const uint32_t src = perm[i];
      order.clear();
      dist[src] = 0;
      sigma[src] = 1;
      order.push_back(src);
      for (size_t head = 0; head < order.size(); ++head) {
        const uint32_t v = order[head];
        for (uint32_t e = start[v]; e < start[v + 1]; ++e) {
          const uint32_t w = col[e];
          if (dist[w] < 0) {
            dist[w] = dist[v] + 1;
            order.push_back(w);
          }
          if (dist[w] == dist[v] + 1) sigma[w] += sigma[v];
        }
      }
      for (size_t j = order.size(); j-- > 0;) {
        const uint32_t w = order[j];
        for (uint32_t e = start[w]; e < start[w + 1]; ++e) {
          const uint32_t v = col[e];
          if (dist[v] == dist[w] - 1) dep[v] += sigma[v] / sigma[w] * (1 + dep[w]);
        }
        if (w != src) acc[w] += dep[w];
      }
      for (uint32_t w : order) {
        dist[w] = -1;
        sigma[w] = 0;
        dep[w] = 0;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& t : pool) t.join();
  // Sum over all sources ~ (n / k) * sum over pivots; normalise as networkx.
  const double scale = (static_cast<double>(n) / k) / ((static_cast<double>(n) - 1) * (static_cast<double>(n) - 2));
  for (int t = 0; t < nt; ++t) {
    for (uint32_t v = 0; v < n; ++v) out[v] += partial[t][v] * scale;
  }
  // Each pivot's dependency / (n-2) lies in [0, 1]; Hoeffding + a union bound over n people.
  if (error_bound != nullptr) {
    *error_bound = k >= n ? 0.0
                          : std::sqrt(std::log(2.0 * n / delta) / (2.0 * k)) * static_cast<double>(n) /
                                (static_cast<double>(n) - 1);
  }
  return out;
}

// ---------------------------------------------------------------- communities

namespace {
std::mutex igraph_mu;  // igraph's default RNG and error handler are process-wide
}

absl::StatusOr<Partition> DetectCommunities(const SimpleGraph& g, uint64_t seed) {
  Partition p;
  p.membership.resize(g.n);
  if (g.edges.empty()) {
    std::iota(p.membership.begin(), p.membership.end(), 0);
    p.method = "none (no contacts)";
    return p;
  }
  std::lock_guard<std::mutex> lock(igraph_mu);
  igraph_set_error_handler(igraph_error_handler_ignore);
  const igraph_integer_t m = static_cast<igraph_integer_t>(g.edges.size());
  igraph_vector_int_t el;
  igraph_vector_int_init(&el, 2 * m);
  for (igraph_integer_t e = 0; e < m; ++e) {
    VECTOR(el)[2 * e] = g.edges[e].first;
    VECTOR(el)[2 * e + 1] = g.edges[e].second;
  }
  igraph_t graph;
  igraph_vector_t w, strength;
  igraph_vector_int_t louvain, leiden;
  igraph_vector_init(&w, m);
  for (igraph_integer_t e = 0; e < m; ++e) VECTOR(w)[e] = g.weights.empty() ? 1.0 : g.weights[e];
  igraph_vector_init(&strength, 0);
  igraph_vector_int_init(&louvain, 0);
  igraph_vector_int_init(&leiden, 0);
  absl::Status status;
  double q_louvain = 0, q_leiden = -1;
  if (igraph_create(&graph, &el, g.n, IGRAPH_UNDIRECTED) != IGRAPH_SUCCESS) {
    status = absl::InternalError("igraph_create failed");
  } else {
    igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed));
    if (igraph_community_multilevel(&graph, &w, 1.0, &louvain, nullptr, nullptr) != IGRAPH_SUCCESS ||
        igraph_modularity(&graph, &louvain, &w, 1.0, false, &q_louvain) != IGRAPH_SUCCESS) {
      status = absl::InternalError("igraph Louvain failed");
    } else {
      // Leiden with the modularity objective (node weights = strength,
      // resolution 1 / 2m), starting from Louvain, 10 iterations (-1, "until
      // stable", does not terminate on some graphs in igraph 0.10.2).
      double total = 0;
      for (igraph_integer_t e = 0; e < m; ++e) total += VECTOR(w)[e];
      igraph_integer_t nb = 0;
      igraph_real_t quality = 0;
      if (igraph_vector_int_update(&leiden, &louvain) == IGRAPH_SUCCESS &&
          igraph_strength(&graph, &strength, igraph_vss_all(), IGRAPH_ALL, true, &w) == IGRAPH_SUCCESS &&
          igraph_community_leiden(&graph, &w, &strength, 1.0 / (2.0 * total), 0.01, true, 10, &leiden, &nb,
                                  &quality) == IGRAPH_SUCCESS) {
        if (igraph_modularity(&graph, &leiden, &w, 1.0, false, &q_leiden) != IGRAPH_SUCCESS) q_leiden = -1;
      }
    }
    igraph_destroy(&graph);
  }
  std::vector<int> raw(g.n);
  if (status.ok()) {
    const bool use_leiden = q_leiden > q_louvain;
    const igraph_vector_int_t& best = use_leiden ? leiden : louvain;
    for (uint32_t i = 0; i < g.n; ++i) raw[i] = static_cast<int>(VECTOR(best)[i]);
    p.modularity = use_leiden ? q_leiden : q_louvain;
    p.method = use_leiden ? "louvain+leiden" : "louvain";
  }
  igraph_vector_int_destroy(&el);
  igraph_vector_destroy(&w);
  igraph_vector_destroy(&strength);
  igraph_vector_int_destroy(&louvain);
  igraph_vector_int_destroy(&leiden);
  if (!status.ok()) return status;
  // Relabel: largest first, ties by the smallest member.
  int maxc = 0;
  for (int c : raw) maxc = std::max(maxc, c);
  std::vector<uint32_t> size(maxc + 1, 0), first(maxc + 1, g.n);
  for (uint32_t i = 0; i < g.n; ++i) {
    ++size[raw[i]];
    first[raw[i]] = std::min(first[raw[i]], i);
  }
  std::vector<int> ids(maxc + 1);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(),
            [&](int a, int b) { return size[a] != size[b] ? size[a] > size[b] : first[a] < first[b]; });
  std::vector<int> rank(maxc + 1);
  for (int r = 0; r <= maxc; ++r) rank[ids[r]] = r;
  for (uint32_t i = 0; i < g.n; ++i) p.membership[i] = rank[raw[i]];
  return p;
}

// ---------------------------------------------------------------- PageRank

std::vector<double> PageRank(uint32_t n, const std::vector<std::tuple<uint32_t, uint32_t, double>>& edges, double d) {
  std::vector<double> pr(n, n ? 1.0 / n : 0), next(n), out_w(n, 0);
  if (n == 0) return pr;
  for (const auto& [a, b, w] : edges) out_w[a] += w;
  for (int it = 0; it < 200; ++it) {
    double dangling = 0;
    for (uint32_t v = 0; v < n; ++v) {
      if (out_w[v] == 0) dangling += pr[v];
    }
    const double base = (1 - d) / n + d * dangling / n;
    std::fill(next.begin(), next.end(), base);
    for (const auto& [a, b, w] : edges) next[b] += d * pr[a] * w / out_w[a];
    double diff = 0;
    for (uint32_t v = 0; v < n; ++v) diff += std::abs(next[v] - pr[v]);
    pr.swap(next);
    if (diff < 1e-12 * n) break;
  }
  return pr;
}

// ---------------------------------------------------------------- truck factor

BusFactor TruckFactor(const std::vector<std::vector<uint32_t>>& unit_holders, uint32_t num_holders,
                      double orphan_fraction) {
  BusFactor bf;
  const size_t units = unit_holders.size();
  if (units == 0) {
    bf.exact = true;
    return bf;
  }
  const double need = orphan_fraction * static_cast<double>(units);  // orphaned must exceed this
  std::vector<uint32_t> remaining(units);
  std::vector<std::vector<uint32_t>> held(num_holders);
  size_t orphaned = 0;
  for (size_t u = 0; u < units; ++u) {
    std::vector<uint32_t> hs = unit_holders[u];
    std::sort(hs.begin(), hs.end());
    hs.erase(std::unique(hs.begin(), hs.end()), hs.end());
    remaining[u] = static_cast<uint32_t>(hs.size());
    if (hs.empty()) ++orphaned;
    for (uint32_t h : hs) held[h].push_back(static_cast<uint32_t>(u));
  }
  if (static_cast<double>(orphaned) > need) {
    bf.exact = true;  // already lost
    return bf;
  }
  // Greedy (Avelino et al.): remove the holder of the most non-orphaned units.
  std::vector<uint8_t> removed(num_holders, 0);
  while (static_cast<double>(orphaned) <= need) {
    uint32_t best = num_holders;
    size_t best_count = 0;
    for (uint32_t h = 0; h < num_holders; ++h) {
      if (removed[h]) continue;
      size_t c = 0;
      for (uint32_t u : held[h]) c += remaining[u] > 0;
      if (best == num_holders || c > best_count) {
        best = h;
        best_count = c;
      }
    }
    if (best == num_holders) break;  // cannot happen: removing everyone orphans all
    removed[best] = 1;
    bf.people.push_back(best);
    for (uint32_t u : held[best]) {
      if (--remaining[u] == 0) ++orphaned;
    }
  }
  bf.value = static_cast<uint32_t>(bf.people.size());
  bf.exact = bf.value <= 1;
  if (bf.exact || num_holders > 64) return bf;
  // Exhaustive search for a smaller set over distinct holder masks.
  absl::flat_hash_map<uint64_t, uint32_t> masks;
  for (const auto& hs : unit_holders) {
    uint64_t m = 0;
    for (uint32_t h : hs) m |= uint64_t{1} << h;
    ++masks[m];
  }
  std::vector<std::pair<uint64_t, uint32_t>> mv(masks.begin(), masks.end());
  constexpr double kMaxWork = 2e7;
  for (uint32_t size = 1; size < bf.value; ++size) {
    // C(num_holders, size) subsets times the distinct masks.
    double combos = 1;
    for (uint32_t i = 0; i < size; ++i) combos = combos * (num_holders - i) / (i + 1);
    if (combos * static_cast<double>(mv.size()) > kMaxWork) return bf;  // greedy answer, not proven
    std::vector<uint32_t> idx(size);
    std::iota(idx.begin(), idx.end(), 0);
    while (true) {
      uint64_t set = 0;
      for (uint32_t i : idx) set |= uint64_t{1} << i;
      size_t orph = 0;
      for (const auto& [m, c] : mv) {
        if ((m & ~set) == 0) orph += c;
      }
      if (static_cast<double>(orph) > need) {
        bf.value = size;
        bf.people = idx;
        bf.exact = true;
        return bf;
      }
      int i = static_cast<int>(size) - 1;
      while (i >= 0 && idx[i] == num_holders - size + static_cast<uint32_t>(i)) --i;
      if (i < 0) break;
      ++idx[i];
      for (uint32_t j = static_cast<uint32_t>(i) + 1; j < size; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  bf.exact = true;  // no smaller set exists
  return bf;
}

}  // namespace whoknows::network
