# The tests of a cross-built buildlock.exe run under Wine (CMAKE_CROSSCOMPILING_EMULATOR, set by
# tool/toolchains/mingw-w64-x86_64.cmake). Wine keeps a server process per prefix; starting it in a new
# prefix (this build tree's) takes seconds, later programs start in milliseconds while it runs.
# So one test starts it before every other test, and one stops it after the last: nothing of
# Wine is left running after the suite.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR OR NOT BUILDLOCK_WINESERVER)
  message(FATAL_ERROR "Cross-compiled tests need Wine (wine64 and wineserver); none was found. "
                      "Install wine64, or configure with -DBUILDLOCK_BUILD_TESTS=OFF.")
endif()
# The server quits 3 s after its last program and the next program then pays seconds to start it
# and Wine's services again (each test program of a loaded CI run did: 668 s instead of 60 for
# this suite). So it is started persistent (-p), before the first program: once one runs, -p has
# no effect. It needs the prefix folder to exist; the first program then fills it. The output of
# both goes to a file: the server, and the Wine services the first program starts, live on, and
# ctest would wait for ever for the end of the pipes they inherited.
add_test(NAME wine.start
  COMMAND "${CMAKE_COMMAND}" -E env "WINEPREFIX=${BUILDLOCK_WINEPREFIX}"
          sh -c "mkdir -p \"\$WINEPREFIX\" && { \"\$0\" -p </dev/null >/dev/null 2>&1 || true; } && exec \"\$@\" </dev/null >\"\$WINEPREFIX.log\" 2>&1"
          "${BUILDLOCK_WINESERVER}" ${CMAKE_CROSSCOMPILING_EMULATOR} cmd.exe /c exit 0)
# -k fails when the server has already gone (it leaves 3 s after its last program); -w then waits
# until it has.
add_test(NAME wine.stop COMMAND "${CMAKE_COMMAND}" -E env "WINEPREFIX=${BUILDLOCK_WINEPREFIX}"
                                sh -c "\"$0\" -k; \"$0\" -w" "${BUILDLOCK_WINESERVER}")
# A first start creates the prefix (its registry, its C: drive): on a loaded machine, a minute.
set_tests_properties(wine.start PROPERTIES FIXTURES_SETUP wine TIMEOUT 300)
set_tests_properties(wine.stop PROPERTIES FIXTURES_CLEANUP wine)
set(buildlock_test_properties FIXTURES_REQUIRED wine)

# buildlock.exe as a program of the build host, for what runs buildlock from the host (the CMake
# module's BUILDLOCK_EXECUTABLE): it runs it under Wine in this build tree's prefix.
set(buildlock_wine_launcher "${CMAKE_BINARY_DIR}/wine-buildlock")
list(JOIN CMAKE_CROSSCOMPILING_EMULATOR "\" \"" emulator_words)
file(GENERATE OUTPUT "${buildlock_wine_launcher}"
     CONTENT "#!/bin/sh\nexec \"${emulator_words}\" \"$<TARGET_FILE:buildlock>\" \"$@\"\n"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                      WORLD_EXECUTE)

add_test(NAME cmake.module_under_wine
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/windows/check_module_under_wine.sh"
          "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_BINARY_DIR}/module_under_wine"
          "${CMAKE_TOOLCHAIN_FILE}" "${buildlock_wine_launcher}")
set_tests_properties(cmake.module_under_wine PROPERTIES FIXTURES_REQUIRED wine TIMEOUT 300)

add_test(NAME windows.utf8_arguments
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/windows/check_utf8_arguments.sh"
          "${buildlock_wine_launcher}" "${CMAKE_CURRENT_BINARY_DIR}")
set_tests_properties(windows.utf8_arguments PROPERTIES FIXTURES_REQUIRED wine)
