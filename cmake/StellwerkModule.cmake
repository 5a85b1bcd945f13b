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

# stellwerk_unit_test(NAME DEP...): tests/unit/NAME/*.cpp into test_NAME, one
# ctest entry per binary.
function(stellwerk_unit_test name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${name}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(test_${name} ${sources})
  target_link_libraries(test_${name} PRIVATE ${ARGN} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME unit_${name} COMMAND test_${name})
endfunction()
