# Sourced by every tests/cmake driver. Gives strict mode, a private work directory (removed if
# the test passes, kept for a look if it fails) and helpers to configure and build projects.
#
# Environment (set by tests/cmake/CMakeLists.txt): CMAKE_COMMAND, CTEST_COMMAND,
# BUILDLOCK_SOURCE_DIR, BUILDLOCK_PREFIX (the package installed by cmake.package.install),
# BUILDLOCK_TEST_WORK (parent of the work directories), TEST_NAME.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$BUILDLOCK_TEST_WORK/$TEST_NAME
rm -rf "$work"
mkdir -p "$work"
buildlock=$BUILDLOCK_PREFIX/bin/buildlock
# The nested builds are builds of their own, and must not touch the user's cache directory.
unset MAKEFLAGS MFLAGS MAKELEVEL BUILDLOCK_DIR BUILDLOCK_TIMEOUT BUILDLOCK_STALE_AFTER BUILDLOCK_HELD
export XDG_CACHE_HOME="$work/xdg-cache"

cleanup_on_success() {
  status=$?
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "(work directory kept: $work)" >&2
  fi
}
trap cleanup_on_success EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

show_log() {
  sed 's/^/    | /' "$1" >&2
}

# configure GENERATOR SOURCE TREE [CMAKE_ARGS...]: configure into $work/TREE, or fail with the log.
configure() {
  local generator="$1" source="$2" tree="$3"
  shift 3
  "$CMAKE_COMMAND" -S "$source" -B "$work/$tree" -G "$generator" \
    "-DCMAKE_PREFIX_PATH=$BUILDLOCK_PREFIX" "$@" >"$work/$tree.configure.log" 2>&1 ||
    { show_log "$work/$tree.configure.log"; fail "configuring $tree"; }
}

# build TREE [ARGS...]: build $work/TREE with output in $work/TREE.log; returns the build's status.
build() {
  local tree="$1"
  shift
  "$CMAKE_COMMAND" --build "$work/$tree" --parallel 2 "$@" >"$work/$tree.log" 2>&1
}

# must_build TREE [ARGS...]: build, or fail with the log.
must_build() {
  build "$@" || { show_log "$work/$1.log"; fail "building $1 $*"; }
}

# wait_for_line FIFO: wait (at most 60 s) until a process writes a line into FIFO.
wait_for_line() {
  timeout 60 sh -c 'read -r line <"$1"' sh "$1" || fail "nothing arrived on $1 within 60 s"
}
