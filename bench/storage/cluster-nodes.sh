#!/usr/bin/env bash
# bench/load against a distributed Cairn on this machine: NODES `cairn server` processes (default 4) of DRIVES
# drives each (default 4, one erasure set of 16 then) under /dev/shm, each node one worker; the load goes
# through node 1 (any node answers for any object). Needs the build (npm run build). Usage, from the root:
#   bash bench/storage/cluster-nodes.sh [duration, 10s] [runs: put-4KiB,get-4KiB,put-64MiB,get-64MiB]
set -euo pipefail
dur=${1:-10s}
runs=${2:-put-4KiB,get-4KiB,put-64MiB,get-64MiB}
nodes=${NODES:-4}
drives=${DRIVES:-4}
base=$(mktemp -d /dev/shm/cairn-cluster-bench.XXXXXX)
export CAIRN_ROOT_USER=cairn-load CAIRN_ROOT_PASSWORD=cairn-load-secret-key CAIRN_LOG_LEVEL=warn
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait || true
  rm -rf "$base"
}
trap cleanup EXIT
# Free ports, one per node (a port taken meanwhile makes that node exit: run again).
ports=($(node -e "
const net = require('node:net');
const n = Number(process.argv[1]);
Promise.all(Array.from({ length: n }, () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => r(s)); })))
  .then((ss) => { console.log(ss.map((s) => s.address().port).join(' ')); ss.forEach((s) => s.close()); });
" "$nodes"))
endpoints=()
for i in $(seq 1 "$nodes"); do
  for d in $(seq 1 "$drives"); do endpoints+=("http://127.0.0.1:${ports[$((i - 1))]}$base/n$i/d$d"); done
done
for i in $(seq 1 "$nodes"); do
  node server/bin/cairn.js server --address "127.0.0.1:${ports[$((i - 1))]}" "${endpoints[@]}" > "$base/n$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 "$nodes"); do
  until curl -sf "http://127.0.0.1:${ports[$((i - 1))]}/minio/health/ready" > /dev/null; do sleep 0.3; done
done
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
  run "http://127.0.0.1:${ports[0]}" "${args[@]}"
done
