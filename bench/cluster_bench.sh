#!/bin/bash
# Remote shards vs local, and 1 vs 2 replicas (issue 13), on one synthetic corpus indexed twice:
# unsharded (SINGLE) and into 3 shards (SHARDED, `whoknows index --shards 3`).
#   A. FindExperts latency, closed loop C=1, per layout, each with its health-check baseline:
#      single local db | 3 local shards (stub dir) | 3 remote shards (xapian-tcpsrv on loopback)
#   B. throughput, closed loop C=4 FindExperts: 1 replica vs 2 replicas behind one round_robin channel
#      (replicas = copies made by xapian-replicate, served with --follow)
#   bench/cluster_bench.sh BUILD_DIR SINGLE SHARDED QUERIES [requests]
set -u
B=$1 SINGLE=$2 SHARDED=$3 Q=$4 N=${5:-400}
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 400); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; }
summ() { python3 -c "import json; j=json.load(open('$1')); l=j['latency_ms']; print('   ok',j['ok'],'err',j['error_count'],'rps',round(j['throughput_rps'],1), {k:round(l.get(k,0),2) for k in ('p50','p90','p99','max')}, j.get('errors'))"; }
serve() {  # serve ARGS... -> sets ADDR
  local out=$W/serve-$RANDOM
  setsid "$B/service/whoknows" serve --listen 127.0.0.1:0 "$@" > "$out.out" 2> "$out.err" &
  PIDS+=($!)
  ADDR=""
  for _ in $(seq 1 1200); do ADDR=$(grep -o 'listening on [^ ]*' "$out.out" 2>/dev/null | awk '{print $3}'); [ -n "$ADDR" ] && break; sleep 0.25; done
}
run() {  # run NAME ADDR: health baseline then FindExperts, closed C=1
  local L="$B/bench/whoknows-load --target $2 --queries $Q --json --timeout 10"
  $L --method experts --concurrency 1 --requests 20 > /dev/null
  $L --method health --concurrency 1 --requests "$N" > "$W/h.json"; echo "== $1: health C=1"; summ "$W/h.json"
  $L --method experts --concurrency 1 --requests "$N" > "$W/e.json"; echo "== $1: FindExperts C=1"; summ "$W/e.json"
}
echo "#### A. local vs remote shards ($(uptime | sed 's/.*load/load/'))"
serve --db "$SINGLE"; S1=${PIDS[-1]}; run "single local index" "$ADDR"; kill -- -"$S1"
serve --db "$SHARDED"; S2=${PIDS[-1]}; run "3 local shards" "$ADDR"; kill -- -"$S2"
SH=()
for d in "$SHARDED"/shard-*; do
  p=$(free_port)
  setsid xapian-tcpsrv --interface 127.0.0.1 --port "$p" --quiet "$d" > /dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$p"
  SH+=(--shard "tcp://127.0.0.1:$p")
done
serve "${SH[@]}"; S3=${PIDS[-1]}; run "3 remote shards (xapian-tcpsrv)" "$ADDR"; kill -- -"$S3"

echo "#### B. 1 vs 2 replicas ($(uptime | sed 's/.*load/load/'))"
mkdir -p "$W/master"
ln -s "$(realpath "$SINGLE")" "$W/master/db"
RP=$(free_port)
setsid xapian-replicate-server --interface 127.0.0.1 --port "$RP" "$W/master" > /dev/null 2>&1 &
PIDS+=($!)
wait_port "$RP"
ADDRS=()
for r in 1 2; do
  xapian-replicate --host 127.0.0.1 --port "$RP" --master db --one-shot --quiet "$W/replica-$r" || echo "replicate $r failed"
  serve --db "$W/replica-$r" --follow 1
  ADDRS+=("$ADDR")
done
L="$B/bench/whoknows-load --queries $Q --json --timeout 10"
$L --target "${ADDRS[0]}" --method experts --concurrency 4 --requests 20 > /dev/null
$L --target "${ADDRS[1]}" --method experts --concurrency 4 --requests 20 > /dev/null
$L --target "${ADDRS[0]}" --method experts --concurrency 4 --duration 10 > "$W/r1.json"; echo "== 1 replica, C=4"; summ "$W/r1.json"
$L --target "${ADDRS[0]},${ADDRS[1]}" --method experts --concurrency 4 --duration 10 > "$W/r2.json"; echo "== 2 replicas round_robin, C=4"; summ "$W/r2.json"
$L --target "${ADDRS[0]}" --method experts --concurrency 4 --duration 10 > "$W/r1b.json"; echo "== 1 replica again, C=4"; summ "$W/r1b.json"
echo "   2 replicas / 1 replica throughput = $(python3 -c "import json; a=json.load(open('$W/r2.json'))['throughput_rps']; b=(json.load(open('$W/r1.json'))['throughput_rps']+json.load(open('$W/r1b.json'))['throughput_rps'])/2; print(round(a/b,2))")"
