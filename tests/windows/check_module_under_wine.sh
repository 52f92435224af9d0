#!/bin/sh
# The CMake module with the MinGW-w64 toolchain: configures module/ with Ninja, builds it (its
# step runs under buildlock.exe under Wine), and checks that the step ran and released its lock.
# usage: check_module_under_wine.sh SOURCE_DIR WORK_DIR TOOLCHAIN_FILE WINE_BUILDLOCK
set -eu
source_dir=$1 work=$2 toolchain=$3 buildlock=$4
rm -rf "$work"
mkdir -p "$work"
cmake -S "$source_dir/tests/windows/module" -B "$work/build" -G Ninja --toolchain "$toolchain" \
  -DBUILDLOCK_EXECUTABLE="$buildlock" -DBUILDLOCK_MODULE_DIR="$source_dir/cmake-modules" \
  -DLOCK_DIR="$work/locks" > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -v
tr -d '\r ' < "$work/build/wrapped.txt" | grep -qx wrapped || {
  echo "the wrapped step did not write wrapped.txt:"; cat "$work/build/wrapped.txt"; exit 1; }
# The step took its lock in LOCK_DIR and released it.
[ -d "$work/locks" ] || { echo "no lock directory $work/locks: the step ran without buildlock"; exit 1; }
status=$("$buildlock" status --json --dir "$work/locks")
echo "$status"
case "$status" in
*wine-step*) echo "lock wine-step still listed after the build"; exit 1 ;;
esac
