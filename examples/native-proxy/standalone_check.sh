#!/bin/sh
# Builds examples/native-proxy the way a user outside the libslate tree would:
# install the build into a temporary prefix, configure the example on its own
# (find_package(slate)), build it and run it.
# Usage: standalone_check.sh <libslate build dir> <libslate source dir>
set -eu
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cp -R "$src/examples/native-proxy" "$work/native-proxy"
cmake -S "$work/native-proxy" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Wpedantic -Werror" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
"$work/build/native_proxy" >"$work/run.log" || { cat "$work/run.log"; exit 1; }
tail -n 1 "$work/run.log"
echo "standalone native-proxy: built against the installed libslate and ran"
