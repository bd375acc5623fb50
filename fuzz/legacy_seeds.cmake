# The seed generator of the legacy text fuzz targets: writes bodies that
# SLATE's code writes and bodies our encoders produce from SLATE's trace
# records into fuzz/corpus/fuzz_legacy_*/. Regenerate after a format change:
#   build/fuzz/gen_legacy_seeds ../shared/data fuzz/corpus
# The test below checks that every committed generated seed is current.
add_executable(gen_legacy_seeds ${CMAKE_CURRENT_SOURCE_DIR}/gen_legacy_seeds.c)
target_link_libraries(gen_legacy_seeds PRIVATE slate_static m)
if(NOT SLATE_BUILD_FUZZ AND SLATE_BUILD_TESTS)
  set(_gen_dir "${CMAKE_CURRENT_BINARY_DIR}/legacy_seeds")
  add_test(NAME legacy_seeds_current
    COMMAND sh -c "rm -rf '${_gen_dir}' && mkdir -p '${_gen_dir}/fuzz_legacy_proxyload' '${_gen_dir}/fuzz_legacy_latency' '${_gen_dir}/fuzz_legacy_rules' && '$<TARGET_FILE:gen_legacy_seeds>' '${SLATE_DATA_DIR}' '${_gen_dir}' && cd '${_gen_dir}' && for f in */*; do cmp \"$f\" '${CMAKE_CURRENT_SOURCE_DIR}/corpus/'\"$f\" || exit 1; done")
  set_tests_properties(legacy_seeds_current PROPERTIES LABELS corpus)
endif()
