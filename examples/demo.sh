#!/bin/sh
# The buildlock demo (`cmake --workflow --preset demo`): example 1, two builds sharing a cache at
# the same time; then example 2, builds interrupted while they hold the lock, and the next build
# proceeding at once. Options: those of the examples' run.sh (see common.sh).
. "$(dirname "$0")/common.sh"

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
echo "Build trees and logs: $work"
