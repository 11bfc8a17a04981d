#!/usr/bin/env bash
# Cairn beside MinIO as distributed deployments on this machine, under warp (issue 18's targets): NODES processes
# of each (default 4) with DRIVES drives each (default 4: one erasure set of 16, EC 8+8 for both) under /dev/shm,
# every node given the same explicit list of endpoints; warp goes through node 1 of each (any node answers for
# any object). bench/warp/main.ts runs the workloads (GET/PUT 64 MiB and 4 KiB, the order of the two servers
# alternating by round) and prints Cairn / MinIO with the CPU of all of each deployment's processes. Needs the
# build (npm run build), a warp and a MinIO binary (not kept here: see README.md). Usage, from the root:
#   bash bench/warp/cluster.sh WARP MINIO [main.ts options: --duration 10s --rounds 1 --workloads 1,2,3,4]
# Parity: Cairn's is half the set (EC 8+8 on 16 drives), MinIO's default 4 (EC 12+4): MINIO_PARITY=8 gives MinIO
# the same layout as Cairn (its MINIO_STORAGE_CLASS_STANDARD=EC:8). MinIO refuses endpoints on 127.0.0.1 inside a container ("resolves to localhost in a containerized
# deployment"), so its nodes listen on this machine's first non-loopback address (HOST=... to choose another).
set -euo pipefail
warp=${1:?usage: cluster.sh WARP MINIO [main.ts options]}
minio=${2:?usage: cluster.sh WARP MINIO [main.ts options]}
shift 2
nodes=${NODES:-4}
drives=${DRIVES:-4}
host=${HOST:-$(hostname -I | tr ' ' '\n' | grep -v '^127\.' | head -n 1)}
[ -n "$host" ] || { echo "no non-loopback address for MinIO: give HOST=..." >&2; exit 1; }
base=$(mktemp -d /dev/shm/cairn-warp-cluster.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait || true
  rm -rf "$base"
}
trap cleanup EXIT
# Free ports: NODES for Cairn, NODES for MinIO (a port taken meanwhile makes that node exit: run again).
ports=($(node -e "
const net = require('node:net');
const n = Number(process.argv[1]);
Promise.all(Array.from({ length: n }, () => new Promise((r) => { const s = net.createServer().listen(0, '0.0.0.0', () => r(s)); })))
  .then((ss) => { console.log(ss.map((s) => s.address().port).join(' ')); ss.forEach((s) => s.close()); });
" $((2 * nodes))))
cairn_eps=() minio_eps=()
for i in $(seq 1 "$nodes"); do
  for d in $(seq 1 "$drives"); do
    cairn_eps+=("http://127.0.0.1:${ports[$((i - 1))]}$base/cairn/n$i/d$d")
    minio_eps+=("http://$host:${ports[$((nodes + i - 1))]}$base/minio/n$i/d$d")
  done
done
cairn_pids=() minio_pids=()
for i in $(seq 1 "$nodes"); do
  CAIRN_ROOT_USER=cairn-warp CAIRN_ROOT_PASSWORD=cairn-warp-secret-key CAIRN_LOG_LEVEL=warn \
    node server/bin/cairn.js server --address "127.0.0.1:${ports[$((i - 1))]}" "${cairn_eps[@]}" \
    > "$base/cairn$i.log" 2>&1 &
  pids+=($!) cairn_pids+=($!)
  MINIO_ROOT_USER=minio-warp MINIO_ROOT_PASSWORD=minio-warp-secret-key MINIO_BROWSER=off MINIO_CI_CD=1 \
    env ${MINIO_PARITY:+MINIO_STORAGE_CLASS_STANDARD=EC:$MINIO_PARITY} "$minio" server --quiet \
    --address "$host:${ports[$((nodes + i - 1))]}" "${minio_eps[@]}" \
    > "$base/minio$i.log" 2>&1 &
  pids+=($!) minio_pids+=($!)
done
ready() { # url: until its cluster health answers (a write quorum of the deployment is up)
  for _ in $(seq 1 300); do
    curl -sf "$1/minio/health/cluster" > /dev/null && return 0
    sleep 1
  done
  echo "$1 not ready after 300 s; logs in $base" >&2
  trap - EXIT
  exit 1
}
for i in $(seq 1 "$nodes"); do
  ready "http://127.0.0.1:${ports[$((i - 1))]}"
  ready "http://$host:${ports[$((nodes + i - 1))]}"
done
join() { local IFS=,; echo "$*"; }
echo "== $nodes nodes x $drives drives each, Cairn on 127.0.0.1, MinIO on $host; warp through node 1; load: $(cut -d' ' -f1-3 /proc/loadavg)"
node --import tsx bench/warp/main.ts --warp "$warp" \
  --cairn "http://127.0.0.1:${ports[0]}" --cairn-pid "$(join "${cairn_pids[@]}")" \
  --minio "http://$host:${ports[$nodes]}" --minio-pid "$(join "${minio_pids[@]}")" "$@"
