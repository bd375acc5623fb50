# fuzz_ctl_inputs exercises the controller's parsers and encoders; its sources
# are compiled into the target so libFuzzer's coverage reaches them.
if(TARGET fuzz_ctl_inputs)
  set(_ctl "${PROJECT_SOURCE_DIR}/shims/controller")
  target_sources(fuzz_ctl_inputs PRIVATE ${_ctl}/ctl_json.c ${_ctl}/ctl_buf.c
    ${_ctl}/ctl_persist.c ${_ctl}/ctl_regions.c ${_ctl}/ctl_rules.c ${_ctl}/ctl_auth.c)
  target_include_directories(fuzz_ctl_inputs PRIVATE ${_ctl})
  find_package(Threads REQUIRED)
  target_link_libraries(fuzz_ctl_inputs PRIVATE Threads::Threads)
endif()
