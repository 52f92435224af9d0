#!/bin/sh
# check_googletest.sh GENERATOR: two build trees of googletest/ build Debian's googletest sources
# and install them into one shared prefix at once. The first is killed with kill -9 (the whole
# build's process group) once its install step has installed and not yet recorded the install;
# the second, whose googletest is built by then, must finish, and a find_package(GTest) consumer
# must build and run against the prefix.
. "$(dirname "$0")/prelude.sh"
generator=$1
prefix=$work/prefix
mkfifo "$work/installed" "$work/installed.never" "$work/built"
configure "$generator" "$here/googletest" first "-DSHARED_PREFIX=$prefix" -DBUILD_TREE_NAME=first \
  "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DINSTALL_HOOK=$work/installed"
configure "$generator" "$here/googletest" second "-DSHARED_PREFIX=$prefix" -DBUILD_TREE_NAME=second \
  "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DBUILT_FIFO=$work/built"

# The first build, in a process group of its own (setsid runs cmake as its leader).
setsid "$CMAKE_COMMAND" --build "$work/first" --parallel 2 >"$work/first.log" 2>&1 &
first=$!
wait_for_line "$work/installed"
build second &
second=$!
wait_for_line "$work/built"
# Ninja runs each step in a process group of its own: the first tree's install step outlives this
# kill, notices (--die-with-parent) and frees the lock. With make it dies with the build and leaves
# its lock behind.
env kill -s KILL -- "-$first" # procps kill: dash's has no process groups
wait "$first" 2>/dev/null || true
wait "$second" || { show_log "$work/second.log"; fail "the second build failed"; }
[ "$(cat "$prefix/.installed/googletest")" = second ] || fail "the install was not completed by the second build"
[ -f "$prefix/include/gtest/gtest.h" ] || fail "no gtest.h in the prefix"

configure "$generator" "$here/googletest/consumer" consumer "-DCMAKE_PREFIX_PATH=$prefix"
grep -q "^GTest_DIR:PATH=$prefix/" "$work/consumer/CMakeCache.txt" ||
  fail "the consumer found another googletest: $(grep '^GTest_DIR' "$work/consumer/CMakeCache.txt")"
must_build consumer
"$work/consumer/uses_gtest" >"$work/uses_gtest.log" 2>&1 || { show_log "$work/uses_gtest.log"; fail "the test program failed"; }
grep -q '\[  PASSED  \] 1 test' "$work/uses_gtest.log" || fail "the test program did not run its test"
