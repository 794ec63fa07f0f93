#!/bin/bash
# HTTP/JSON vs gRPC FindExperts in the same run (bench/RESULTS.md "HTTP"): one
# `whoknows serve --listen ... --http ...` over DB; closed loop at the same
# concurrency, same queries, same k, alternating gRPC (whoknows-load) and HTTP
# (wrk + bench/http_experts.lua) rounds so both see the same box.
#   bench/http_run.sh BUILD_DIR DB QUERIES [CONCURRENCY=4] [SECONDS=10] [ROUNDS=2]
set -euo pipefail
B=$1 DB=$2 Q=$(realpath "$3") C=${4:-4} D=${5:-10} R=${6:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d)
"$B/service/whoknows" serve --db "$DB" --listen 127.0.0.1:0 --http 127.0.0.1:0 > "$OUT/srv.out" 2> "$OUT/srv.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 1 600); do grep -q "http on" "$OUT/srv.out" && break; sleep 0.2; done
GRPC=$(grep -o 'listening on [^ ]*' "$OUT/srv.out" | awk '{print $3}')
HTTP=$(grep -o 'http on [^ ]*' "$OUT/srv.out" | awk '{print $3}')
echo "gRPC $GRPC, HTTP $HTTP; concurrency $C, $D s per round, $R rounds; $(uptime | sed 's/.*load/load/')"
L="$B/bench/whoknows-load --target $GRPC --queries $Q --method experts --k 10 --timeout 5 --json"
$L --concurrency 1 --requests 50 > /dev/null  # warm-up both paths
WK_QUERIES=$Q wrk -t1 -c1 -d2s -s "$HERE/http_experts.lua" "$HTTP" > /dev/null
for r in $(seq 1 "$R"); do
  sleep 2
  $L --concurrency "$C" --duration "$D" > "$OUT/grpc$r.json"
  sleep 2
  WK_QUERIES=$Q WK_K=10 wrk -t2 -c"$C" -d"${D}s" --timeout 5s -s "$HERE/http_experts.lua" "$HTTP" > "$OUT/http$r.txt"
done
python3 - "$OUT" "$R" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = []
for r in range(1, rounds + 1):
    g = json.load(open(f"{out}/grpc{r}.json"))
    gl = g["latency_ms"]
    line = [l for l in open(f"{out}/http{r}.txt") if l.startswith("WKJSON ")][0]
    h = json.loads(line[len("WKJSON "):])
    grps, hrps = g["throughput_rps"], h["requests"] / h["duration_s"]
    rows.append((r, g["ok"], g["error_count"], grps, gl["p50"], gl["p99"], h["requests"], h["errors"] + h["non2xx"], hrps, h["p50_ms"], h["p99_ms"]))
print("round | gRPC ok/err | gRPC req/s | gRPC p50 | gRPC p99 | HTTP ok/err | HTTP req/s | HTTP p50 | HTTP p99 | HTTP/gRPC req/s | gRPC p50/HTTP p50")
for (r, gok, gerr, grps, gp50, gp99, hn, herr, hrps, hp50, hp99) in rows:
    print(f"{r} | {gok}/{gerr} | {grps:.1f} | {gp50:.2f} ms | {gp99:.2f} ms | {hn}/{herr} | {hrps:.1f} | {hp50:.2f} ms | {hp99:.2f} ms | {hrps/grps:.3f} | {gp50/hp50:.3f}")
tg = sum(r[3] for r in rows); th = sum(r[8] for r in rows)
print(f"overall HTTP/gRPC throughput ratio {th/tg:.3f}")
PY
