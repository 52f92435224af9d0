#!/bin/sh
# check_keep_running.sh GENERATOR: with NO_DIE_WITH_PARENT, a step whose build tool was killed
# runs on and keeps its lock until it ends. (The default, --die-with-parent, is checked by the
# recovery example.)
. "$(dirname "$0")/prelude.sh"
generator=$1
locks=$work/locks
mkfifo "$work/inside" "$work/release"
configure "$generator" "$here/holder" keep "-DBUILDLOCK_LOCK_DIR=$locks" -DHOLD_NO_DIE_WITH_PARENT=ON \
  "-DHOLD_INSIDE=$work/inside" "-DHOLD_RELEASE=$work/release"
configure "$generator" "$here/holder" other "-DBUILDLOCK_LOCK_DIR=$locks"

setsid -w "$CMAKE_COMMAND" --build "$work/keep" --target hold >"$work/keep.log" 2>&1 &
build_pid=$!
wait_for_line "$work/inside"
holder_pid=$(cut -d' ' -f1 "$work/keep/hold.txt")
# Kill the build tools of this build only: those in the session that setsid started.
session=$(ps -o sid= -p "$holder_pid" | tr -d ' ')
ps -e -o pid= -o sid= -o comm= | awk -v session="$session" '
  $2 == session && ($3 == "cmake" || $3 == "ninja" || $3 == "make" || $3 == "gmake") { print $1 }' |
  xargs kill -KILL
{ wait "$build_pid"; } 2>/dev/null || true

# With --die-with-parent, buildlock would see its build gone within 200 ms. Give it a second to
# (wrongly) act: the other build waits that long for the lock, and must not get it.
if (export BUILDLOCK_TIMEOUT=1 && build other --target quick); then fail "the kept step lost its lock"; fi
kill -0 "$holder_pid" 2>/dev/null || fail "buildlock (pid $holder_pid) stopped with its build"
timeout 60 sh -c 'echo go >"$1"' sh "$work/release" || fail "the kept step no longer listens"
(export BUILDLOCK_TIMEOUT=30 && must_build other --target quick)
