#!/bin/sh
# check_trace.sh GENERATOR: the module's BUILDLOCK_TRACE cache variable makes every wrapped step
# of a build append its wait and hold to that file, and `buildlock report` reads it back: two steps on the lock `traced`, each hold around
# the step's own start and end.
. "$(dirname "$0")/prelude.sh"
generator=$1
configure "$generator" "$here/trace" tree "-DBUILDLOCK_LOCK_DIR=$work/locks" \
  "-DBUILDLOCK_TRACE=$work/trace.json"
must_build tree
trace=$work/trace.json
[ -f "$trace" ] || fail "no trace at $trace"
[ "$(head -n 1 "$trace")" = "[" ] || { show_log "$trace"; fail "the trace does not start with ["; }
[ "$(grep -c '"cat":"buildlock.wait"' "$trace")" -eq 2 ] || { show_log "$trace"; fail "not 2 waits"; }
[ "$(grep -c '"cat":"buildlock.hold"' "$trace")" -eq 2 ] || { show_log "$trace"; fail "not 2 holds"; }
for step in first second; do
  line=$(grep '"cat":"buildlock.hold"' "$trace" | grep "tree/$step\"") ||
    { show_log "$trace"; fail "no hold of the step $step"; }
  ts=$(printf '%s\n' "$line" | sed 's/.*"ts":\([0-9]*\).*/\1/')
  dur=$(printf '%s\n' "$line" | sed 's/.*"dur":\([0-9]*\).*/\1/')
  start=$(($(cat "$work/tree/$step.start") / 1000))
  end=$(($(cat "$work/tree/$step.end") / 1000))
  [ "$ts" -le "$start" ] && [ $((ts + dur)) -ge "$end" ] ||
    fail "the hold of $step [$ts, $((ts + dur))] does not contain the step [$start, $end]"
done
"$buildlock" report --json "$trace" >"$work/report.json" || fail "report failed"
grep -q '"acquisitions": 2' "$work/report.json" || { show_log "$work/report.json"; fail "report"; }
