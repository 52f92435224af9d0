#!/bin/sh
# wait-for-other-build.sh DIR THIS_TREE OTHER_TREE: say in DIR that THIS_TREE has started, then wait
# (at most 60 s) until OTHER_TREE has too. Without OTHER_TREE, return at once.
# The examples use it only so that their two builds surely overlap, however the machine
# schedules them.
set -eu
dir=$1
mkdir -p "$dir/started"
: >"$dir/started/$2"
[ -n "${3-}" ] || exit 0
waited=0
while [ ! -e "$dir/started/$3" ]; do
  if [ "$waited" -ge 6000 ]; then
    echo "wait-for-other-build.sh: build tree $3 did not start within 60 s" >&2
    exit 1
  fi
  sleep 0.01
  waited=$((waited + 1))
done
