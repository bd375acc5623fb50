# wasm32-wasi toolchain support for building proxy-wasm modules from a native
# CMake build (the top-level build stays native; modules are built by custom
# commands that invoke clang for wasm32-wasi directly, so the native compiler,
# its flags and sanitizers never leak into a module).
#
# Two toolchains are supported:
#   - a wasi-sdk: set WASI_SDK_PREFIX (CMake cache variable or environment
#     variable) to its install directory (it holds bin/clang and
#     share/wasi-sysroot);
#   - Debian's packages: clang, lld (wasm-ld), wasi-libc and
#     libclang-rt-<N>-dev-wasm32 (compiler-rt builtins), found automatically.
#
# Defines:
#   SLATE_WASM_CLANG          the clang that compiles and links
#   SLATE_WASM_COMPILE_FLAGS  target, sysroot and include flags (a list)
#   SLATE_WASM_LINK_FLAGS     link flags of a proxy-wasm reactor (a list)
#   slate_add_wasm_module(<name> SOURCES <src>... [INCLUDES <dir>...] [SYSTEM_INCLUDES <dir>...]
#                         [DEFINES <def>...] [EXPORTS <sym>...] [DEPENDS <file>...]
#                         [BUDGET <bytes>] [STACK <bytes>])
#     builds <binary dir>/<name>.wasm (target <name>, part of ALL): every
#     source compiled and linked in one clang invocation with -Oz and LTO,
#     a reactor (exports _initialize, no _start), stripped, only the
#     export_name()-marked functions plus EXPORTS exported. After linking it
#     prints the size and fails when the module is larger than BUDGET.
#     STACK sets the shadow stack's size (default 131072) and puts the stack
#     first in linear memory (--stack-first), so that an overflow traps (an
#     access below address 0) instead of overwriting the module's data.
include_guard(GLOBAL)

set(WASI_SDK_PREFIX "$ENV{WASI_SDK_PREFIX}" CACHE PATH "wasi-sdk install prefix (empty: use Debian's clang + wasi-libc)")

set(_slate_wasm_flags --target=wasm32-wasi)
if(WASI_SDK_PREFIX)
  find_program(SLATE_WASM_CLANG clang PATHS "${WASI_SDK_PREFIX}/bin" NO_DEFAULT_PATH REQUIRED)
  list(APPEND _slate_wasm_flags "--sysroot=${WASI_SDK_PREFIX}/share/wasi-sysroot")
  set(_slate_wasm_where "wasi-sdk at ${WASI_SDK_PREFIX}")
else()
  find_program(SLATE_WASM_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14)
  find_program(SLATE_WASM_LD NAMES wasm-ld wasm-ld-19 wasm-ld-18 wasm-ld-17 wasm-ld-16 wasm-ld-15 wasm-ld-14)
  find_path(SLATE_WASI_INCLUDE stdlib.h PATHS /usr/include/wasm32-wasi NO_DEFAULT_PATH)
  find_file(SLATE_WASI_LIBC libc.a PATHS /usr/lib/wasm32-wasi NO_DEFAULT_PATH)
  if(NOT SLATE_WASM_CLANG OR NOT SLATE_WASM_LD OR NOT SLATE_WASI_INCLUDE OR NOT SLATE_WASI_LIBC)
    message(FATAL_ERROR
      "wasm32-wasi toolchain not found (clang: ${SLATE_WASM_CLANG}, wasm-ld: ${SLATE_WASM_LD}, "
      "wasi-libc headers: ${SLATE_WASI_INCLUDE}, libc.a: ${SLATE_WASI_LIBC}). Install Debian's "
      "clang lld wasi-libc libclang-rt-14-dev-wasm32 (scripts/deps.sh), or set WASI_SDK_PREFIX "
      "to a wasi-sdk, or configure with -DSLATE_BUILD_SHIMS=OFF.")
  endif()
  execute_process(COMMAND ${SLATE_WASM_CLANG} -print-resource-dir
    OUTPUT_VARIABLE _slate_wasm_resource OUTPUT_STRIP_TRAILING_WHITESPACE)
  # Debian's clang searches /usr/include after the wasi headers; glibc headers
  # must never be visible to a wasm compile, so the search path is set by hand.
  list(APPEND _slate_wasm_flags --sysroot=/usr -nostdinc
       -isystem "${_slate_wasm_resource}/include" -isystem "${SLATE_WASI_INCLUDE}")
  get_filename_component(_slate_wasm_ld_dir "${SLATE_WASM_LD}" DIRECTORY)
  set(_slate_wasm_where "Debian clang (${SLATE_WASM_CLANG}) + wasi-libc")
