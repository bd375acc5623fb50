# The program that writes the codec fuzz targets' seed corpora from real
# encodings. Not run by the build: run it by hand after a schema change,
#   <build>/fuzz/gen_codec_corpus fuzz/corpus
# and commit the result.
add_executable(gen_codec_corpus ${CMAKE_CURRENT_SOURCE_DIR}/gen_codec_corpus.c ${SLATE_SOURCES})
target_compile_definitions(gen_codec_corpus PRIVATE SLATE_STATIC_DEFINE)
target_include_directories(gen_codec_corpus PRIVATE ${PROJECT_SOURCE_DIR}/include
  ${PROJECT_SOURCE_DIR}/libslate)
target_include_directories(gen_codec_corpus SYSTEM PRIVATE ${XXHASH_INCLUDE_DIR})
target_link_libraries(gen_codec_corpus PRIVATE m)
