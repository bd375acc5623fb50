# Hook for bench_codec: the same schema compiled by protoc-c and by nanopb's
# generator (static sizes from bench/nanopb/slate.options), linked with
# libprotobuf-c and nanopb's static runtime; malloc/calloc/realloc wrapped at
# link time so the benchmark counts heap allocations. Missing peers are left
# out of the table rather than failing the build.
if(TARGET bench_codec)
  include(${PROJECT_SOURCE_DIR}/tests/interop/protobuf_c.cmake)
  slate_protobuf_c_available(_slate_bench_pc)
  set(_gen "${CMAKE_CURRENT_BINARY_DIR}/generated")
  if(_slate_bench_pc)
    slate_protobuf_c_generate(_pc_bench "${PROJECT_SOURCE_DIR}/proto/slate/v1/slate.proto"
      "${PROJECT_SOURCE_DIR}/proto" "${_gen}")
    target_sources(bench_codec PRIVATE ${_pc_bench})
    target_link_libraries(bench_codec PRIVATE PkgConfig::PROTOBUF_C)
    target_compile_definitions(bench_codec PRIVATE SLATE_BENCH_PROTOBUF_C)
  else()
    message(WARNING "protobuf-c not found: bench_codec runs without it")
  endif()

  find_program(SLATE_PROTOC protoc)
  find_program(SLATE_PROTOC_GEN_NANOPB protoc-gen-nanopb)
  find_path(SLATE_NANOPB_INCLUDE pb_decode.h)
  find_library(SLATE_NANOPB_LIB protobuf-nanopb)
  if(SLATE_PROTOC AND SLATE_PROTOC_GEN_NANOPB AND SLATE_NANOPB_INCLUDE AND SLATE_NANOPB_LIB)
    set(_np_c "${_gen}/slate/v1/slate.pb.c")
    set(_np_opts "${CMAKE_CURRENT_SOURCE_DIR}/nanopb/slate.options")
    add_custom_command(OUTPUT "${_np_c}" "${_gen}/slate/v1/slate.pb.h"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${_gen}"
      COMMAND ${SLATE_PROTOC} "--plugin=protoc-gen-nanopb=${SLATE_PROTOC_GEN_NANOPB}"
              "--nanopb_out=-f${_np_opts}:${_gen}" "-I${PROJECT_SOURCE_DIR}/proto"
              "${PROJECT_SOURCE_DIR}/proto/slate/v1/slate.proto"
      DEPENDS "${PROJECT_SOURCE_DIR}/proto/slate/v1/slate.proto" "${_np_opts}"
      COMMENT "nanopb slate.proto")
    set_source_files_properties("${_np_c}" PROPERTIES GENERATED TRUE COMPILE_OPTIONS "-w")
    target_sources(bench_codec PRIVATE "${_np_c}")
    target_include_directories(bench_codec SYSTEM PRIVATE "${SLATE_NANOPB_INCLUDE}")
    target_link_libraries(bench_codec PRIVATE "${SLATE_NANOPB_LIB}")
    target_compile_definitions(bench_codec PRIVATE SLATE_BENCH_NANOPB)
  else()
    message(WARNING "nanopb (generator or libnanopb-dev) not found: bench_codec runs without it")
  endif()
  target_include_directories(bench_codec PRIVATE "${_gen}")

  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(bench_codec PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc
                        -Wl,--wrap=realloc)
    target_compile_definitions(bench_codec PRIVATE SLATE_BENCH_WRAP_MALLOC)
  endif()
endif()
