#!/bin/bash
# FindExperts latency, OLD (main c8758f9, hand-tuned blend) vs NEW (rank2, learned model stored in the index),
# alternating rounds on the same synthetic 100k index, closed loop, one request at a time.
HERE=$(cd "$(dirname "$0")" && pwd)
# BENCH_DIR holds db100k (whoknows index + whoknows train), q100k.txt and p100k.txt (whoknows-gen).
cd "${BENCH_DIR:-/tmp/rank2_bench}"
OLD=${OLD:-/work/main/build/release/service/whoknows}
NEW=${NEW:-$HERE/../build/release/service/whoknows}
LOAD=${LOAD:-$HERE/../build/release/bench/whoknows-load}
port=17950
for round in 1 2 3; do
  for which in OLD NEW; do
    bin=${!which}
    port=$((port+1))
    $bin serve --db db100k --listen 127.0.0.1:$port > serve_${which}_${round}.log 2>&1 &
    pid=$!
    for i in $(seq 1 600); do
      $LOAD --target 127.0.0.1:$port --method health --concurrency 1 --requests 1 > /dev/null 2>&1 && break
      sleep 1
    done
    h=$($LOAD --target 127.0.0.1:$port --queries q100k.txt --persons p100k.txt --method health --concurrency 1 --requests 500 --json)
    e=$($LOAD --target 127.0.0.1:$port --queries q100k.txt --persons p100k.txt --method experts --concurrency 1 --requests 500 --warmup 20 --json)
    echo "round $round $which load $(cut -d' ' -f1 /proc/loadavg) health $h"
    echo "round $round $which load $(cut -d' ' -f1 /proc/loadavg) experts $e"
    kill $pid; wait $pid 2>/dev/null
  done
done
