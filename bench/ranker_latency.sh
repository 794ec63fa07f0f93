#!/bin/bash
# FindExperts latency, OLD (e.g. main c8758f9, hand-tuned blend) vs NEW (this tree, learned model stored in the
# index), alternating rounds on the same synthetic 100k index, closed loop, one request at a time.
#
#   BENCH_DIR=/tmp/x ROUNDS=5 OLD=/work/data1m/bin/whoknows bench/ranker_latency.sh
#
# BENCH_DIR holds db100k (whoknows index + whoknows train), q100k.txt and p100k.txt (whoknows-gen) and receives
# the server logs and lat.out (one JSON line per run). Per round and server: 500 health checks, then 500
# FindExperts (20 warm-up). The summary at the end: per round the NEW/OLD ratios of FindExperts p50 and p99 and
# each server's FindExperts p50 / health p50, then the medians over the rounds.
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${BENCH_DIR:-/tmp/rank2_bench}" || exit 1
OLD=${OLD:-/work/main/build/release/service/whoknows}
NEW=${NEW:-$HERE/../build/release/service/whoknows}
LOAD=${LOAD:-$HERE/../build/release/bench/whoknows-load}
ROUNDS=${ROUNDS:-3}
port=${PORT:-17950}
: > lat.out
for round in $(seq 1 "$ROUNDS"); do
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
    l=$(cut -d' ' -f1 /proc/loadavg)
    echo "{\"round\": $round, \"server\": \"$which\", \"load\": $l, \"health\": $h, \"experts\": $e}" | tee -a lat.out
    kill $pid; wait $pid 2>/dev/null
  done
done
python3 - lat.out <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["round"], r["server"]): r for r in runs}
rounds = sorted({r["round"] for r in runs})
rp50, rp99, oh, nh = [], [], [], []
print("round | load | OLD p50/p99 ms | NEW p50/p99 ms | NEW/OLD p50 | NEW/OLD p99 | p50/health OLD | NEW")
for k in rounds:
    o, n = by[(k, "OLD")], by[(k, "NEW")]
    oe, ne = o["experts"]["latency_ms"], n["experts"]["latency_ms"]
    ho, hn = o["health"]["latency_ms"]["p50"], n["health"]["latency_ms"]["p50"]
    rp50.append(ne["p50"] / oe["p50"]); rp99.append(ne["p99"] / oe["p99"])
    oh.append(oe["p50"] / ho); nh.append(ne["p50"] / hn)
    print(f"{k} | {o['load']}-{n['load']} | {oe['p50']:.2f} / {oe['p99']:.1f} | {ne['p50']:.2f} / {ne['p99']:.1f} | "
          f"{rp50[-1]:.2f} | {rp99[-1]:.2f} | {oh[-1]:.0f} | {nh[-1]:.0f}")
med = statistics.median
print(f"median NEW/OLD p50 {med(rp50):.2f}x, p99 {med(rp99):.2f}x; "
      f"median FindExperts p50 / health p50: OLD {med(oh):.0f}x, NEW {med(nh):.0f}x")
EOF
