# Cross build of buildlock.exe for 64-bit Windows with Debian's MinGW-w64 (posix threads), its
# programs run under Wine: the `windows` configure preset uses this file.
#
# Why each setting:
# - the posix flavour of the compiler: std::thread and std::mutex need winpthread there (the
#   win32 flavour has neither);
# - -static: buildlock.exe and the test programs carry libgcc, libstdc++ and winpthread inside,
#   so they run on a bare Windows and under Wine without DLLs beside them;
# - CLI11 and nlohmann_json are header-only: Debian's packages are found, but their headers live
#   in /usr/include among glibc's, which must never reach a MinGW compilation. A private prefix in
#   the build tree holds only their two header folders and their package files (links), and is
#   the only place packages are searched for.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(buildlock_mingw_triple x86_64-w64-mingw32)
find_program(CMAKE_CXX_COMPILER NAMES ${buildlock_mingw_triple}-g++-posix REQUIRED)
find_program(CMAKE_C_COMPILER NAMES ${buildlock_mingw_triple}-gcc-posix REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${buildlock_mingw_triple}-windres)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Wine runs what the build made: tests (ctest), test discovery, and buildlock.exe in custom
# commands. The prefix (Wine's C: drive and registry) lives in the build tree, so that a build
# never touches ~/.wine and removing the build tree removes it; WINEDEBUG=-all keeps Wine's
# diagnostics out of the output the tests compare; the .NET and HTML engines are not installed
# into a new prefix (no download, no dialog).
find_program(BUILDLOCK_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_DEFAULT_PATH)
find_program(BUILDLOCK_WINE NAMES wine64 wine)
if(BUILDLOCK_WINE)
  get_filename_component(buildlock_wine_dir "${BUILDLOCK_WINE}" DIRECTORY)
  find_program(BUILDLOCK_WINESERVER NAMES wineserver HINTS "${buildlock_wine_dir}")
  set(BUILDLOCK_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix")
  set(CMAKE_CROSSCOMPILING_EMULATOR
      env "WINEPREFIX=${BUILDLOCK_WINEPREFIX}" WINEDEBUG=-all "WINEDLLOVERRIDES=mscoree,mshtml="
      "${BUILDLOCK_WINE}")
endif()

# The private package prefix for the header-only libraries (see above).
set(buildlock_header_prefix "${CMAKE_BINARY_DIR}/mingw-header-only")
foreach(link IN ITEMS include/CLI include/nlohmann share/cmake/CLI11 share/cmake/nlohmann_json)
  if(EXISTS "/usr/${link}" AND NOT EXISTS "${buildlock_header_prefix}/${link}")
    get_filename_component(parent "${buildlock_header_prefix}/${link}" DIRECTORY)
    file(MAKE_DIRECTORY "${parent}")
    file(CREATE_LINK "/usr/${link}" "${buildlock_header_prefix}/${link}" SYMBOLIC)
  endif()
endforeach()
# libcurl's headers too (buildlock only includes them: it loads libcurl at run time). Debian keeps
# them under the host's multiarch folder; curl/system.h picks its types by compiler, not by host.
if(EXISTS "/usr/include/x86_64-linux-gnu/curl" AND NOT EXISTS "${buildlock_header_prefix}/include/curl")
  file(CREATE_LINK "/usr/include/x86_64-linux-gnu/curl" "${buildlock_header_prefix}/include/curl" SYMBOLIC)
endif()

set(CMAKE_FIND_ROOT_PATH "/usr/${buildlock_mingw_triple}" "${buildlock_header_prefix}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
