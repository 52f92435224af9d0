#!/bin/sh
# fake-ccache.sh LOG TREE COMPILER [ARG...]: what ccache is to a compile, without a cache: runs
# the compile, appending to LOG "start <ns> <id> <held>" before and "end <ns> <id> <held>" after
# it, where <id> names the tree and the object and <held> is buildlock's BUILDLOCK_HELD (empty
# when not run under buildlock).
set -eu
log=$1
tree=$2
shift 2
output=unknown
previous=
for argument in "$@"; do
  [ "$previous" = -o ] && output=$(basename "$argument")
  previous=$argument
done
id="$(basename "$tree"):$output"
echo "start $(date +%s%N) $id ${BUILDLOCK_HELD:-}" >>"$log"
"$@"
echo "end $(date +%s%N) $id ${BUILDLOCK_HELD:-}" >>"$log"
