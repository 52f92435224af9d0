#!/bin/sh
# record-link.sh LOG TREE COMMAND [ARG...]: run a link step, appending to LOG before it
# "start <ns> <id> <lock>" and after it "end <ns> <id> <lock>", where <id> names the step and
# <lock> is the lock file buildlock holds for it: the file of the lock directory with the inode
# of BUILDLOCK_HELD's last FD:DEVICE:INODE (the descriptor's own path may be the temporary name
# the file was created under).
set -eu
log=$1
tree=$2
shift 2
held=${BUILDLOCK_HELD:?not run under buildlock}
held=${held##*,}
fd=${held%%:*}
inode=${held##*:}
path=$(readlink "/proc/$$/fd/$fd")
lock=$(find "$(dirname "${path% (deleted)}")" -maxdepth 1 -inum "$inode" | head -n 1)
# The step: what it writes (after -o, or the archive of `ar qc`), else the command's name.
output=$(basename "$1")
previous=
for argument in "$@"; do
  if [ "$previous" = -o ] || [ "$previous" = qc ]; then output=$(basename "$argument"); fi
  previous=$argument
done
id="$(basename "$tree"):$$:$output"
echo "start $(date +%s%N) $id $lock" >>"$log"
"$@"
echo "end $(date +%s%N) $id $lock" >>"$log"
