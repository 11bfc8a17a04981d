#!/usr/bin/env bash
# bench/load against a distributed Cairn on this machine: NODES `cairn server` processes (default 4) of DRIVES
# drives each (default 4, one erasure set of 16 then) under /dev/shm (bench/cluster-lib.sh), each node one worker
# (CAIRN_WORKERS=N: N each); the load goes through node 1 (any node answers for any object). Needs the build
# (npm run build). After each run: the CPU of all the nodes (utime + stime, /proc) per 1000 operations, and the load.
# Usage, from the root:
#   bash bench/storage/cluster-nodes.sh [duration, 10s] [runs: put-4KiB,get-4KiB,put-64MiB,get-64MiB]
set -euo pipefail
dur=${1:-10s}
runs=${2:-put-4KiB,get-4KiB,put-64MiB,get-64MiB}
source bench/cluster-lib.sh
cluster_setup cairn-cluster-bench
export CAIRN_ROOT_USER=cairn-load CAIRN_ROOT_PASSWORD=cairn-load-secret-key CAIRN_LOG_LEVEL=warn
for i in $(seq 1 "$nodes"); do cairn_start "$i"; done
for i in $(seq 1 "$nodes"); do cairn_ready "$i"; done
echo "== $nodes nodes x $drives drives, load through node 1"
run() { # endpoint, then bench/load arguments
  node --import tsx bench/load/main.ts --endpoint "$1" --access-key cairn-load \
    --secret-key cairn-load-secret-key --duration "$dur" "${@:2}" | tail -n 3
}
for r in ${runs//,/ }; do
  mode=${r%%-*} size=${r#*-}
  if [ "$size" = 4KiB ]; then args=(--mode "$mode" --obj-size 4KiB --concurrency "${SMALL_CONCURRENCY:-32}" --objects 2000)
  else args=(--mode "$mode" --obj-size "$size" --concurrency "${BIG_CONCURRENCY:-8}" --objects 8); fi
  echo "-- $r"
  t0=$(ticks "${cairn_pids[@]}")
  out=$(run "http://127.0.0.1:${ports[0]}" "${args[@]}")
  t1=$(ticks "${cairn_pids[@]}")
  echo "$out"
  # The table's last row: ops/s is its 5th column; the run lasted dur seconds.
  ops=$(echo "$out" | awk -v d="${dur%s}" '/^[^-]/ && NF > 5 { r = $5 } END { printf "%d", r * d }')
  awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$ops" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    'BEGIN { printf "nodes CPU %.1f s for %d ops: %.2f CPU-s per 1000 ops (load %s)\n", t / hz, n, n ? t / hz / n * 1000 : 0, l }'
done
