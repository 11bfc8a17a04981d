#!/usr/bin/env bash
# A whole listing across a distributed Cairn on this machine (issue 18's target: 1,000,000 keys at 50,000 keys/s):
# NODES `cairn server` processes (default 4) of DRIVES drives each (default 4: one erasure set of 16) under
# /dev/shm (bench/cluster-lib.sh, one worker per node); bench/storage/list-walk.ts fills KEYS keys of 1 byte
# through node 1, then lists them all through node 1, page by page, PASSES times, with the CPU of all four nodes.
# Each key is a folder and a file on every drive of its set: KEYS x 2 x 16 inodes, which /dev/shm's inode limit
# (3.1M here) caps near 90,000 keys for one set of 16. Needs the build (npm run build). Usage, from the root:
#   bash bench/storage/cluster-list.sh [KEYS, 50000] [PASSES, 3]
set -euo pipefail
keys=${1:-50000}
passes=${2:-3}
source bench/cluster-lib.sh
cluster_setup cairn-cluster-list
export CAIRN_ROOT_USER=cairn-list CAIRN_ROOT_PASSWORD=cairn-list-secret-key CAIRN_LOG_LEVEL=warn
for i in $(seq 1 "$nodes"); do cairn_start "$i"; done
for i in $(seq 1 "$nodes"); do cairn_ready "$i" /minio/health/cluster; done
pids=$(IFS=,; echo "${cairn_pids[*]}")
echo "== $nodes nodes x $drives drives, $keys keys through node 1, $(uptime | sed 's/.*load/load/')"
node --import tsx bench/storage/list-walk.ts --endpoint "http://127.0.0.1:${ports[0]}" --access-key cairn-list \
  --secret-key cairn-list-secret-key --keys "$keys" --passes "$passes" --pids "$pids"
echo "== after: $(uptime | sed 's/.*load/load/')"
