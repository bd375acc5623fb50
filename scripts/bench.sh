#!/bin/sh
# Runs every benchmark built in the given build directory, one after another.
set -eu
build=${1:-build}
found=0
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    found=1
    echo "==== $(basename "$b")"
    "$b"
    echo
done
[ "$found" -eq 1 ] || { echo "no benchmarks in $build/bench" >&2; exit 1; }
