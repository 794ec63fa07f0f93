#!/bin/bash
# Overload behaviour (issue 13): the same index served twice — with the default
# admission control, and with it effectively off (a queue that never fills and
# no wait bound: the old behaviour) — and per server:
#   1. idle health baseline            health, open loop 200/s, 5 s
#   2. capacity                        FindExperts, closed loop C=4, 10 s
#   3. 2x overload                     FindExperts, open loop at 2 x the capacity measured against the
#                                      first server (the same rate for both), 10 s, 5 s deadline
#   4. 1 s after the overload run ends health, open loop 200/s, 5 s  (target: p99 <= 2 x idle p99)
#   bench/overload_run.sh BUILD_DIR DB PORT QUERIES
set -u
B=$1 DB=$2 PORT=$3 Q=$4
OUT=$(mktemp -d)
RATE=""
summ() { python3 -c "import json; j=json.load(open('$1')); l=j['latency_ms']; print('   ok',j['ok'],'err',j['error_count'],'rps',round(j['throughput_rps'],1), {k:round(l.get(k,0),2) for k in ('p50','p90','p99','max')}, j.get('errors'))"; }
field() { python3 -c "import json; j=json.load(open('$1')); print($2)"; }
for mode in admission unbounded; do
  if [ "$mode" = admission ]; then EXTRA=(); else EXTRA=(--max-queue 1000000 --max-queue-wait-ms 1000000000); fi
  "$B/service/whoknows" serve --db "$DB" --listen "127.0.0.1:$PORT" "${EXTRA[@]}" > "$OUT/srv.out" 2> "$OUT/srv.err" &
  SRV=$!
  for _ in $(seq 1 1200); do grep -q listening "$OUT/srv.out" && break; sleep 0.25; done
  L="$B/bench/whoknows-load --target 127.0.0.1:$PORT --queries $Q --json --timeout 5"
  $L --method experts --concurrency 1 --requests 20 > /dev/null  # warm-up
  echo "#### $mode ${EXTRA[*]} ($(uptime | sed 's/.*load/load/'))"
  $L --method health --rate 200 --duration 5 > "$OUT/idle.json"; echo "== idle health 200/s"; summ "$OUT/idle.json"
  sleep 2
  $L --method experts --concurrency 4 --duration 10 > "$OUT/cap.json"; echo "== capacity: experts C=4"; summ "$OUT/cap.json"
  [ -n "${RATE:-}" ] || RATE=$(field "$OUT/cap.json" "int(2*j['throughput_rps'])")
  sleep 2
  $L --method experts --rate "$RATE" --duration 10 > "$OUT/over.json"; echo "== 2x overload: experts open $RATE/s"; summ "$OUT/over.json"
  sleep 1
  $L --method health --rate 200 --duration 5 > "$OUT/after.json"; echo "== health 200/s, 1 s after the overload run"; summ "$OUT/after.json"
  echo "   p99 after / idle = $(python3 -c "import json; a=json.load(open('$OUT/after.json'))['latency_ms']['p99']; b=json.load(open('$OUT/idle.json'))['latency_ms']['p99']; print(round(a/b,2))")"
  kill "$SRV"; wait "$SRV"
  grep -h "admission:" "$OUT/srv.err" | sed 's/^/   server: /'
  sleep 2
done
rm -rf "$OUT"
