#!/bin/sh
# check_cross.sh GENERATOR: cross/ embeds buildlock (FetchContent) in a Windows program built with
# a MinGW-w64 toolchain file that finds packages in the MinGW sysroot only
# (CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY), and names the build machine's buildlock with
# BUILDLOCK_EXECUTABLE. Configuring must not look for buildlock's own dependencies (none of them is
# in that sysroot), the build must build nothing of buildlock, and the links and the wrapped step
# must run under the given buildlock. Without BUILDLOCK_EXECUTABLE, configuring stops with an error
# that names it. With Ninja, the same with the repository's own MinGW toolchain file, which does
# find CLI11 and nlohmann_json: still nothing of buildlock in the build.
. "$(dirname "$0")/prelude.sh"
generator=$1
log=$work/links.log
command -v x86_64-w64-mingw32-gcc-posix >/dev/null || fail "x86_64-w64-mingw32-gcc-posix is not installed (gcc-mingw-w64-x86-64-posix)"
configure "$generator" "$here/cross" tree --toolchain "$here/cross/mingw-w64.cmake" \
  "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" "-DBUILDLOCK_EXECUTABLE=$buildlock" \
  "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DLINK_LOG=$log"
tree=$work/tree
grep -E '^(CLI11_DIR|nlohmann_json_DIR|BUILDLOCK_CURL_INCLUDE_DIR|BUILDLOCK_LINKAGE)[:=]' "$tree/CMakeCache.txt" &&
  fail "configuring looked for buildlock's own dependencies (above)"
must_build tree
grep -rl -e buildlock_core -e 'buildlock\.dir' "$tree" --include=build.ninja --include='*.make' --include=Makefile &&
  fail "the build has targets of buildlock (files above)"
[ "$(head -c 2 "$tree/app.exe")" = MZ ] || fail "app.exe is not a Windows program"
grep -q "^[0-9]*:[0-9]*:[0-9]*$" "$tree/step.txt" || fail "the wrapped step did not run under buildlock: $(cat "$tree/step.txt")"
for output in app.exe libshared.dll; do # (the archive: not through the project's linker launcher)
  grep -q "^start [0-9]* tree:[0-9]*:$output $work/locks/links.lock" "$log" ||
    { show_log "$log"; fail "the link of $output did not run under the lock links"; }
done
[ "$(cat "$tree/CMakeFiles/buildlock/buildlock-executable.txt")" = "$buildlock" ] ||
  fail "the link launcher does not run $buildlock"

# Without BUILDLOCK_EXECUTABLE: a clear error, not a search for CLI11 in the MinGW sysroot.
if "$CMAKE_COMMAND" -S "$here/cross" -B "$work/no-executable" -G "$generator" \
  --toolchain "$here/cross/mingw-w64.cmake" "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" \
  >"$work/no-executable.log" 2>&1; then
  fail "configuring went on without BUILDLOCK_EXECUTABLE"
fi
flattened=$(tr -s ' \n' '  ' <"$work/no-executable.log")
case $flattened in
*"CMake Error"*"set BUILDLOCK_EXECUTABLE to a buildlock built for this machine"*) ;;
*) show_log "$work/no-executable.log"; fail "the error does not name BUILDLOCK_EXECUTABLE" ;;
esac

if [ "$generator" = Ninja ]; then
  configure Ninja "$here/cross" repo-toolchain --toolchain "$BUILDLOCK_SOURCE_DIR/tool/toolchains/mingw-w64-x86_64.cmake" \
    "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" "-DBUILDLOCK_EXECUTABLE=$buildlock" \
    "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DLINK_LOG=$log"
  ninja -C "$work/repo-toolchain" -n >"$work/dry-run.log" 2>&1 || { show_log "$work/dry-run.log"; fail "ninja -n"; }
  grep -e 'buildlock_core' -e 'tool/buildlock' "$work/dry-run.log" &&
    fail "with the repository's toolchain file, the build would build buildlock (above)"
fi
true
