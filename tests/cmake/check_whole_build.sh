#!/bin/sh
# check_whole_build.sh GENERATOR: `buildlock run LOCK -- cmake --build DIR` holds LOCK for the
# whole build; the build's own steps wrapped on the same lock run inside it without waiting
# (nesting), while another build's steps on that lock wait.
. "$(dirname "$0")/prelude.sh"
generator=$1
locks=$work/locks
mkfifo "$work/inside" "$work/release"
configure "$generator" "$here/holder" whole "-DBUILDLOCK_LOCK_DIR=$locks" \
  "-DHOLD_INSIDE=$work/inside" "-DHOLD_RELEASE=$work/release"
configure "$generator" "$here/holder" other "-DBUILDLOCK_LOCK_DIR=$locks"

# BUILDLOCK_TIMEOUT=0 everywhere: any step that had to wait fails at once instead of hanging.
export BUILDLOCK_TIMEOUT=0
"$buildlock" run --dir "$locks" shared -- "$CMAKE_COMMAND" --build "$work/whole" --target hold \
  >"$work/whole.log" 2>&1 &
whole_build=$!
wait_for_line "$work/inside"

if build other --target quick; then fail "another build's step ran while a whole build held the lock"; fi
grep -q 'timed out' "$work/other.log" || { show_log "$work/other.log"; fail "no timeout message"; }

timeout 60 sh -c 'echo go >"$1"' sh "$work/release" || fail "the hold step no longer listens"
wait "$whole_build" || { show_log "$work/whole.log"; fail "the whole build failed: its step waited for its own lock?"; }
[ "$(cut -d' ' -f3 "$work/whole/hold.txt")" = "$locks" ] || fail "the nested step's lock is not in $locks"
must_build other --target quick
