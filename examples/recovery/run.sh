#!/bin/sh
# Example 2: a build is interrupted in the middle of a step that holds a lock, and the next build
# proceeds at once. Three interruptions:
#   1. kill -9 of every process of the build, as an OOM kill or a cancelled CI job does;
#   2. Ctrl+C (SIGINT to the build's process group, as the terminal sends it);
#   3. kill -9 of the build tool alone: its running steps live on (Ninja even runs each in its own
#      process group), and buildlock_wrap's default --die-with-parent stops them and frees the
#      lock.
# Options: see ../common.sh. Exit status 0 if every next build proceeded as described.
. "$(dirname "$0")/../common.sh"

cache=$work/cache
download=$cache/toolchain
configure tree "-DSHARED_CACHE_DIR=$cache"

# start_build: build the tree in a session of its own (so that it has its own process group,
# like a build started from a terminal) with a download that would take 10 minutes.
start_build() {
  rm -f "$download/downloading"
  BUILDLOCK_TRACE=$trace_file TOOLCHAIN_DOWNLOAD_SECONDS=600 setsid -w "$cmake" --build "$work/tree" --parallel 2 \
    >"$work/interrupted.log" 2>&1 &
  build_pid=$!
}

# wait_until_downloading: wait until the step holds the lock and is downloading; prints its pid.
wait_until_downloading() {
  waited=0
  while [ ! -e "$download/downloading" ]; do
    [ "$waited" -lt 3000 ] || { show_log "$work/interrupted.log"; fail "the step did not start"; }
    sleep 0.01
    waited=$((waited + 1))
  done
  cat "$download/downloading"
}

# descendants PID: PID and every process below it, deepest first (see below for why).
descendants() {
  ps -e -o pid= -o ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; depth = 0
                              while (q != root && q in parent && q > 1) { q = parent[q]; depth++ }
                              if (q == root) print depth, p } }' | sort -k1,1nr -k2,2n | cut -d' ' -f2
}

# freeze PID: SIGSTOP to PID and every process below it, again until no new one appears, so that
# nothing starts or ends while they are killed; prints them. (A process may start or end between
# listing and stopping: a single pass can miss one, and a vanished one makes kill fail.)
freeze() {
  frozen=""
  while :; do
    now=$(descendants "$1")
    kill -STOP $now 2>/dev/null || true
    [ "$now" = "$frozen" ] && break
    frozen=$now
  done
  echo $frozen
}

# next_build WHAT [TIMEOUT]: build again with a quick download. BUILDLOCK_TIMEOUT=0 (the default
# here) makes buildlock fail instead of waiting, so success proves that the lock was free or
# reclaimed on the spot.
next_build() { # next_build WHAT [TIMEOUT]
  start=$(date +%s%N)
  (
    export BUILDLOCK_TIMEOUT="${2:-0}" TOOLCHAIN_DOWNLOAD_SECONDS=0.2
    build tree
  ) || { show_log "$work/tree.log"; fail "the build after $1 did not proceed"; }
  end=$(date +%s%N)
  echo "  the next build got the lock and finished in $(((end - start) / 1000000)) ms"
  rm -f "$download/complete" "$work/tree/toolchain.stamp"
}

lock_files() { # the lock files in the lock directory, by name
  for file in "$cache/locks"/*.lock; do
    if [ -e "$file" ]; then basename "$file"; fi
  done
}

echo "1. kill -9 of every process of a build that holds the lock (OOM kill, cancelled CI job)"
start_build
step_pid=$(wait_until_downloading)
processes=$(freeze "$build_pid")
# Deepest first: killing a parent before its stopped children would orphan their process group
# (Ninja gives each step one of its own), and the kernel then sends an orphaned group with stopped
# members SIGHUP and SIGCONT (POSIX). buildlock would take that hangup as a Ctrl+C and release the
# lock cleanly before its SIGKILL came, which is not the crash this scenario is about. One at a
# time, and a pid that is gone by then is no error: a process that had exited before the freeze (a
# zombie, which SIGSTOP cannot hold) is reaped elsewhere once its killed parent's children are
# handed on, and kill's error for it would end this script (set -e).
for pid in $processes; do kill -KILL "$pid" 2>/dev/null || true; done
{ wait "$build_pid"; } 2>/dev/null || true
left_behind=$(lock_files)
echo "  killed $(echo $processes | wc -w) processes; left behind in the lock directory: $left_behind"
# The step held the lock when it was frozen; a SIGKILL leaves its lock file for the next build.
[ -n "$left_behind" ] || fail "the killed build left no lock file: it was not killed while holding the lock"
next_build "kill -9"
reclaimed=$(grep 'reclaimed stale lock' "$work/tree.log") ||
  fail "the next build did not say that it reclaimed the lock"
echo "  $reclaimed"

echo "2. Ctrl+C in the middle of the step"
start_build
step_pid=$(wait_until_downloading)
# The build's process group: that of the session leader, which setsid made the build itself.
session=$(ps -o sid= -p "$step_pid" | tr -d ' ')
env kill -s INT -- "-$session" # (dash's own kill cannot signal a group)
if wait "$build_pid"; then fail "the interrupted build succeeded"; fi
[ -z "$(lock_files)" ] || fail "Ctrl+C left the lock file $(lock_files) behind"
echo "  the interrupted step released its lock on the way out: no lock file left behind"
next_build "Ctrl+C"

echo "3. kill -9 of the build tool alone (cmake --build and $generator): its running step is not killed"
start_build
step_pid=$(wait_until_downloading)
tool_pids=$(for pid in $(descendants "$build_pid"); do
  case $(ps -o comm= -p "$pid") in cmake | ninja | make | gmake) echo "$pid" ;; esac
done)
# A short-lived make (the `depend` pass of a sub-make) may have exited since it was listed.
for pid in $tool_pids; do kill -KILL "$pid" 2>/dev/null || true; done
{ wait "$build_pid"; } 2>/dev/null || true
# buildlock looks for its build every 200 ms; the next build waits for the lock (at most 10 s).
next_build "killing the build tool" 10
if kill -0 "$step_pid" 2>/dev/null; then fail "the orphaned step (pid $step_pid) still runs"; fi
echo "  the orphaned step (pid $step_pid) was stopped: buildlock saw that its build was gone"
