#!/bin/bash
# Resident memory over repeated ingests: serve a scratch copy of DB, 10 x (5 ingests via ingest_probe), VmRSS after
# each batch; once with the default allocator settings and once with MALLOC_ARENA_MAX=2.
#   [B=BUILD_DIR] [MODES="default arena2"] bench/memgrow.sh DB PORT
B=${B:-build/release}
DB=$1 PORT=$2
for mode in ${MODES:-default arena2}; do
  rm -rf ${TMPDIR:-/tmp}/memgrow-db; cp -r "$DB" ${TMPDIR:-/tmp}/memgrow-db
  if [ $mode = arena2 ]; then export MALLOC_ARENA_MAX=2; else unset MALLOC_ARENA_MAX; fi
  $B/service/whoknows serve --db ${TMPDIR:-/tmp}/memgrow-db --listen 127.0.0.1:$PORT > ${TMPDIR:-/tmp}/memgrow.out 2> ${TMPDIR:-/tmp}/memgrow.err &
  S=$!
  for _ in $(seq 1 400); do grep -q listening ${TMPDIR:-/tmp}/memgrow.out && break; sleep 0.1; done
  unset MALLOC_ARENA_MAX
  rss() { awk '/VmRSS/{print $2}' /proc/$S/status; }
  line="$mode: ready $(rss)"
  for i in $(seq 1 10); do
    $B/bench/ingest_probe --target 127.0.0.1:$PORT --rounds 5 --json > /dev/null
    line="$line $(rss)"
  done
  echo "$line (kB after every 5 ingests) $(uptime | sed 's/.*load/load/')"
  kill $S; wait $S
done
