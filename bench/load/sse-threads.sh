#!/usr/bin/env bash
# Plain against SSE-S3 GET 64 MiB with the server's CPU split by thread (issue 16): two one-worker Cairns
# (CAIRN_WORKERS=1: one process) on 4 drives each under /dev/shm, the plain one and one with every object
# SSE-S3, read in turns by main.ts (GET c4, 8 objects of 64 MiB) for ROUNDS rounds, the order swapped each
# round. Each run's server CPU comes from /proc/PID/task/*/stat summed by thread name: the main thread (JS,
# sockets), the libuv pool (shard reads, HighwayHash, and for SSE the AEAD open), V8's helper threads (GC).
#   bash bench/load/sse-threads.sh [ROUNDS=3] [DURATION=8s]      (after npm run build)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
duration=${2:-8s}
dir=$(mktemp -d /dev/shm/cairn-sse-threads-XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; sleep 1; rm -rf "$dir"' EXIT
free_port() { node -e 's=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})'; }
start() { # name extra-env...
  mkdir -p "$dir/$1"/d{1,2,3,4}
  local port
  port=$(free_port)
  env CAIRN_ROOT_USER=sse-threads CAIRN_ROOT_PASSWORD=sse-threads-secret CAIRN_WORKERS=1 "${@:2}" \
    node server/bin/cairn.js server --address "127.0.0.1:$port" "$dir/$1"/d{1,2,3,4} >"$dir/$1.log" 2>&1 &
  pids+=($!)
  echo "$! $port" >"$dir/$1.server"
  until curl -sf "http://127.0.0.1:$port/health/live" >/dev/null; do sleep 0.5; done
}
# Clock ticks of every thread of PID, by thread name: "MainThread 123 libuv-worker 456 ...".
ticks() {
  for f in /proc/"$1"/task/*/stat; do cat "$f" 2>/dev/null || true; done |
    sed -E 's/^[0-9]+ \((.*)\) [A-Z] (.*)$/\1|\2/' |
    awk -F'|' '{ split($2, a, " "); t[$1] += a[11] + a[12] } END { for (n in t) printf "%s %d\n", n, t[n] }'
}
get() { # name port json-out extra...
  node --import tsx bench/load/main.ts --mode get --endpoint "http://127.0.0.1:$2" --access-key sse-threads \
    --secret-key sse-threads-secret --obj-size 64MiB --objects 8 --concurrency 4 --json "$3" "${@:4}" >/dev/null 2>&1
}
start plain
start sse CAIRN_KMS_SECRET_KEY="bench:$(openssl rand -base64 32)" CAIRN_KMS_AUTO_ENCRYPTION=on
for m in plain sse; do read -r _ port <"$dir/$m.server"; get "$m" "$port" "$dir/prep.json" --duration 1s; done
hz=$(getconf CLK_TCK)
printf '%-6s %-5s %6s %7s %8s %8s %8s %8s\n' round kind load MiB/s main pool v8 total
for r in $(seq 1 "$rounds"); do
  order="plain sse"
  [ $((r % 2)) = 0 ] && order="sse plain"
  for m in $order; do
    read -r pid port <"$dir/$m.server"
    load=$(cut -d' ' -f1 /proc/loadavg)
    ticks "$pid" >"$dir/before"
    get "$m" "$port" "$dir/run.json" --no-prepare --duration "$duration"
    ticks "$pid" >"$dir/after"
    node -e '
      const fs = require("fs");
      const [before, after, json, hz, round, kind, load] = process.argv.slice(1);
      const read = (f) => Object.fromEntries(fs.readFileSync(f, "utf8").trim().split("\n").map((l) => {
        const i = l.lastIndexOf(" "); return [l.slice(0, i), Number(l.slice(i + 1))]; }));
      const b = read(before), a = read(after);
      const run = JSON.parse(fs.readFileSync(json, "utf8")).runs[0];
      const gib = run.ops.get.bytes / 1024 ** 3;
      const sum = (test) => Object.keys(a).filter(test).reduce((s, n) => s + a[n] - (b[n] ?? 0), 0) / hz / gib;
      const main = sum((n) => n === "MainThread"), pool = sum((n) => n.startsWith("libuv"));
      const v8 = sum((n) => n.startsWith("V8")), total = sum(() => true);
      console.log([round, kind, load, run.ops.get.mibPerSec.toFixed(0), main, pool, v8, total]
        .map((x, i) => (i < 4 ? String(x) : x.toFixed(2)).padStart(i < 2 ? 0 : 8)).join(" "));
    ' "$dir/before" "$dir/after" "$dir/run.json" "$hz" "$r" "$m" "$load"
  done
done
echo "CPU-s per GiB sent, by thread (main: JS and sockets; pool: libuv, where reads, hashes and the AEAD run)"
