#!/bin/bash
# Ingest-to-visible latency and resident memory over repeated ingests, for a baseline build and a new build in
# the same script: each serves its own scratch copy of DB; then BATCHES x (ingest_probe --rounds 10: one message
# per round, FindExperts until visible); VmRSS after the first ingest and after every batch.
#   bench/ingest_memory.sh OLD_DIR NEW_DIR DB PORT [BATCHES_OLD] [BATCHES_NEW]
# OLD_DIR/NEW_DIR hold `whoknows` and `ingest_probe` (a build dir's service/ and bench/ binaries copied flat).
# Defaults: 2 batches (20 ingests) for the baseline, 10 (100 ingests) for the new build. Scratch in ${TMPDIR:-/tmp}.
# WARMUP=QUERIES_FILE: first 400 FindExperts at 4 in flight (LOAD=path of whoknows-load), so that RSS after the first
# ingest already includes what queries on every server thread allocate. OLD_FLAGS / NEW_FLAGS: extra `serve` flags.
# RSS is read between refreshes: once every ingest sent is in the snapshot, the delta is merged and no background
# ranker training runs.
OLD=$1 NEW=$2 DB=$3 PORT=$4 NB_OLD=${5:-2} NB_NEW=${6:-10}
W=${TMPDIR:-/tmp}/ingest-memory
for which in old new; do
  if [ $which = old ]; then BIN=$OLD NB=$NB_OLD; else BIN=$NEW NB=$NB_NEW; fi
  rm -rf $W; mkdir -p $W; cp -a "$DB" $W/db
  start=$(date +%s.%N)
  if [ $which = old ]; then FLAGS=${OLD_FLAGS:-}; else FLAGS=${NEW_FLAGS:-}; fi
  $BIN/whoknows serve --db $W/db --listen 127.0.0.1:$PORT $FLAGS > $W/out 2> $W/err &
  S=$!
  for _ in $(seq 1 3000); do grep -q listening $W/out && break; sleep 0.2; done
  rss() { awk '/VmRSS/{print $2}' /proc/$S/status; }
  hwm() { awk '/VmHWM/{print $2}' /proc/$S/status; }
  echo "$which: ready after $(echo "$(date +%s.%N) - $start" | bc) s, VmRSS $(rss) kB; $(uptime | sed 's/.*load/load/')"
  if [ -n "$WARMUP" ]; then
    $LOAD --target 127.0.0.1:$PORT --method experts --queries "$WARMUP" --concurrency 4 --requests 400 --json > $W/warm.json
    echo "$which: after 400 warm-up queries: VmRSS $(rss) kB"
  fi
  $BIN/ingest_probe --target 127.0.0.1:$PORT --rounds 1 --give-up 120 --json > $W/probe0.json
  idle() {  # builds that log refreshes: wait until every ingest sent so far is in the snapshot (a timed-out Ingest
            # call still runs to its end on the server), so RSS is read between refreshes, not during one; a build
            # with a background delta merge: also until the delta is merged ("0 left in the delta")
    if grep -q 'snapshot:' $W/err; then
      for _ in $(seq 1 600); do [ $(grep -c 'snapshot: .*refresh' $W/err) -ge $1 ] && break; sleep 1; done
      if grep -q 'delta refresh' $W/err; then
        for _ in $(seq 1 600); do grep 'snapshot:' $W/err | tail -1 | grep -q ' 0 left in the delta' && break; sleep 1; done
      fi
    fi
    # and until a background ranker training (started at start-up and by ingests while the history needs
    # one) has ended: it keeps the snapshot it trains on alive besides the current one
    for _ in $(seq 1 1800); do
      [ $(grep -c 'ranker: training started' $W/err) -le $(grep -c 'ranker: training \(finished\|failed\|cancelled\)' $W/err) ] && break
      sleep 1
    done
  }
  idle 1
  first=$(rss)
  echo "$which: after ingest 1: VmRSS $first kB; $(cat $W/probe0.json)"
  sleep 1  # ingest_probe nonces are per second
  for i in $(seq 1 $NB); do
    $BIN/ingest_probe --target 127.0.0.1:$PORT --rounds 10 --give-up 120 --json > $W/probe.json
    idle $((1 + 10 * i))
    now=$(rss)
    echo "$which: after $((1 + 10 * i)) ingests: VmRSS $now kB ($(echo "scale=3; $now / $first" | bc)x of after 1), VmHWM $(hwm) kB; $(cat $W/probe.json)"
  done
  grep 'snapshot:' $W/err | tail -4 | sed "s/^/$which: /"
  grep "ranker:" $W/err | tail -3 | sed "s/^/$which: /"
  grep 'snapshot:' $W/err > ${TMPDIR:-/tmp}/ingest-memory-$which.log  # every refresh's phases, for the figures
  echo "$which: $(uptime | sed 's/.*load/load/')"
  kill $S; wait $S
done
rm -rf $W
