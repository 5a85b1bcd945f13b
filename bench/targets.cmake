# Included by the top-level CMakeLists.txt after apps/ and tests/:
#   - micro_*: Google Benchmark programs, each also a ctest entry that runs it
#     once, briefly, so CI builds and exercises them without judging timings.

find_package(benchmark REQUIRED)
set(micro_benchmarks
    micro_codec:stellwerk_mqtt
    micro_topics:stellwerk_topics
    micro_fanout:stellwerk_broker
    micro_store:stellwerk_store)
foreach(entry ${micro_benchmarks})
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 name)
  list(GET parts 1 library)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE ${library} stellwerk_base benchmark::benchmark)
  if(STELLWERK_TESTS)
    add_test(NAME bench_${name} COMMAND ${name} --benchmark_min_time=0.01)
    set_tests_properties(bench_${name} PROPERTIES LABELS bench TIMEOUT 300
                         ENVIRONMENT STELLWERK_MICRO_RETAINED_TOPICS=20000)
  endif()
endforeach()
add_custom_target(micro_benchmarks DEPENDS micro_codec micro_topics micro_fanout micro_store)

# Tools of bench/persistence: persistent-session load through a running broker,
# and a large store written and reopened through the Store API.
add_executable(persistence_driver ${CMAKE_CURRENT_LIST_DIR}/persistence_driver.cpp)
target_link_libraries(persistence_driver PRIVATE stellwerk_bench stellwerk_mqtt stellwerk_base)
add_executable(store_fill ${CMAKE_CURRENT_LIST_DIR}/store_fill.cpp)
target_link_libraries(store_fill PRIVATE stellwerk_store stellwerk_base)
add_executable(retained_memory ${CMAKE_CURRENT_LIST_DIR}/retained_memory.cpp)
target_link_libraries(retained_memory PRIVATE stellwerk_store stellwerk_topics stellwerk_base)
if(STELLWERK_TESTS)
  # Briefly, so CI builds and runs them; the figures come from bench/persistence.
  add_test(NAME bench_retained_memory COMMAND retained_memory 10000)
  set_tests_properties(bench_retained_memory PROPERTIES LABELS bench TIMEOUT 300)
endif()

# The least a relay does per delivery through the socket API: bench/compare
# runs it beside the brokers in the slow pairs scenario, as the floor.
add_executable(floor_relay ${CMAKE_CURRENT_LIST_DIR}/floor_relay.cpp)

# No test runs these three; they serve bench/persistence and bench/compare,
# which use release builds. A sanitizer build (CI tests with one) builds
# them only when asked.
if(STELLWERK_SANITIZE)
  set_target_properties(persistence_driver store_fill floor_relay PROPERTIES EXCLUDE_FROM_ALL ON)
endif()
