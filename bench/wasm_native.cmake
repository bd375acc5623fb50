# Instructions per request of the data plane's request path, counted
# deterministically: the modules' C compiled natively against a stand-in of
# the proxy-wasm host (bench/wasm_native), run under callgrind. Builds
# wasm_native_filter and wasm_native_noop, the target `wasm_instructions`
# (cmake --build build --target wasm_instructions) and, for `make bench`,
# bench/bench_wasm_instructions. Needs valgrind at run time, not to build.
if(SLATE_BUILD_SHIMS)
  set(_wn_dir ${CMAKE_CURRENT_SOURCE_DIR}/wasm_native)
  set(_wn_shim ${PROJECT_SOURCE_DIR}/shims/wasm)
  set(_wn_common ${_wn_dir}/driver.c ${_wn_dir}/native_host.c
                 ${_wn_shim}/alloc.c ${SLATE_SOURCES})
  function(slate_wasm_native name)
    add_executable(wasm_native_${name} ${_wn_common} ${ARGN})
    # -Os and no LTO: close to the wasm build's -Oz, and each function keeps
    # its own name in the per-function profile.
    target_compile_options(wasm_native_${name} PRIVATE -Os -g)
    # The module's allocator (alloc.c over a static arena), not the C
    # library's: malloc & co. are renamed in every source of the program.
    target_compile_definitions(wasm_native_${name} PRIVATE SLATE_STATIC_DEFINE SLATE_BUILDING
                               SW_BUILD_FILTER SW_ALLOC_NATIVE malloc=sw_native_malloc
                               free=sw_native_free calloc=sw_native_calloc
                               realloc=sw_native_realloc)
    target_include_directories(wasm_native_${name} PRIVATE ${_wn_dir} ${_wn_shim}
                               ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/libslate)
    target_include_directories(wasm_native_${name} SYSTEM PRIVATE ${XXHASH_INCLUDE_DIR})
    target_link_libraries(wasm_native_${name} PRIVATE m)
  endfunction()
  slate_wasm_native(filter ${_wn_shim}/module.c ${_wn_shim}/filter.c ${_wn_shim}/config.c
                    ${_wn_shim}/batch.c ${_wn_shim}/map.c)
  slate_wasm_native(noop ${_wn_shim}/noop.c)
  set(SLATE_WASM_INSTRUCTIONS_SCRIPT ${_wn_dir}/wasm_instructions.sh)
  add_custom_target(wasm_instructions
    COMMAND sh ${SLATE_WASM_INSTRUCTIONS_SCRIPT} ${CMAKE_CURRENT_BINARY_DIR}
    DEPENDS wasm_native_filter wasm_native_noop
    USES_TERMINAL)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/bench_wasm_instructions.in
    "#!/bin/sh\nexec sh \"${SLATE_WASM_INSTRUCTIONS_SCRIPT}\" \"${CMAKE_CURRENT_BINARY_DIR}\" \"$@\"\n")
  configure_file(${CMAKE_CURRENT_BINARY_DIR}/bench_wasm_instructions.in
    ${CMAKE_CURRENT_BINARY_DIR}/bench_wasm_instructions COPYONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                     WORLD_READ WORLD_EXECUTE)
endif()
