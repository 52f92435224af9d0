# cmake -DSOURCE_DIR=<buildlock source> -DWORK=<dir> -P check_generators.cmake: buildlock_launcher()
# and buildlock_limit_links() stop with an error under a generator that ignores their launchers
# (Visual Studio, Xcode), and buildlock_launcher() works under every Ninja and Makefile generator.
# Each call runs in a cmake -P of its own that plays the generator (CMAKE_GENERATOR), since this
# machine has neither Visual Studio nor Xcode to configure with.
if(NOT DEFINED CASE)
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}")
  set(failures "")
  foreach(case IN ITEMS "launcher|Visual Studio 17 2022|FAIL" "launcher|Xcode|FAIL"
                        "links|Visual Studio 17 2022|FAIL" "links|Xcode|FAIL"
                        "launcher|Ninja|OK" "launcher|Ninja Multi-Config|OK"
                        "launcher|Unix Makefiles|OK" "launcher|NMake Makefiles|OK")
    string(REPLACE "|" ";" case "${case}")
    list(GET case 0 function)
    list(GET case 1 generator)
    list(GET case 2 expected)
    execute_process(COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${SOURCE_DIR}" "-DWORK=${WORK}"
      "-DCASE=${function}" "-DGENERATOR=${generator}" -P "${CMAKE_CURRENT_LIST_FILE}"
      RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    string(REGEX REPLACE "[ \n]+" " " flattened "${output}")
    if(expected STREQUAL "FAIL")
      if(function STREQUAL "launcher")
        set(message "buildlock_launcher: works with the Ninja and Makefile generators only, not ${generator}, which ignores compiler launchers")
      else()
        set(message "buildlock_limit_links: works with the Ninja, Ninja Multi-Config and Unix Makefiles generators only, not ${generator}, which ignores link launchers")
      endif()
      string(FIND "${flattened}" "${message}" found)
      if(result EQUAL 0 OR found EQUAL -1)
        string(APPEND failures "${function} under ${generator}: expected the error \"${message}\", got (${result}): ${output}\n")
      endif()
    elseif(NOT result EQUAL 0)
      string(APPEND failures "${function} under ${generator}: failed (${result}): ${output}\n")
    endif()
  endforeach()
  if(NOT failures STREQUAL "")
    message(FATAL_ERROR "${failures}")
  endif()
  return()
endif()

# One case: the module under GENERATOR, with an existing file as the buildlock to run.
set(CMAKE_GENERATOR "${GENERATOR}")
set(BUILDLOCK_EXECUTABLE "${CMAKE_COMMAND}")
include("${SOURCE_DIR}/cmake-modules/BuildLock.cmake")
if(CASE STREQUAL "launcher")
  buildlock_launcher(launcher LOCK compiles SLOTS 2 DIR "${WORK}/locks")
  if(NOT launcher MATCHES "run;--dir;.*;--slots;2;.*compiles;--$")
    message(FATAL_ERROR "unexpected launcher: ${launcher}")
  endif()
else()
  buildlock_limit_links(LOCK links ALL DIR "${WORK}/locks")
endif()
