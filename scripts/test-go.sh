#!/usr/bin/env bash
# Runs the Go client suite (test/go: minio-go and aws-sdk-go-v2 against a Cairn it starts). Its modules come
# from the Go module proxy (pinned by test/go/go.sum). Without a Go toolchain of at least the version
# test/go/go.mod names, one is installed first from the same proxy (golang.org/toolchain) into .go/.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' test/go/go.mod)
new_enough() { # go binary -> is its version >= $want?
  local have
  have=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}
go=$(command -v go || true)
if [ -z "$go" ] || ! new_enough "$go"; then
  go="$PWD/$(bash scripts/install-go.sh .go "$want")/go"
fi
cd test/go
# GOTOOLCHAIN=local: build with the toolchain chosen above, never a silent download of another one.
GOTOOLCHAIN=local exec "$go" test -count=1 "$@" ./...
