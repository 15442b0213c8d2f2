# veil_add_boost_suite(<target> <dir> LABEL <label>
#                      [TIMEOUT <seconds>] [RESOURCE_LOCK <lock>] [LINK <library>...]
#                      [DEPENDS <target>...] [ARGS <runner argument>...])
#
# One Boost.Test executable <target> from every <dir>/*.cpp (one of them defines
# BOOST_TEST_MODULE). Each <dir>/<suite>_test.cpp holds BOOST_AUTO_TEST_SUITE(<suite>) and gets its
# own ctest entry <label>.<suite> running `<target> --run_test=<suite> ARGS...` with LABELS
# <label>; a file whose suite is named otherwise fails loudly (the runner finds no such suite).
# TIMEOUT and RESOURCE_LOCK go to every entry when given; LINK is linked besides
# Boost.Test and veil_warnings; DEPENDS are built with the executable (e.g. a binary it spawns).
function(veil_add_boost_suite target dir)
  cmake_parse_arguments(PARSE_ARGV 2 SUITE "" "LABEL;TIMEOUT;RESOURCE_LOCK" "LINK;DEPENDS;ARGS")
  if(NOT SUITE_LABEL)
    message(FATAL_ERROR "veil_add_boost_suite(${target}): LABEL is required")
  endif()
  if(SUITE_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "veil_add_boost_suite(${target}): unknown arguments ${SUITE_UNPARSED_ARGUMENTS}")
  endif()

  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_executable(${target} ${sources})
  target_include_directories(${target} PRIVATE ${dir})
  # Debian ships Boost.Test as a shared library: the generated main needs the DYN_LINK variant.
  target_compile_definitions(${target} PRIVATE BOOST_TEST_DYN_LINK)
  target_link_libraries(${target} PRIVATE ${SUITE_LINK} Boost::unit_test_framework veil_warnings)
  if(SUITE_DEPENDS)
    add_dependencies(${target} ${SUITE_DEPENDS})
  endif()

  set(properties LABELS ${SUITE_LABEL})
  if(SUITE_TIMEOUT)
    list(APPEND properties TIMEOUT ${SUITE_TIMEOUT})
  endif()
  if(SUITE_RESOURCE_LOCK)
    list(APPEND properties RESOURCE_LOCK ${SUITE_RESOURCE_LOCK})
  endif()
  file(GLOB suites CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  foreach(src IN LISTS suites)
    get_filename_component(file ${src} NAME_WE)
    string(REGEX REPLACE "_test$" "" suite ${file})
    add_test(NAME ${SUITE_LABEL}.${suite} COMMAND ${target} --run_test=${suite} ${SUITE_ARGS})
    set_tests_properties(${SUITE_LABEL}.${suite} PROPERTIES ${properties})
  endforeach()
endfunction()
