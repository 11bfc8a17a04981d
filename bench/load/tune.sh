#!/usr/bin/env bash
# Sweeps Cairn's read/write tuning knobs with the standard suite (a fresh server per setting) and prints,
# per setting and phase, throughput and throughput per server CPU-second (the figure that holds when
# other work shares the machine). How the defaults in `cairn server --help` were chosen.
#   bash bench/load/tune.sh [--duration 10s] [--from-source]
# Settings swept (environment of the server): CAIRN_READ_BATCH_BLOCKS, CAIRN_READ_AHEAD_BATCHES,
# UV_THREADPOOL_SIZE; edit SETTINGS below to try others.
set -euo pipefail
cd "$(dirname "$0")/../.."
SETTINGS=(
  "CAIRN_READ_BATCH_BLOCKS=1 CAIRN_READ_AHEAD_BATCHES=1"
  "CAIRN_READ_BATCH_BLOCKS=2 CAIRN_READ_AHEAD_BATCHES=1"
  "CAIRN_READ_BATCH_BLOCKS=4 CAIRN_READ_AHEAD_BATCHES=0"
  "CAIRN_READ_BATCH_BLOCKS=4 CAIRN_READ_AHEAD_BATCHES=1"
  "CAIRN_READ_BATCH_BLOCKS=4 CAIRN_READ_AHEAD_BATCHES=2"
  "CAIRN_READ_BATCH_BLOCKS=8 CAIRN_READ_AHEAD_BATCHES=1"
  "UV_THREADPOOL_SIZE=2"
  "UV_THREADPOOL_SIZE=4"
  "UV_THREADPOOL_SIZE=8"
)
PHASES=${PHASES:-put-64MiB,get-64MiB,get-range-8MiB}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-52s %-15s %9s %9s %14s\n' setting run 'MiB/s' 'srv cpu' 'MiB/srv-cpu-s'
i=0
for s in "${SETTINGS[@]}"; do
  i=$((i + 1))
  env $s node --import tsx bench/load/suite.ts --phases "$PHASES" --json "$out/$i.json" "$@" >/dev/null 2>&1 || { echo "$s: suite failed" >&2; continue; }
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const run of r.runs ?? r) {
      const op = run.ops.get ?? run.ops.put; const mib = op.mibPerSec, cores = run.serverCores ?? NaN;
      console.log(`${process.argv[2].padEnd(52)} ${run.name.padEnd(15)} ${mib.toFixed(1).padStart(9)} ${cores.toFixed(2).padStart(9)} ${(mib / cores).toFixed(1).padStart(14)}`);
    }' "$out/$i.json" "$s"
done
