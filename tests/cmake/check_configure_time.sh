#!/bin/sh
# check_configure_time.sh: two trees of configure_time/ configure at once, each populating one
# shared source directory under buildlock_execute_process(). The first is killed with kill -9 (its
# whole process group: cmake, buildlock, the populating script) halfway through populating, while
# the second waits for the lock. The second must reclaim the lock, populate the directory in full
# and configure; the directory must then hold exactly what one complete population writes.
. "$(dirname "$0")/prelude.sh"
sources=$work/shared-sources
log=$work/populate.log
locks=$work/locks
mkfifo "$work/inside" "$work/inside.never"
common="-DCMAKE_PREFIX_PATH=$BUILDLOCK_PREFIX -DBUILDLOCK_LOCK_DIR=$locks -DSHARED_SOURCES=$sources -DPOPULATE_LOG=$log"

# The first configure, in a process group of its own (setsid runs cmake as its leader).
# shellcheck disable=SC2086 # $common is a list of words
setsid "$CMAKE_COMMAND" -S "$here/configure_time" -B "$work/first" -G Ninja $common \
  "-DPOPULATE_INSIDE=$work/inside" >"$work/first.log" 2>&1 &
first=$!
wait_for_line "$work/inside"

# The second waits for the lock (buildlock says so after a second of waiting).
# shellcheck disable=SC2086
"$CMAKE_COMMAND" -S "$here/configure_time" -B "$work/second" -G Ninja $common \
  "-DPOPULATE_INSIDE=" >"$work/second.log" 2>&1 &
second=$!
deadline=$(($(date +%s) + 60))
until grep -q 'waiting for lock' "$work/second.log"; do
  [ "$(date +%s)" -lt "$deadline" ] || { show_log "$work/second.log"; fail "the second configure never waited"; }
  sleep 0.1
done
[ "$(grep -c '^start ' "$log")" -eq 1 ] || { show_log "$log"; fail "both configures populated at once"; }

env kill -s KILL -- "-$first" # procps kill: dash's has no process groups
wait "$first" 2>/dev/null || true
wait "$second" || { show_log "$work/second.log"; fail "the second configure failed"; }
grep -q 'reclaimed stale lock `sources`' "$work/second.log" || { show_log "$work/second.log"; fail "no reclaim message"; }
grep -q 'shared sources: content 3' "$work/second.log" || { show_log "$work/second.log"; fail "the second configure did not read the sources"; }
[ "$(grep -c ' populated$' "$log")" -eq 1 ] || { show_log "$log"; fail "not exactly one complete population"; }
[ "$(cd "$sources" && ls | tr '\n' ' ')" = "complete file1.txt file2.txt file3.txt " ] || fail "the shared directory holds: $(ls "$sources")"
for file in 1 2 3; do
  [ "$(cat "$sources/file$file.txt")" = "content $file" ] || fail "file$file.txt: $(cat "$sources/file$file.txt")"
done

# A third configure finds the directory complete and reuses it.
configure Ninja "$here/configure_time" third "-DBUILDLOCK_LOCK_DIR=$locks" "-DSHARED_SOURCES=$sources" "-DPOPULATE_LOG=$log"
[ "$(grep -c ' reused$' "$log")" -eq 1 ] || { show_log "$log"; fail "the third configure did not reuse the directory"; }
