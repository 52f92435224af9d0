#!/bin/sh
# record-run.sh FILE: a wrapped step that writes to FILE, one per line, the directory of the lock
# it holds, the working directory it runs in, and the arguments of the buildlock that runs it
# (its parent), separated by spaces.
set -eu
held=${BUILDLOCK_HELD:?not run under buildlock}
fd=${held##*,}
fd=${fd%%:*}
lock=$(readlink "/proc/$$/fd/$fd")
{
  dirname "$lock"
  pwd
  tr '\0' ' ' <"/proc/$PPID/cmdline"
  echo
} >"$1"
