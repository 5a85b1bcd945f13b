# stellwerk_module(NAME DEP...): one static library per folder under src/,
# built from every .cpp in it. Dependencies are PUBLIC only where a module's
# headers expose the other module's types; DESIGN.md lists which edges exist.
function(stellwerk_module name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  # A module with headers only (templates) is an INTERFACE library.
  if(sources)
    set(scope PUBLIC)
    add_library(stellwerk_${name} STATIC ${sources})
  else()
    set(scope INTERFACE)
    add_library(stellwerk_${name} INTERFACE)
  endif()
  target_include_directories(stellwerk_${name} ${scope} ${PROJECT_SOURCE_DIR}/src)
  if(ARGN)
    target_link_libraries(stellwerk_${name} ${scope} ${ARGN})
  endif()
endfunction()

# stellwerk_unit_test(NAME DEP... [OPTIMIZED FILE...]): tests/unit/NAME/*.cpp
# into test_NAME, one ctest entry per binary.
#
# The tests' own code is compiled at -O0 and without debug information: it
# only drives the modules, which keep the build's flags, and so a test file
# compiles in about half the time under ASan (most of a CI run is
# compiling). A failing check still names its file and line (gtest's
# macros); a sanitizer report names the test's functions, with lines in the
# modules. The files named after OPTIMIZED run reference models of their
# own, several times slower unoptimised; they keep the build's flags.
function(stellwerk_unit_test name)
  cmake_parse_arguments(PARSE_ARGV 1 test "" "" "OPTIMIZED")
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${name}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(test_${name} ${sources})
  target_link_libraries(test_${name} PRIVATE ${test_UNPARSED_ARGUMENTS} GTest::gtest GTest::gmock GTest::gtest_main)
  foreach(source ${sources})
    get_filename_component(file ${source} NAME)
    if(NOT file IN_LIST test_OPTIMIZED)
      set_source_files_properties(${source} PROPERTIES COMPILE_OPTIONS "-O0;-g0")
    endif()
  endforeach()
  add_test(NAME unit_${name} COMMAND test_${name})
endfunction()
