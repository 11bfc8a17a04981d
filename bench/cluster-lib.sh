# The start-up of a distributed Cairn on this machine, shared by the bench scripts that need one
# (bench/warp/cluster.sh, bench/storage/cluster-nodes.sh, bench/storage/cluster-read-batch.sh): sourced, from the
# repository root, after `set -euo pipefail`. Needs the build (npm run build).
#   cluster_setup NAME [EXTRA_PORTS] [BIND]
#     nodes, drives: NODES and DRIVES (default 4 each); base: a new folder /dev/shm/NAME.XXXXXX; ports: one free
#     port per node (bound on BIND, default 127.0.0.1, to find them), extra_ports: EXTRA_PORTS more (MinIO's);
#     endpoints: the list every node is given (node i's drives $base/cairn/n$i/d1...). On exit every process in
#     cairn_pids and other_pids is killed and $base removed.
#   cairn_start I [VAR=value...]   starts node I (from 1) with those variables; its log: $base/nI.log (appended)
#   cairn_ready I [PATH]           waits until node I answers PATH (default /minio/health/ready), 300 s at most
#   wait_http URL                  the same for any URL (MinIO's nodes)
#   s3 CURL_ARGS...                curl signed as the root user (CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD)
#   ticks PID...                   CPU (utime + stime) of those processes and their descendants, in clock ticks

cluster_setup() {
  local name=$1 extra=${2:-0} bind=${3:-127.0.0.1} i d
  nodes=${NODES:-4}
  drives=${DRIVES:-4}
  base=$(mktemp -d "/dev/shm/$name.XXXXXX")
  cairn_pids=()
  other_pids=()
  trap cluster_cleanup EXIT
  # Killed or interrupted: the clean-up runs too (bash runs the EXIT trap on exit, not on a deadly signal).
  trap 'exit 143' TERM
  trap 'exit 130' INT
  # Free ports (a port taken meanwhile makes that node exit: run again).
  local all
  all=($(node -e "
const net = require('node:net');
const [n, host] = [Number(process.argv[1]), process.argv[2]];
Promise.all(Array.from({ length: n }, () => new Promise((r) => { const s = net.createServer().listen(0, host, () => r(s)); })))
  .then((ss) => { console.log(ss.map((s) => s.address().port).join(' ')); ss.forEach((s) => s.close()); });
" $((nodes + extra)) "$bind"))
  ports=("${all[@]:0:nodes}")
  extra_ports=("${all[@]:nodes}")
  endpoints=()
  for i in $(seq 1 "$nodes"); do
    for d in $(seq 1 "$drives"); do endpoints+=("http://127.0.0.1:${ports[$((i - 1))]}$base/cairn/n$i/d$d"); done
  done
}

cluster_cleanup() {
  local p
  for p in "${cairn_pids[@]}" "${other_pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait || true
  [ -n "${keep_base:-}" ] || rm -rf "$base"
}

cairn_start() {
  local i=$1
  shift
  env "$@" node server/bin/cairn.js server --address "127.0.0.1:${ports[$((i - 1))]}" "${endpoints[@]}" \
    >> "$base/n$i.log" 2>&1 &
  cairn_pids[$((i - 1))]=$!
}

wait_http() {
  local _
  for _ in $(seq 1 600); do
    curl -sf "$1" > /dev/null && return 0
    sleep 0.5
  done
  echo "$1 not ready after 300 s; logs in $base (kept)" >&2
  keep_base=1
  exit 1
}

cairn_ready() {
  wait_http "http://127.0.0.1:${ports[$(($1 - 1))]}${2:-/minio/health/ready}"
}

# curl signs no payload hash of an upload itself: UNSIGNED-PAYLOAD, as S3 allows.
s3() {
  curl -sS --fail-with-body -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$CAIRN_ROOT_USER:$CAIRN_ROOT_PASSWORD" "$@"
}

ticks() {
  local total=0 p kids
  for p in "$@"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    kids=$(cat /proc/"$p"/task/*/children 2> /dev/null || true)
    [ -z "$kids" ] || total=$((total + $(ticks $kids)))
  done
  echo "$total"
}
