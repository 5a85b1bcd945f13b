# Included by the top-level CMakeLists.txt after apps/ and tests/:
#   - micro_*: Google Benchmark programs, each also a ctest entry that runs it
#     once, briefly, so CI builds and exercises them without judging timings.

find_package(benchmark REQUIRED)
set(micro_benchmarks
    micro_codec:stellwerk_mqtt
    micro_topics:stellwerk_topics
    micro_fanout:stellwerk_broker)
foreach(entry ${micro_benchmarks})
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 name)
  list(GET parts 1 library)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE ${library} stellwerk_base benchmark::benchmark)
  if(STELLWERK_TESTS)
    add_test(NAME bench_${name} COMMAND ${name} --benchmark_min_time=0.01)
    set_tests_properties(bench_${name} PROPERTIES LABELS bench TIMEOUT 300)
  endif()
endforeach()
add_custom_target(micro_benchmarks DEPENDS micro_codec micro_topics micro_fanout)
