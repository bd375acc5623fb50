# The seed generator of fuzz_path (real paths from SLATE's traces). Built so it
# keeps compiling; not a test. Regenerate the committed seeds with
#   <build>/fuzz/gen_path_seeds ../shared/data fuzz/corpus
add_executable(gen_path_seeds ${CMAKE_CURRENT_LIST_DIR}/gen_path_seeds.c)
