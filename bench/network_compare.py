#!/usr/bin/python3
"""Compares network_bench's graph mode with networkx and python3-igraph on the same edge list.

usage: network_compare.py EDGES.tsv BENCH.json
Prints JSON: networkx exact betweenness seconds, top-20 agreement with the C++ top 20,
igraph Leiden (modularity objective, weighted) modularity and the C++ one.
"""
import json
import sys
import time

import igraph
import networkx as nx

edges_path, bench_path = sys.argv[1], sys.argv[2]
bench = json.load(open(bench_path))
n = bench["vertices"]
edges = []
for line in open(edges_path):
    a, b, w = line.split("\t")
    edges.append((int(a), int(b), float(w)))

g = nx.Graph()
g.add_nodes_from(range(n))
g.add_weighted_edges_from(edges)
t = time.perf_counter()
bc = nx.betweenness_centrality(g)  # exact, unweighted, normalised
nx_s = time.perf_counter() - t
top = sorted(bc, key=lambda v: (-bc[v], v))[:20]
agree = len(set(top) & set(bench["top20_exact"]))
max_diff = max(abs(bc[v] - s) for v, s in zip(bench["top20_exact"], bench["top20_scores"]))

ig = igraph.Graph(n=n, edges=[(a, b) for a, b, _ in edges])
ig.es["weight"] = [w for _, _, w in edges]
t = time.perf_counter()
best = None
for seed in range(3):
    igraph.set_random_number_generator(__import__("random").Random(seed))
    part = ig.community_leiden(objective_function="modularity", weights="weight", n_iterations=10)
    q = ig.modularity(part.membership, weights="weight")
    best = q if best is None else max(best, q)
leiden_s = time.perf_counter() - t

print(json.dumps({
    "vertices": n, "edges": len(edges),
    "networkx_exact_seconds": nx_s,
    "cpp_exact_seconds": bench["exact_seconds"],
    "speedup_exact_vs_networkx": nx_s / bench["exact_seconds"],
    "cpp_sampled_seconds": bench["sampled_seconds"],
    "speedup_sampled_vs_networkx": nx_s / bench["sampled_seconds"],
    "top20_agreement_exact": agree,
    "top20_max_score_difference": max_diff,
    "sampled_top20_vs_exact": bench["sampled_top20_vs_exact"],
    "igraph_leiden_modularity_best_of_3": best,
    "igraph_leiden_seconds": leiden_s,
    "cpp_modularity": bench["modularity"],
    "cpp_method": bench["method"],
    "modularity_gap": best - bench["modularity"],
}, indent=2))