endif()
set(SLATE_WASM_COMPILE_FLAGS ${_slate_wasm_flags})

# A reactor: crt1-reactor.o provides _initialize (static constructors); the
# host calls it once, then the proxy_on_* callbacks. No _start, no main.
set(SLATE_WASM_LINK_FLAGS -mexec-model=reactor -Wl,--no-entry -Wl,--strip-all
    -Wl,--gc-sections)
if(_slate_wasm_ld_dir)
  # Let clang find wasm-ld next to where it was found (Debian: /usr/bin).
  list(APPEND SLATE_WASM_LINK_FLAGS "-B${_slate_wasm_ld_dir}")
endif()

message(STATUS "wasm32-wasi modules: ${_slate_wasm_where}")

set(_slate_wasm_module_dir "${CMAKE_CURRENT_LIST_DIR}")

function(slate_add_wasm_module name)
  cmake_parse_arguments(W "" "BUDGET;STACK" "SOURCES;INCLUDES;SYSTEM_INCLUDES;DEFINES;EXPORTS;DEPENDS;LINK_FLAGS" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm")
  # -mbulk-memory: memcpy/memset become memory.copy/fill instructions (every
  # proxy-wasm runtime in use supports the bulk-memory proposal: V8, wasmtime,
  # WAMR, WasmEdge), which drops libc's copies of them from the module.
  set(flags ${SLATE_WASM_COMPILE_FLAGS} -std=c11 -Oz -flto -mbulk-memory -fno-exceptions
      -ffunction-sections -fdata-sections ${SLATE_WARNINGS} -Wno-unused-command-line-argument)
  foreach(inc ${W_INCLUDES})
    list(APPEND flags "-I${inc}")
  endforeach()
  foreach(inc ${W_SYSTEM_INCLUDES})
    list(APPEND flags -isystem "${inc}")
  endforeach()
  foreach(def ${W_DEFINES})
    list(APPEND flags "-D${def}")
  endforeach()
  if(W_STACK)
    set(link ${SLATE_WASM_LINK_FLAGS} "-Wl,-z,stack-size=${W_STACK}" -Wl,--stack-first)
  else()
    set(link ${SLATE_WASM_LINK_FLAGS} -Wl,-z,stack-size=131072)
  endif()
  list(APPEND link ${W_LINK_FLAGS})
  foreach(sym ${W_EXPORTS})
    list(APPEND link "-Wl,--export=${sym}")
  endforeach()
  if(NOT W_BUDGET)
    set(W_BUDGET 0)
  endif()
  add_custom_command(OUTPUT "${out}"
    COMMAND ${SLATE_WASM_CLANG} ${flags} ${W_SOURCES} ${link} -o "${out}"
    COMMAND ${CMAKE_COMMAND} -DFILE=${out} -DBUDGET=${W_BUDGET}
            -P "${_slate_wasm_module_dir}/wasm-size.cmake"
    DEPENDS ${W_SOURCES} ${W_DEPENDS} "${_slate_wasm_module_dir}/wasm-size.cmake"
    COMMENT "Building wasm32-wasi module ${name}.wasm"
    COMMAND_EXPAND_LISTS VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
