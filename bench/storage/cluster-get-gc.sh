#!/usr/bin/env bash
# GET of 64 MiB objects through node 1 of a distributed Cairn (NODES, default 4, of DRIVES drives each, one erasure
# set of 16, EC 8+8, under /dev/shm; bench/cluster-lib.sh), every node one worker: the CPU-seconds per GiB sent of
# each node and the full garbage collections (mark-compacts) node 1 ran while it served them. Node 1 assembles
# every object from the other nodes' shards (the storage RPC's shard reads), so what receiving costs shows there.
# ROUNDS rounds of OBJECTS GETs at once with curl. Needs the build (npm run build). Usage, from the root:
#   bash bench/storage/cluster-get-gc.sh [ROUNDS, 2] [OBJECTS, 4]
set -euo pipefail
rounds=${1:-2}
objects=${2:-4}
source bench/cluster-lib.sh
cluster_setup cairn-get-gc
export CAIRN_ROOT_USER=cairn-get-gc CAIRN_ROOT_PASSWORD=cairn-get-gc-secret CAIRN_LOG_LEVEL=warn CAIRN_WORKERS=1
# Node 1 logs its collections (--trace-gc cannot go through NODE_OPTIONS).
node --trace-gc server/bin/cairn.js server --address "127.0.0.1:${ports[0]}" "${endpoints[@]}" >> "$base/n1.log" 2>&1 &
cairn_pids[0]=$!
for i in $(seq 2 "$nodes"); do cairn_start "$i"; done
for i in $(seq 1 "$nodes"); do cairn_ready "$i"; done
url="http://127.0.0.1:${ports[0]}"
s3 -X PUT "$url/get-gc" > /dev/null
head -c $((64 << 20)) /dev/urandom > "$base/object"
for o in $(seq 1 "$objects"); do s3 -T "$base/object" "$url/get-gc/o$o" > /dev/null; done
before=()
for p in "${cairn_pids[@]}"; do before+=("$(ticks "$p")"); done
gc0=$(grep -c Mark-Compact "$base/n1.log" || true)
t0=$(date +%s.%N)
for _ in $(seq 1 "$rounds"); do
  gets=()
  for o in $(seq 1 "$objects"); do
    s3 "$url/get-gc/o$o" -o /dev/null &
    gets+=($!)
  done
  wait "${gets[@]}"
done
t1=$(date +%s.%N)
gc1=$(grep -c Mark-Compact "$base/n1.log" || true)
hz=$(getconf CLK_TCK)
gib=$(echo "$rounds * $objects / 16" | bc -l)
printf 'GETs: %d x 64 MiB in %.1f s (%.0f MiB/s); load %s\n' $((rounds * objects)) "$(echo "$t1 - $t0" | bc)" \
  "$(echo "$gib * 1024 / ($t1 - $t0)" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$nodes"); do
  p=${cairn_pids[$((i - 1))]}
  printf 'node %d: %.2f CPU-s/GiB\n' "$i" "$(echo "($(ticks "$p") - ${before[$((i - 1))]}) / $hz / $gib" | bc -l)"
done
echo "node 1 mark-compacts during the GETs: $((gc1 - gc0))"
