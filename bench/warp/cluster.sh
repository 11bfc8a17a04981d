#!/usr/bin/env bash
# Cairn beside MinIO as distributed deployments on this machine, under warp (issue 18's targets): NODES processes
# of each (default 4) with DRIVES drives each (default 4: one erasure set of 16, EC 8+8 for both) under /dev/shm,
# every node given the same explicit list of endpoints (Cairn's start-up: bench/cluster-lib.sh); warp goes through
# node 1 of each (any node answers for any object). bench/warp/main.ts runs the workloads (GET/PUT 64 MiB and
# 4 KiB, the order of the two servers alternating by round) and prints Cairn / MinIO with the CPU of all of each
# deployment's processes. Needs the build (npm run build), a warp and a MinIO binary (not kept here: see
# README.md). Usage, from the root:
#   bash bench/warp/cluster.sh WARP MINIO [main.ts options: --duration 10s --rounds 1 --workloads 1,2,3,4]
# Parity: Cairn's is half the set (EC 8+8 on 16 drives), MinIO's default 4 (EC 12+4): MINIO_PARITY=8 gives MinIO
# the same layout as Cairn (its MINIO_STORAGE_CLASS_STANDARD=EC:8). MinIO refuses endpoints on 127.0.0.1 inside a
# container ("resolves to localhost in a containerized deployment"), so its nodes listen on this machine's first
# non-loopback address (HOST=... to choose another).
set -euo pipefail
warp=${1:?usage: cluster.sh WARP MINIO [main.ts options]}
minio=${2:?usage: cluster.sh WARP MINIO [main.ts options]}
shift 2
host=${HOST:-$(hostname -I | tr ' ' '\n' | grep -v '^127\.' | head -n 1)}
[ -n "$host" ] || { echo "no non-loopback address for MinIO: give HOST=..." >&2; exit 1; }
source bench/cluster-lib.sh
# Ports free on every address: NODES for Cairn, NODES for MinIO.
cluster_setup cairn-warp-cluster "${NODES:-4}" 0.0.0.0
minio_eps=()
for i in $(seq 1 "$nodes"); do
  for d in $(seq 1 "$drives"); do minio_eps+=("http://$host:${extra_ports[$((i - 1))]}$base/minio/n$i/d$d"); done
done
for i in $(seq 1 "$nodes"); do
  cairn_start "$i" CAIRN_ROOT_USER=cairn-warp CAIRN_ROOT_PASSWORD=cairn-warp-secret-key CAIRN_LOG_LEVEL=warn
  MINIO_ROOT_USER=minio-warp MINIO_ROOT_PASSWORD=minio-warp-secret-key MINIO_BROWSER=off MINIO_CI_CD=1 \
    env ${MINIO_PARITY:+MINIO_STORAGE_CLASS_STANDARD=EC:$MINIO_PARITY} "$minio" server --quiet \
    --address "$host:${extra_ports[$((i - 1))]}" "${minio_eps[@]}" \
    > "$base/minio$i.log" 2>&1 &
  other_pids+=($!)
done
# Until each node's cluster health answers (a write quorum of the deployment is up).
for i in $(seq 1 "$nodes"); do
  cairn_ready "$i" /minio/health/cluster
  wait_http "http://$host:${extra_ports[$((i - 1))]}/minio/health/cluster"
done
join() { local IFS=,; echo "$*"; }
echo "== $nodes nodes x $drives drives each, Cairn on 127.0.0.1, MinIO on $host; warp through node 1; load: $(cut -d' ' -f1-3 /proc/loadavg)"
node --import tsx bench/warp/main.ts --warp "$warp" \
  --cairn "http://127.0.0.1:${ports[0]}" --cairn-pid "$(join "${cairn_pids[@]}")" \
  --minio "http://$host:${extra_ports[0]}" --minio-pid "$(join "${other_pids[@]}")" "$@"
