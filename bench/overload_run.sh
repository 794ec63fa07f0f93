#!/bin/bash
# Overload behaviour (issue 13): the same index served twice — with the default
# admission control, and with it effectively off (a queue that never fills and
# no wait bound: the old behaviour) — and per server:
#   1. idle health baseline            health, open loop 200/s, 5 s
#   2. capacity                        FindExperts, closed loop C=4, 10 s
#   3. 2x overload                     FindExperts, open loop at 2 x the capacity measured against the
#                                      first server (the same rate for both), 10 s, 5 s deadline
#   4. 1 s after the overload run ends health, open loop 200/s, 5 s  (target: p99 <= 2 x idle p99)
#   bench/overload_run.sh BUILD_DIR DB PORT QUERIES [REPS=1]
# With REPS > 1, steps 1, 3 and 4 repeat REPS times per server (capacity is measured once) and the
# script prints the median over the repetitions of each p99 and of the after/idle ratio: one p99 of
# 1,000 health calls is its 10th-worst call, which on a shared box swings several-fold even idle.
# PORT 0 = a free port (read from the server's "listening on" line).
set -u
B=$1 DB=$2 PORT=$3 Q=$4 REPS=${5:-1}
OUT=$(mktemp -d)
RATE=""
summ() { python3 -c "import json; j=json.load(open('$1')); l=j['latency_ms']; print('   ok',j['ok'],'err',j['error_count'],'rps',round(j['throughput_rps'],1), {k:round(l.get(k,0),2) for k in ('p50','p90','p99','max')}, j.get('errors'))"; }
field() { python3 -c "import json; j=json.load(open('$1')); print($2)"; }
for mode in admission unbounded; do
  if [ "$mode" = admission ]; then EXTRA=(); else EXTRA=(--max-queue 1000000 --max-queue-wait-ms 1000000000); fi
  "$B/service/whoknows" serve --db "$DB" --listen "127.0.0.1:$PORT" "${EXTRA[@]}" > "$OUT/srv.out" 2> "$OUT/srv.err" &
  SRV=$!
  for _ in $(seq 1 1200); do grep -q listening "$OUT/srv.out" && break; sleep 0.25; done
  P=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/srv.out")
  L="$B/bench/whoknows-load --target 127.0.0.1:$P --queries $Q --json --timeout 5"
  $L --method experts --concurrency 1 --requests 20 > /dev/null  # warm-up
  echo "#### $mode ${EXTRA[*]} ($(uptime | sed 's/.*load/load/'))"
  $L --method experts --concurrency 4 --duration 10 > "$OUT/cap.json"; echo "== capacity: experts C=4"; summ "$OUT/cap.json"
  [ -n "${RATE:-}" ] || RATE=$(field "$OUT/cap.json" "int(2*j['throughput_rps'])")
  : > "$OUT/ratios"
  for rep in $(seq 1 "$REPS"); do
    sleep 2
    $L --method health --rate 200 --duration 5 > "$OUT/idle.json"; echo "== [$rep] idle health 200/s (load $(cut -d' ' -f1 /proc/loadavg))"; summ "$OUT/idle.json"
    sleep 2
    $L --method experts --rate "$RATE" --duration 10 > "$OUT/over.json"; echo "== [$rep] 2x overload: experts open $RATE/s"; summ "$OUT/over.json"
    sleep 1
    $L --method health --rate 200 --duration 5 > "$OUT/after.json"; echo "== [$rep] health 200/s, 1 s after the overload run"; summ "$OUT/after.json"
    python3 -c "import json; a=json.load(open('$OUT/after.json'))['latency_ms']; b=json.load(open('$OUT/idle.json'))['latency_ms']; print(b['p99'], a['p99'], a['p99']/b['p99'])" >> "$OUT/ratios"
    echo "   p99 after / idle = $(tail -1 "$OUT/ratios" | awk '{printf "%.2f", $3}')"
  done
  python3 -c "
import statistics as st
rows=[list(map(float,l.split())) for l in open('$OUT/ratios') if l.strip()]
print('   median over %d repetitions: idle p99 %.2f ms, after p99 %.2f ms, after/idle %.2f (each: %s)' % (len(rows),
      st.median(r[0] for r in rows), st.median(r[1] for r in rows), st.median(r[2] for r in rows), ' '.join('%.2f' % r[2] for r in rows)))"
  kill "$SRV"; wait "$SRV"
  grep -h "admission:" "$OUT/srv.err" | sed 's/^/   server: /'
  sleep 2
done
rm -rf "$OUT"
