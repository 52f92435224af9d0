# The tests of a cross-built buildlock.exe run under Wine (CMAKE_CROSSCOMPILING_EMULATOR, set by
# cmake/mingw-w64-x86_64.cmake). Wine keeps a server process per prefix; starting it in a new
# prefix (this build tree's) takes seconds, later programs start in milliseconds while it runs.
# So one test starts it before every other test, and one stops it after the last: nothing of
# Wine is left running after the suite.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR OR NOT BUILDLOCK_WINESERVER)
  message(FATAL_ERROR "Cross-compiled tests need Wine (wine64 and wineserver); none was found. "
                      "Install wine64, or configure with -DBUILDLOCK_BUILD_TESTS=OFF.")
endif()
add_test(NAME wine.start COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} cmd.exe /c exit 0)
# -k fails when the server has already gone (it leaves 3 s after its last program); -w then waits
# until it has.
add_test(NAME wine.stop COMMAND "${CMAKE_COMMAND}" -E env "WINEPREFIX=${BUILDLOCK_WINEPREFIX}"
                                sh -c "\"$0\" -k; \"$0\" -w" "${BUILDLOCK_WINESERVER}")
# A first start creates the prefix (its registry, its C: drive): on a loaded machine, a minute.
set_tests_properties(wine.start PROPERTIES FIXTURES_SETUP wine TIMEOUT 300)
set_tests_properties(wine.stop PROPERTIES FIXTURES_CLEANUP wine)
set(buildlock_test_properties FIXTURES_REQUIRED wine)
