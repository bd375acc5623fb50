# The seed generator of the sampler, table, key and trace-header corpora. Built
# so it keeps compiling; not a test. Regenerate the committed seeds with
#   <build>/fuzz/seedgen_sampler_key fuzz/corpus
add_executable(seedgen_sampler_key ${CMAKE_CURRENT_LIST_DIR}/seedgen_sampler_key.c)
target_link_libraries(seedgen_sampler_key PRIVATE slate_static m)
