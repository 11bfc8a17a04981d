#!/usr/bin/env bash
# Installs a Go toolchain from the Go module proxy, where Go publishes its releases as the module
# golang.org/toolchain (what `go` itself downloads when a module asks for a newer toolchain):
# `bash scripts/install-go.sh DIR [VERSION]` puts the newest release >= VERSION (default 1.25.0) for this
# machine into DIR and prints the folder holding its `go` binary.
set -euo pipefail
dir=${1:?usage: install-go.sh DIR [VERSION]}
want=${2:-1.25.0}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-amd64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-amd64 ;;
  *) echo "install-go.sh: no Go toolchain for $(uname -s)-$(uname -m); install Go $want yourself" >&2; exit 1 ;;
esac
if [ -x "$dir/go/bin/go" ]; then
  echo "$dir/go/bin"
  exit 0
fi
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
[ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
version=$(curl -fsSL "$proxy/golang.org/toolchain/@v/list" | sed -n "s/^v0\.0\.1-go\([0-9.]*\)\.$platform$/\1/p" |
  sort -V | tail -1)
[ -n "$version" ] || { echo "install-go.sh: the proxy lists no Go toolchain for $platform" >&2; exit 1; }
if [ "$(printf '%s\n%s\n' "$want" "$version" | sort -V | head -1)" != "$want" ]; then
  echo "install-go.sh: the newest Go on the proxy ($version) is older than $want" >&2
  exit 1
fi
rm -rf "$dir" && mkdir -p "$dir"
zip="$dir/toolchain.zip"
curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$version.$platform.zip"
# The module zip holds golang.org/toolchain@v0.0.1-go<version>.<platform>/{bin,pkg,src,...}.
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dir"
mv "$dir/golang.org/toolchain@v0.0.1-go$version.$platform" "$dir/go"
rm -rf "$zip" "$dir/golang.org"
chmod +x "$dir/go/bin/"* "$dir/go/pkg/tool/"*/* 2>/dev/null || true
"$dir/go/bin/go" version >&2
echo "$dir/go/bin"
