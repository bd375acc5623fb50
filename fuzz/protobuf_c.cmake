# Hook for fuzz_diff_protobuf_c: protobuf-c code generated from the schema,
# the shared comparison helpers, and libprotobuf-c. Works for the libFuzzer
# build and for the standalone (corpus replay) build alike. protobuf-c is a
# required test dependency (scripts/deps.sh installs it): without it the
# configure fails rather than building a target that checks nothing.
if(TARGET fuzz_diff_protobuf_c)
  include(${PROJECT_SOURCE_DIR}/tests/interop/protobuf_c.cmake)
  slate_protobuf_c_available(_slate_fuzz_pc_ok)
  if(_slate_fuzz_pc_ok)
    set(_gen "${CMAKE_CURRENT_BINARY_DIR}/generated")
    slate_protobuf_c_generate(_pc_fuzz "${PROJECT_SOURCE_DIR}/proto/slate/v1/slate.proto"
      "${PROJECT_SOURCE_DIR}/proto" "${_gen}")
    target_sources(fuzz_diff_protobuf_c PRIVATE ${_pc_fuzz}
      ${PROJECT_SOURCE_DIR}/tests/interop/pc_bridge.c)
    target_include_directories(fuzz_diff_protobuf_c PRIVATE "${_gen}"
      ${PROJECT_SOURCE_DIR}/tests/interop)
    target_link_libraries(fuzz_diff_protobuf_c PRIVATE PkgConfig::PROTOBUF_C)
  else()
    message(FATAL_ERROR "protoc-c or libprotobuf-c not found (run scripts/deps.sh): "
                        "fuzz_diff_protobuf_c needs them")
  endif()
endif()
