# Generates protobuf-c code for a .proto at build time and finds libprotobuf-c.
# Included by tests/interop, fuzz/protobuf_c.cmake and bench/codec.cmake.
#
#   slate_protobuf_c_available(<var>)   TRUE when protoc-c and libprotobuf-c exist
#   slate_protobuf_c_generate(<srcs_var> <proto> <import_dir> <out_dir>)
#       adds a command producing <out_dir>/<rel>.pb-c.c/.h and sets <srcs_var>
#       to the .c file; the generated code is compiled without warnings.
include_guard(GLOBAL)

find_program(SLATE_PROTOC_C NAMES protoc-c)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PROTOBUF_C QUIET IMPORTED_TARGET GLOBAL libprotobuf-c)

function(slate_protobuf_c_available var)
  if(SLATE_PROTOC_C AND PROTOBUF_C_FOUND)
    set(${var} TRUE PARENT_SCOPE)
  else()
    set(${var} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(slate_protobuf_c_generate srcs_var proto import_dir out_dir)
  file(RELATIVE_PATH _rel "${import_dir}" "${proto}")
  string(REGEX REPLACE "\\.proto$" "" _stem "${_rel}")
  set(_c "${out_dir}/${_stem}.pb-c.c")
  set(_h "${out_dir}/${_stem}.pb-c.h")
  add_custom_command(OUTPUT "${_c}" "${_h}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
    COMMAND ${SLATE_PROTOC_C} "--c_out=${out_dir}" "-I${import_dir}" "${proto}"
    DEPENDS "${proto}"
    COMMENT "protoc-c ${_rel}")
  set_source_files_properties("${_c}" PROPERTIES GENERATED TRUE COMPILE_OPTIONS "-w")
  set(${srcs_var} "${_c}" PARENT_SCOPE)
endfunction()
