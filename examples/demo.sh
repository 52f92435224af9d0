#!/bin/sh
# The buildlock demo (`cmake --workflow --preset demo`): example 1, two builds sharing a cache at
# the same time; then example 2, builds interrupted while they hold the lock, and the next build
# proceeding at once. Both traced into one file, then reported: where did the builds wait?
# Options: those of the examples' run.sh (see common.sh). $BUILDLOCK_BINARY: the buildlock that
# writes the report (default: the one in PATH).
. "$(dirname "$0")/common.sh"

# Every build of both examples appends its waits and holds here (common.sh).
export BUILDLOCK_EXAMPLE_TRACE="$work/trace.json"

run_example() { # run_example NAME: run examples/NAME/run.sh with this script's options
  set -- "$example_dir/$1/run.sh" -G "$generator" --work "$work/$1"
  if [ -n "$package_dir" ]; then
    set -- "$@" --buildlock-dir "$package_dir"
  fi
  "$@"
}

echo "== Example 1 (examples/shared-cache): two build trees share one cache directory =="
run_example shared-cache
echo
echo "== Example 2 (examples/recovery): builds interrupted while they hold the lock =="
run_example recovery
echo
echo "== Where did the builds wait? (buildlock report; docs/where-does-my-build-wait.md) =="
buildlock=${BUILDLOCK_BINARY:-buildlock}
"$buildlock" report --svg "$work/trace.svg" "$work/trace.json" ||
  fail "buildlock report failed on the demo's trace"
echo
echo "Trace of every wait and hold: $work/trace.json (open it in https://ui.perfetto.dev)"
echo "Timeline: $work/trace.svg (open it in a browser)"
echo "Build trees and logs: $work"
