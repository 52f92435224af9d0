#!/bin/sh
# record-hold.sh FILE: append "<pid of buildlock> <BUILDLOCK_HELD> <lock directory>" to FILE. The
# lock directory is that of the lock descriptor buildlock passed down (last of BUILDLOCK_HELD).
set -eu
held=${BUILDLOCK_HELD:?not run under buildlock}
fd=${held##*,}
fd=${fd%%:*}
lock=$(readlink "/proc/$$/fd/$fd")
echo "$PPID $held $(dirname "$lock")" >>"$1"
