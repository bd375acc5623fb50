#!/bin/sh
# The data plane's per-request cost in Envoy's own proxy-wasm host library
# (proxy-wasm-cpp-host) with WAMR's fast interpreter, one of the runtimes
# Envoy ships: the filter, the no-op module and the ABI floor module, side by
# side in one process (cpp_host_bench.cc says how).
#
#   sh bench/cpp_host/run.sh <build dir> <proxy-wasm-cpp-host> <proxy-wasm-cpp-sdk> \
#                            <wasm-micro-runtime> [block] [rounds] [baseline filter .wasm]
#
# The three source trees are checkouts the caller provides (the host library,
# the SDK for its ABI enums, and WAMR; Envoy builds WAMR 2.4.1, with the flags
# below, which are the host library's own for its interpreter build). They are
# not vendored here and not part of `make test`: the build needs them and a
# C++17 compiler, OpenSSL and Abseil headers (libssl-dev, libabsl-dev).
# The modules come from <build dir>/shims/wasm; the rules the outbound case
# routes by are published by the real reporter in the test host
# (bench.js --dump-rules).
set -eu
build=${1:?usage: run.sh <build dir> <proxy-wasm-cpp-host> <proxy-wasm-cpp-sdk> <wasm-micro-runtime> [block] [rounds] [baseline]}
host=${2:?proxy-wasm-cpp-host checkout}
sdk=${3:?proxy-wasm-cpp-sdk checkout}
wamr=${4:?wasm-micro-runtime checkout}
block=${5:-5000}
rounds=${6:-7}
baseline=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/bench/cpp_host"
mkdir -p "$out/wamr" "$out/obj"
for f in "$build/shims/wasm/slate_filter.wasm" "$build/shims/wasm/slate_noop.wasm" \
    "$build/shims/wasm/slate_abi_floor.wasm" "$host/src/exports.cc" "$sdk/proxy_wasm_common.h" \
    "$wamr/core/iwasm/include/wasm_c_api.h"; do
    [ -f "$f" ] || { echo "run.sh: $f not found" >&2; exit 1; }
done

if [ ! -f "$out/wamr/libiwasm.a" ]; then
    cmake -S "$wamr" -B "$out/wamr" -DCMAKE_BUILD_TYPE=Release \
        -DWAMR_BUILD_LIBC_WASI=0 -DWAMR_BUILD_LIBC_BUILTIN=0 -DWAMR_BUILD_BULK_MEMORY=1 \
        -DWAMR_BUILD_REF_TYPES=1 -DWAMR_BUILD_TAIL_CALL=1 -DWAMR_BUILD_MULTI_MODULE=0 \
        -DWAMR_BUILD_CUSTOM_NAME_SECTION=1 -DWAMR_BUILD_LOAD_CUSTOM_SECTION=1 \
        -DWAMR_BUILD_DUMP_CALL_STACK=1 -DWAMR_BUILD_WASM_CACHE=0 -DWAMR_BUILD_AOT=0 \
        -DWAMR_BUILD_FAST_INTERP=1 -DWAMR_BUILD_INTERP=1 -DWAMR_BUILD_JIT=0 \
        -DWAMR_BUILD_SIMD=0 >"$out/wamr.log" 2>&1
    cmake --build "$out/wamr" --target vmlib -j 2 >>"$out/wamr.log" 2>&1 ||
        { tail -20 "$out/wamr.log"; exit 1; }
fi

cxx="${CXX:-g++} -std=c++17 -O2 -DNDEBUG -I$host -I$host/include -I$sdk -I$wamr/core/iwasm/include"
for f in context exports wasm shared_data shared_queue pairs_util bytecode_util signature_util \
    vm_id_handle hash wamr/wamr; do
    o="$out/obj/$(basename "$f").o"
    [ -f "$o" ] || $cxx -c "$host/src/$f.cc" -o "$o"
done
$cxx -c "$here/cpp_host_bench.cc" -o "$out/obj/driver.o"
${CXX:-g++} "$out"/obj/*.o "$out/wamr/libiwasm.a" -lssl -lcrypto -lpthread -ldl -lm \
    -o "$out/cpp_host_bench" 2>"$out/link.log" || { cat "$out/link.log"; exit 1; }

node "$here/../../shims/wasm/bench/bench.js" --modules "$build/shims/wasm" \
    --dump-rules "$out/rules.txt"
"$out/cpp_host_bench" "$build/shims/wasm" "$out/rules.txt" "$block" "$rounds" $baseline
