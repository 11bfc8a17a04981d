#!/usr/bin/env bash
# bench/load against a Cairn whose EC 2+2 set has two local drives and two remote ones (a second Cairn process
# serving them over the storage RPC, CAIRN_TEST_RPC_DRIVES / CAIRN_TEST_REMOTE_DRIVES), then against one with
# four local drives: 4 KiB and 64 MiB PUT and GET, each process one worker, drives under /dev/shm. Needs the
# build (npm run build). Usage, from the repository root:
#   bash bench/storage/remote-drives.sh [duration, 10s] [runs, default all: put-4KiB,get-4KiB,put-64MiB,get-64MiB]
set -euo pipefail
dur=${1:-10s}
runs=${2:-put-4KiB,get-4KiB,put-64MiB,get-64MiB}
base=$(mktemp -d /dev/shm/cairn-rpc-bench.XXXXXX)
export CAIRN_ROOT_USER=cairn-load CAIRN_ROOT_PASSWORD=cairn-load-secret-key CAIRN_LOG_LEVEL=info
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait || true
  rm -rf "$base"
}
trap cleanup EXIT
# The URL a server logs once it listens.
url_of() {
  until grep -q '"url":"' "$1" 2>/dev/null; do sleep 0.2; done
  grep -o '"url":"[^"]*"' "$1" | head -1 | cut -d'"' -f4
}
start() { # log file, then the server's arguments and environment
  local log=$1
  shift
  env "$@" > "$log" 2>&1 &
  pids+=($!)
}
start "$base/b.log" CAIRN_TEST_RPC_DRIVES="$base/s1,$base/s2" \
  node server/bin/cairn.js server --workers 1 --address 127.0.0.1:0 "$base/b0"
b=$(url_of "$base/b.log")
start "$base/a.log" CAIRN_TEST_REMOTE_DRIVES="$b$base/s1,$b$base/s2" \
  node server/bin/cairn.js server --workers 1 --address 127.0.0.1:0 "$base/a1" "$base/a2"
a=$(url_of "$base/a.log")
start "$base/l.log" node server/bin/cairn.js server --workers 1 --address 127.0.0.1:0 \
  "$base/l1" "$base/l2" "$base/l3" "$base/l4"
l=$(url_of "$base/l.log")
run() {
  node --import tsx bench/load/main.ts --endpoint "$1" --access-key cairn-load \
    --secret-key cairn-load-secret-key --duration "$dur" "${@:2}" | tail -n 3
}
for ep in "$a" "$l"; do
  if [ "$ep" = "$a" ]; then echo "== 2 local + 2 remote drives"; else echo "== 4 local drives"; fi
  for r in ${runs//,/ }; do
    mode=${r%%-*} size=${r#*-}
    if [ "$size" = 4KiB ]; then run "$ep" --mode "$mode" --obj-size 4KiB --concurrency 32 --objects 2000
    else run "$ep" --mode "$mode" --obj-size "$size" --concurrency "${BIG_CONCURRENCY:-8}" --objects 8; fi
  done
done
