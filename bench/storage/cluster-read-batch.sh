#!/usr/bin/env bash
# GET of 64 MiB objects on a distributed Cairn, with two values of CAIRN_READ_BATCH_BLOCKS (blocks per shard read;
# on several nodes, one HTTP request per remote shard per batch) on the node that assembles the objects: NODES
# `cairn server` processes (default 4) of DRIVES drives each (default 4, one erasure set of 16, EC 8+8) under
# /dev/shm (bench/cluster-lib.sh). OBJECTS objects are PUT once through node 1; then node 1 is started again with
# A, then B, PAIRS times (the order of the two alternating by pair), and each phase GETs every object ROUNDS times
# through node 1 with curl (4 at a time). Printed per phase: MiB/s, the CPU-seconds per GiB of all nodes together and of node 1, the
# load average. Needs the build (npm run build) and curl with --aws-sigv4. Usage, from the root:
#   bash bench/storage/cluster-read-batch.sh [A, 4] [B, 16] [PAIRS, 3] [ROUNDS, 4]
set -euo pipefail
a=${1:-4}
b=${2:-16}
pairs=${3:-3}
rounds=${4:-4}
objects=${OBJECTS:-8}
source bench/cluster-lib.sh
cluster_setup cairn-read-batch
export CAIRN_ROOT_USER=cairn-batch CAIRN_ROOT_PASSWORD=cairn-batch-secret-key CAIRN_LOG_LEVEL=warn
for i in $(seq 1 "$nodes"); do cairn_start "$i" CAIRN_READ_BATCH_BLOCKS="$a"; done
for i in $(seq 1 "$nodes"); do cairn_ready "$i"; done
url="http://127.0.0.1:${ports[0]}"
s3 -X PUT "$url/batch" > /dev/null
head -c $((64 * 1024 * 1024)) /dev/urandom > "$base/object"
for o in $(seq 1 "$objects"); do s3 -T "$base/object" "$url/batch/o$o" > /dev/null; done
hz=$(getconf CLK_TCK)
echo "== $nodes nodes x $drives drives, $objects objects of 64 MiB, GETs through node 1 ($rounds rounds, 4 at a time)"
printf '%-8s %-6s %9s %16s %16s %s\n' pair blocks MiB/s 'CPU-s/GiB all' 'CPU-s/GiB node1' load
for p in $(seq 1 "$pairs"); do
  order=("$a" "$b")
  [ $((p % 2)) -eq 0 ] && order=("$b" "$a")
  for v in "${order[@]}"; do
    kill "${cairn_pids[0]}"
    wait "${cairn_pids[0]}" 2> /dev/null || true
    cairn_start 1 CAIRN_READ_BATCH_BLOCKS="$v"
    cairn_ready 1
    s3 "$url/batch/o1" -o /dev/null # warm: connections to the other nodes, code paths
    before=$(ticks "${cairn_pids[@]}") before1=$(ticks "${cairn_pids[0]}") t0=$(date +%s.%N)
    for _ in $(seq 1 "$rounds"); do
      seq 1 "$objects" | xargs -P 4 -I{} curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$CAIRN_ROOT_USER:$CAIRN_ROOT_PASSWORD" "$url/batch/o{}" -o /dev/null
    done
    t1=$(date +%s.%N) after=$(ticks "${cairn_pids[@]}") after1=$(ticks "${cairn_pids[0]}")
    awk -v p="$p" -v v="$v" -v n=$((objects * rounds)) -v t0="$t0" -v t1="$t1" -v c=$((after - before)) \
      -v c1=$((after1 - before1)) -v hz="$hz" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
        gib = n * 64 / 1024
        printf "%-8s %-6s %9.1f %16.2f %16.2f %s\n", p, v, n * 64 / (t1 - t0), c / hz / gib, c1 / hz / gib, load
      }'
  done
done
