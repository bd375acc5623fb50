# Hook for the data plane's benchmark: `make bench` runs every executable
# bench/bench_* of the build, so this writes bench/bench_wasm, a script that
# runs shims/wasm/bench/bench.js under Node against the modules of this build
# (filter, no-op baseline, ABI-floor baseline; built by `make`).
find_program(SLATE_BENCH_NODE NAMES node nodejs)
if(SLATE_BENCH_NODE AND SLATE_BUILD_SHIMS)
  set(SLATE_BENCH_WASM_NODE ${SLATE_BENCH_NODE})
  set(SLATE_BENCH_WASM_SCRIPT ${PROJECT_SOURCE_DIR}/shims/wasm/bench/bench.js)
  set(SLATE_BENCH_WASM_MODULES ${PROJECT_BINARY_DIR}/shims/wasm)
  configure_file(${PROJECT_SOURCE_DIR}/shims/wasm/bench/bench_wasm.sh.in
    ${CMAKE_CURRENT_BINARY_DIR}/bench_wasm @ONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                     WORLD_READ WORLD_EXECUTE)
endif()
