#!/bin/sh
# check_error.sh CASE MESSAGE [GENERATOR [TREE]]: configuring errors/ with CASE into $work/TREE
# (default: tree) with GENERATOR (default: Ninja) must fail with a CMake error that contains
# MESSAGE (line breaks and indentation of CMake's message layout are ignored).
. "$(dirname "$0")/prelude.sh"
if "$CMAKE_COMMAND" -S "$here/errors" -B "$work/${4:-tree}" -G "${3:-Ninja}" "-DCASE=$1" \
  "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" >"$work/configure.log" 2>&1; then
  show_log "$work/configure.log"
  fail "configuration went on"
fi
flattened=$(tr -s ' \n' '  ' <"$work/configure.log")
case $flattened in
*"CMake Error"*"$2"*) ;;
*) show_log "$work/configure.log"; fail "the error does not say: $2" ;;
esac
