#!/usr/bin/env bash
# Installs the PrestoDB server that the `presto` test group (test/analytics/test_presto.py) runs, once, into
# .venv-presto/ (git-ignored), and prints its folder. Maven fetches the server tarball from Maven Central into
# .venv-presto/m2 (its local repository: the 2 GB tarball is the cache, reused by later runs) with strict
# checksums, and the tarball's .sha1 is checked again here before unpacking. Only bin/, lib/ and the Hive
# connector are unpacked (about 460 MB of the tarball's 4 GB of plugins).
#
# Java 17: Presto 0.287 (the newest server on Maven Central) ships ASM 9.0, which cannot read Java 17 class
# files: the server fails at start generating its Thrift codecs ("Unsupported class file major version 61").
# The unpacked copy gets ASM 9.7.1 (also from Maven Central) in place of 9.0; the JVM flags it further needs
# (--add-opens) are in the test's jvm.config.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.287 asm=9.7.1
cache=$PWD/.venv-presto
home=$cache/presto-server-$version
m2=$cache/m2
# One installer at a time (CI installs it in the background while it builds: scripts/prefetch-test-deps.sh).
mkdir -p "$cache"
exec 8>"$cache/.install-lock"
flock 8
if [ ! -f "$home/.installed" ]; then
  echo '*' > "$cache/.gitignore"   # the cache ignores itself, as the venvs do
  get() {
    mvn -B -C -Dmaven.repo.local="$m2" dependency:get -Dtransitive=false -Dartifact="$1" > "$cache/mvn.log" 2>&1 \
      || { cat "$cache/mvn.log" >&2; exit 1; }
  }
  get "com.facebook.presto:presto-server:$version:tar.gz"
  for a in asm asm-tree asm-util asm-analysis; do get "org.ow2.asm:$a:$asm"; done
  tarball=$m2/com/facebook/presto/presto-server/$version/presto-server-$version.tar.gz
  echo "$(cat "$tarball.sha1")  $tarball" | sha1sum --quiet -c - >&2
  rm -rf "$home"
  tar -xzf "$tarball" -C "$cache" "presto-server-$version/bin" "presto-server-$version/lib" \
    "presto-server-$version/plugin/hive-hadoop2"
  for dir in "$home/lib" "$home/plugin/hive-hadoop2"; do
    for a in asm asm-tree asm-util asm-analysis; do
      [ -f "$dir/$a-9.0.jar" ] || { echo "expected $dir/$a-9.0.jar" >&2; exit 1; }
      rm "$dir/$a-9.0.jar"
      cp "$m2/org/ow2/asm/$a/$asm/$a-$asm.jar" "$dir/"
    done
  done
  touch "$home/.installed"
fi
echo "$home"
