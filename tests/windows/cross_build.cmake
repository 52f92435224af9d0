# The Windows build (the `windows` preset: buildlock.exe cross-compiled with MinGW-w64), built by
# this build and its test suite run under Wine by this suite's `windows.suite` test. A workflow
# preset has one configure preset, so this is how the README's second command (and .ci/run) tests
# Windows too.
#
# BUILDLOCK_WINDOWS_TESTS: ON requires the cross compiler and Wine (CI: a missing one is an error,
# never a silent skip); AUTO uses them when found and otherwise says at configure time, and in the
# ctest summary (windows.suite "Disabled"), that the Windows tests did not run and why; OFF leaves
# them out.
if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
  set(buildlock_windows_tests_default ON)
else()
  set(buildlock_windows_tests_default AUTO)
endif()
set(BUILDLOCK_WINDOWS_TESTS "${buildlock_windows_tests_default}" CACHE STRING
    "Cross-build for Windows and run its tests under Wine: ON, AUTO or OFF")
set_property(CACHE BUILDLOCK_WINDOWS_TESTS PROPERTY STRINGS ON AUTO OFF)
if(BUILDLOCK_WINDOWS_TESTS STREQUAL "OFF")
  return()
endif()

find_program(BUILDLOCK_MINGW_CXX x86_64-w64-mingw32-g++-posix)
find_program(BUILDLOCK_HOST_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_DEFAULT_PATH)
find_program(BUILDLOCK_HOST_WINE NAMES wine64 wine)
set(missing "")
if(NOT BUILDLOCK_MINGW_CXX)
  list(APPEND missing "x86_64-w64-mingw32-g++-posix (package g++-mingw-w64-x86-64-posix)")
endif()
if(NOT BUILDLOCK_HOST_WINE)
  list(APPEND missing "wine64 (package wine64)")
endif()
if(missing)
  list(JOIN missing " and " missing)
  if(BUILDLOCK_WINDOWS_TESTS STREQUAL "ON")
    message(FATAL_ERROR "BUILDLOCK_WINDOWS_TESTS is ON but ${missing} is not installed "
                        "(sh .ci/install-deps installs both).")
  endif()
  message(WARNING "The Windows tests are skipped: ${missing} not found "
                  "(sh .ci/install-deps installs it).")
  add_test(NAME windows.suite COMMAND "${CMAKE_COMMAND}" -E false)
  set_tests_properties(windows.suite PROPERTIES DISABLED TRUE)
  return()
endif()

include(ExternalProject)
set(buildlock_windows_dir "${CMAKE_BINARY_DIR}/windows")
# BUILD_ALWAYS: the inner build tracks the sources itself (a no-op build takes milliseconds).
ExternalProject_Add(buildlock_windows
  SOURCE_DIR "${PROJECT_SOURCE_DIR}"
  BINARY_DIR "${buildlock_windows_dir}"
  # Optimised like the Linux build but without debug info: nobody debugs this copy, and -g makes
  # its compiles take 40% longer (measured on group_acquire.cpp), which the CI budget feels. A
  # unity build of buildlock's own targets, as an embedding project gets it, for the same reason.
  CMAKE_ARGS "--toolchain=${PROJECT_SOURCE_DIR}/tool/toolchains/mingw-w64-x86_64.cmake"
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
             "-DBUILDLOCK_UNITY_BUILD=ON"
             "-DBUILDLOCK_WARNINGS_AS_ERRORS=${BUILDLOCK_WARNINGS_AS_ERRORS}"
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON)
add_test(NAME windows.suite
  COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${buildlock_windows_dir}" --output-on-failure
          --no-tests=error --timeout 120 --parallel 2)
# The whole Windows suite is one test here: its own tests have their own timeouts.
# Among the longest tests: started first (COST), so that it does not form the suite's tail.
set_tests_properties(windows.suite PROPERTIES TIMEOUT 900 LABELS windows COST 1000)
