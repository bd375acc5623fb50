#!/bin/sh
# Installs the build into a temporary prefix, then builds and runs
# examples/pkgconfig-consumer from outside the source tree three ways:
# CMake find_package(slate), pkg-config (shared) and pkg-config --static.
set -eu
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/include/slate/slate.h"
ls "$work"/prefix/lib*/libslate.a "$work"/prefix/lib*/libslate.so.* >/dev/null
pcdir=$(dirname "$(find "$work/prefix" -name slate.pc | head -n 1)")
cp -R "$src/examples/pkgconfig-consumer" "$work/consumer"

echo "== find_package(slate)"
cmake -S "$work/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name 'libslate.so' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer"
# The shared build must resolve libslate from the prefix, not from the build tree.
LD_LIBRARY_PATH="$libdir" ldd "$work/cm/consumer" | grep -q "$libdir/libslate.so"

echo "== pkg-config (shared)"
export PKG_CONFIG_PATH="$pcdir"
cc -std=c11 -Wall -Werror -o "$work/pc_shared" "$work/consumer/main.c" \
    $(pkg-config --cflags --libs slate)
LD_LIBRARY_PATH="$libdir" "$work/pc_shared"

echo "== pkg-config --static"
cc -std=c11 -Wall -Werror -o "$work/pc_static" "$work/consumer/main.c" \
    $(pkg-config --cflags slate) "$libdir/libslate.a" $(pkg-config --static --libs-only-l slate | sed 's/-lslate//')
"$work/pc_static"
if ldd "$work/pc_static" | grep -q libslate; then
    echo "static consumer still links libslate.so" >&2
    exit 1
fi
echo "install_consumer: all three consumers built and ran"
