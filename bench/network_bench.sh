#!/usr/bin/env bash
# Talent network benchmarks (bench/RESULTS.md "Talent network").
#   bench/network_bench.sh DB CORPUS.jsonl
# DB: an index holding ../shared/data (r-devel for the graph comparisons);
# CORPUS.jsonl: whoknows-gen --posts 1000000 --people 100000 --seed 1 --out CORPUS.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:?index dir}
CORPUS=${2:-}
cmake --build build/release --target network_bench -j2 >/dev/null
B=build/release/bench/network_bench
TMP=$(mktemp -d /tmp/network-bench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
echo "== r-devel contact graph: C++ (Boost betweenness, igraph Louvain+Leiden) vs networkx / python3-igraph"
$B --db "$DB" --community r-devel --edges "$TMP/edges.tsv" > "$TMP/bench.json"
/usr/bin/python3 bench/network_compare.py "$TMP/edges.tsv" "$TMP/bench.json"
if [ -n "$CORPUS" ]; then
  echo "== network + coverage on $CORPUS (2 threads), /usr/bin/time for peak memory"
  /usr/bin/time -v $B --jsonl "$CORPUS" --threads 2 2> "$TMP/time.txt"
  grep -E "Maximum resident|Elapsed" "$TMP/time.txt"
fi
