#!/bin/bash
# The load battery behind bench/RESULTS.md "Scale and load": serve DB on a
# loopback port, report start-up time and VmRSS, run whoknows-load (health
# baseline vs FindExperts at 500/s and 50/s open loop, closed loop C=1/4,
# SuggestConnections C=4), optionally ingest_probe and snapshot_bench.
#   bench/scale_run.sh BUILD_DIR DB PORT QUERIES PERSONS [probe-rounds]
# ingest_probe writes documents into DB: use a scratch index.
set -u
B=$1 DB=$2 PORT=$3 Q=$4 P=$5 PROBE=${6:-0}
OUT=$(mktemp -d)
T0=$(date +%s.%N)
"$B/service/whoknows" serve --db "$DB" --listen "127.0.0.1:$PORT" > "$OUT/srv.out" 2> "$OUT/srv.err" &
SRV=$!
for _ in $(seq 1 1200); do grep -q listening "$OUT/srv.out" && break; sleep 0.5; done
echo "ready after $(python3 -c "import time; print(round(time.time()-$T0,1))") s; $(uptime | sed 's/.*load/load/')"
rss() { grep -E "VmRSS|VmHWM" "/proc/$SRV/status" | tr '\n' ' '; echo; }
rss
L="$B/bench/whoknows-load --target 127.0.0.1:$PORT --queries $Q --persons $P --json --timeout 5"
summ() { python3 -c "import json; j=json.load(open('$1')); l=j['latency_ms']; print('   ok',j['ok'],'err',j['error_count'],'rps',round(j['throughput_rps'],1), {k:round(l.get(k,0),2) for k in ('p50','p90','p99','max')}, j.get('errors'), 'lag', round(j.get('max_send_lag_ms',0),1))"; }
$L --method experts --concurrency 1 --requests 20 > /dev/null  # warm-up
for spec in "health rate 500" "experts rate 500" "health rate 50" "experts rate 50" "health concurrency 4" \
            "experts concurrency 1" "experts concurrency 4" "connect concurrency 4"; do
  set -- $spec
  sleep 5  # let a saturated server drain
  echo "== $spec $(uptime | sed 's/.*load/load/')"
  $L --method "$1" "--$2" "$3" --duration 10 > "$OUT/run.json"
  summ "$OUT/run.json"
done
rss
if [ "$PROBE" -gt 0 ]; then
  echo "== ingest probe $(uptime | sed 's/.*load/load/')"
  "$B/bench/ingest_probe" --target "127.0.0.1:$PORT" --rounds "$PROBE" --json
  rss
fi
kill "$SRV"; wait "$SRV"
echo "== snapshot_bench $(uptime | sed 's/.*load/load/')"
"$B/bench/snapshot_bench" --db "$DB" --rounds 2 --json
rm -rf "$OUT"
