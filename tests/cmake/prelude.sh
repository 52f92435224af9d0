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

# build_both FIRST SECOND: build the two trees at once; fail with the log of any that failed.
build_both() {
  build "$1" &
  local first_pid=$!
  build "$2" &
  local second_pid=$!
  local first_status=0
  wait "$first_pid" || first_status=$?
  wait "$second_pid" || { show_log "$work/$2.log"; fail "building $2 failed"; }
  [ "$first_status" -eq 0 ] || { show_log "$work/$1.log"; fail "building $1 failed"; }
}

# check_never_overlap LOG WHAT: LOG has "start <ns> ..." and "end <ns> ..." lines of steps; every
# step must have ended, and in time order (an end before a start logged in the same nanosecond)
# never more than one may be inside at once.
check_never_overlap() {
  [ "$(grep -c '^start ' "$1")" -eq "$(grep -c '^end ' "$1")" ] || { show_log "$1"; fail "a step of $2 did not end"; }
  sort -k2,2n -k1,1 "$1" | awk '
    $1 == "start" { inside++; if (inside > 1) { print "overlap at " $0; bad = 1 } }
    $1 == "end" { inside-- }
    END { exit bad }' >"$work/overlaps.txt" || { show_log "$1"; fail "$2 overlapped: $(cat "$work/overlaps.txt")"; }
}

# launched_targets TREE GENERATOR: the targets whose link rules carry a buildlock link launcher,
# sorted, on one line.
launched_targets() {
  if [ "$2" = Ninja ]; then
    grep -B1 'CMakeFiles/buildlock/link-' "$1/CMakeFiles/rules.ninja" |
      sed -n 's/^rule [A-Z]*_[A-Z_]*_LINKER__\(.*\)_[A-Za-z]*$/\1/p' | sort | tr '\n' ' '
  else
    grep -rl --include=link.txt 'CMakeFiles/buildlock/link-' "$1" |
      sed 's|.*/\([^/]*\)\.dir/link.txt$|\1|' | sort | tr '\n' ' '
  fi
}
