# Hook for fuzz_diff_protobuf_c: protobuf-c code generated from the schema,
# the shared comparison helpers, and libprotobuf-c. Works for the libFuzzer
# build and for the standalone (corpus replay) build alike. Without protobuf-c
# the target builds as an empty stub.
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
    message(WARNING "protobuf-c not found: fuzz_diff_protobuf_c is a stub")
    target_compile_definitions(fuzz_diff_protobuf_c PRIVATE SLATE_FUZZ_NO_PROTOBUF_C)
  endif()
endif()
