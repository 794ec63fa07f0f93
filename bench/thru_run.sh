#!/bin/bash
# Old vs new server binaries on the same index, in alternating rounds (issue 13,
# bench/RESULTS.md "FindExperts at 1M: 500 req/s open loop"). Both servers run
# read-only (--shard DB, so nothing is written to DB) on free ports; every
# round runs, against each server in turn:
#   health, open loop RATE/s            (gRPC + loopback baseline in the same minute)
#   FindExperts, open loop RATE/s       (latency from the scheduled send time)
#   FindExperts, closed loop C=4        (capacity)
#   SuggestConnections, closed loop C=4 (capacity; CONNECT_EXTRA adds server flags to the new one)
# each for DUR seconds, with the 1-minute load average before each run.
#   bench/thru_run.sh OLD_WHOKNOWS NEW_WHOKNOWS LOADGEN DB QUERIES PERSONS [ROUNDS=2] [RATE=500] [DUR=10]
# Env: OLD_FLAGS / NEW_FLAGS: extra `serve` flags per server; RUNS: the run list (default all four);
# WARMUP: FindExperts calls per server before the rounds (default 60).
# Each line ends with the server's CPU time (user + system, /proc/PID/stat) over the run divided by
# the calls answered OK: on a loaded box this moves much less than req/s does.
set -u
OLD=$1 NEW=$2 LOADGEN=$3 DB=$4 Q=$5 P=$6 ROUNDS=${7:-2} RATE=${8:-500} DUR=${9:-10}
RUNS=${RUNS:-"health-open experts-open experts-closed connect-closed"}
OUT=$(mktemp -d)
load() { cut -d' ' -f1 /proc/loadavg; }
start() {  # name binary flags...
  local name=$1 bin=$2
  shift 2
  "$bin" serve --shard "$DB" --listen 127.0.0.1:0 "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" &
  echo $! > "$OUT/$name.pid"
}
port() { sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/$1.out"; }
T0=$(date +%s)
start old "$OLD" ${OLD_FLAGS:-}
start new "$NEW" ${NEW_FLAGS:-}
for _ in $(seq 1 2400); do [ -n "$(port old)" ] && [ -n "$(port new)" ] && break; sleep 0.5; done
echo "both ready after $(( $(date +%s) - T0 )) s (load $(load)); old port $(port old), new port $(port new)"
cpu() { awk '{print $14 + $15}' "/proc/$(cat "$OUT/$1.pid")/stat"; }  # clock ticks
summ() { python3 -c "
import json; j=json.load(open('$1')); l=j['latency_ms']; cpu=($5) * 1000.0 / $(getconf CLK_TCK)
print('%-6s %-15s load %5s  ok %6d err %5d  %7.1f req/s  p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms  cpu/ok %6.2f ms  %s' % ('$2', '$3', '$4',
      j['ok'], j['error_count'], j['throughput_rps'], l.get('p50',0), l.get('p90',0), l.get('p99',0), l.get('max',0),
      cpu / max(1, j['ok']), j.get('errors') or ''))"; }
for name in old new; do  # warm-up: page cache, reader pool, per-snapshot tables
  "$LOADGEN" --target "127.0.0.1:$(port $name)" --queries "$Q" --persons "$P" --method experts --concurrency 2 --requests "${WARMUP:-60}" --timeout 30 > /dev/null
  "$LOADGEN" --target "127.0.0.1:$(port $name)" --queries "$Q" --persons "$P" --method connect --concurrency 2 --requests 20 --timeout 30 > /dev/null
done
for r in $(seq 1 "$ROUNDS"); do
  for name in old new; do
    L="$LOADGEN --target 127.0.0.1:$(port $name) --queries $Q --persons $P --json --timeout 5 --seed $r"
    for run in $RUNS; do
      sleep 3
      ld=$(load)
      c0=$(cpu $name)
      case $run in
        health-open) $L --method health --rate "$RATE" --duration "$DUR" > "$OUT/run.json" ;;
        experts-open) $L --method experts --rate "$RATE" --duration "$DUR" > "$OUT/run.json" ;;
        experts-closed) $L --method experts --concurrency 4 --duration "$DUR" > "$OUT/run.json" ;;
        connect-closed) $L --method connect --concurrency 4 --duration "$DUR" > "$OUT/run.json" ;;
      esac
      summ "$OUT/run.json" "$name" "r$r $run" "$ld" "$(cpu $name) - $c0"
    done
  done
done
for name in old new; do
  pid=$(cat "$OUT/$name.pid")
  echo "$name VmRSS $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
  kill "$pid"; wait "$pid" 2>/dev/null
done
rm -rf "$OUT"
