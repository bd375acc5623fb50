# fuzz_ctl_inputs exercises the controller's parsers and encoders; its sources
# are compiled into the target so libFuzzer's coverage reaches them.
if(TARGET fuzz_ctl_inputs)
  set(_ctl "${PROJECT_SOURCE_DIR}/shims/controller")
  target_sources(fuzz_ctl_inputs PRIVATE ${_ctl}/util/ctl_json.c ${_ctl}/util/ctl_buf.c
    ${_ctl}/publish/ctl_persist.c ${_ctl}/learn/ctl_regions.c ${_ctl}/publish/ctl_rules.c
    ${_ctl}/serve/ctl_auth.c)
  target_include_directories(fuzz_ctl_inputs PRIVATE ${_ctl} ${_ctl}/util ${_ctl}/learn
    ${_ctl}/publish ${_ctl}/serve ${PROJECT_SOURCE_DIR}/libslate)
  find_package(Threads REQUIRED)
  target_link_libraries(fuzz_ctl_inputs PRIVATE Threads::Threads)
endif()

# fuzz_ctl_export renders the exports in memory: the exporter (pure text and
# names; its thread is the publisher's) and the modules it writes with.
if(TARGET fuzz_ctl_export)
  set(_ctl "${PROJECT_SOURCE_DIR}/shims/controller")
  target_sources(fuzz_ctl_export PRIVATE ${_ctl}/publish/ctl_export.c ${_ctl}/util/ctl_json.c
    ${_ctl}/util/ctl_buf.c ${_ctl}/publish/ctl_persist.c ${_ctl}/publish/ctl_rules.c)
  target_include_directories(fuzz_ctl_export PRIVATE ${_ctl} ${_ctl}/util ${_ctl}/learn
    ${_ctl}/publish ${PROJECT_SOURCE_DIR}/libslate)
  find_package(Threads REQUIRED)
  target_link_libraries(fuzz_ctl_export PRIVATE Threads::Threads)
endif()
