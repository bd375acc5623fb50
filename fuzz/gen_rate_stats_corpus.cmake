# The generator of the rate and stats seed corpora (fuzz/gen_rate_stats_corpus.c),
# and a test that the committed seeds are exactly what it writes.
add_executable(gen_rate_stats_corpus ${CMAKE_CURRENT_LIST_DIR}/gen_rate_stats_corpus.c)
target_link_libraries(gen_rate_stats_corpus PRIVATE slate_static)
if(SLATE_BUILD_TESTS)
  set(_gen_out "${CMAKE_CURRENT_BINARY_DIR}/generated_corpus")
  add_test(NAME fuzz_rate_stats_corpus_current
    COMMAND sh -c "rm -rf '${_gen_out}' && mkdir -p '${_gen_out}' && '$<TARGET_FILE:gen_rate_stats_corpus>' '${_gen_out}' && cd '${_gen_out}' && for f in */*; do cmp \"$f\" '${CMAKE_CURRENT_LIST_DIR}/corpus/'\"$f\" || exit 1; done")
  set_tests_properties(fuzz_rate_stats_corpus_current PROPERTIES LABELS corpus)
endif()
