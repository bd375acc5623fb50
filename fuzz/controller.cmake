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

# fuzz_ctl_export renders the exports in memory: the exporter without its
# daemon thread (CTL_EXPORT_NO_DAEMON), and the modules it writes with.
if(TARGET fuzz_ctl_export)
  set(_ctl "${PROJECT_SOURCE_DIR}/shims/controller")
  target_sources(fuzz_ctl_export PRIVATE ${_ctl}/ctl_export.c ${_ctl}/ctl_json.c
    ${_ctl}/ctl_buf.c ${_ctl}/ctl_persist.c ${_ctl}/ctl_rules.c)
  target_include_directories(fuzz_ctl_export PRIVATE ${_ctl})
  target_compile_definitions(fuzz_ctl_export PRIVATE CTL_EXPORT_NO_DAEMON=1)
  find_package(Threads REQUIRED)
  target_link_libraries(fuzz_ctl_export PRIVATE Threads::Threads)
endif()
