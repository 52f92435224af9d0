#!/bin/sh
# abandoned_claim.sh BUILDLOCK BUILDLOCK_CHAOS HOLDER WORK_DIR: the leftovers checker of the chaos
# test must accept what a reclaimer killed with SIGKILL between its `link` and its `unlink` leaves
# (issue 20): a stale lock without kernel locks (`kernel_lock: false`) and, beside it, the claim
# `.NAME.<inode>.claim`, a second hard link to it (docs/protocol.md, "Reclaim"). The first
# `clean` must leave that lock alone (someone holds its claim), the age rule then removes claim
# and lock. The checker called that lock "left after clean" until it knew this outcome.
set -eu
buildlock=$1 chaos=$2 holder=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
locks=$work/locks

# A holder without kernel locks, killed with its command: its lock names a dead pid.
setsid "$buildlock" run --dir "$locks" --kernel-locks off chaos -- \
  sh -c 'echo $$ >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 600' sh "$work/inside" &
wrapper=$!
until [ -e "$work/inside" ]; do
  kill -0 "$wrapper" 2>/dev/null || { echo "abandoned_claim.sh: buildlock run ended early" >&2; exit 1; }
  sleep 0.01
done
command=$(cat "$work/inside")
kill -9 "-$wrapper" "-$command" # buildlock's group, and its command's (a group of its own)
wait "$wrapper" 2>/dev/null || true
# The command is no child of ours: wait until it is gone (or a zombie), as /proc shows it.
while [ -e "/proc/$command" ] && [ "$(cut -d' ' -f3 "/proc/$command/stat" 2>/dev/null)" != Z ]; do
  sleep 0.01
done
grep -q '"kernel_lock":false' "$locks/chaos.lock"

# The reclaimer's step 1, and then its death: the claim stays.
inode=$(stat -c %i "$locks/chaos.lock")
ln "$locks/chaos.lock" "$locks/$(printf '.chaos.%016x.claim' "$inode")"
ls -la "$locks"

"$chaos" --buildlock "$buildlock" --holder "$holder" --work-dir "$work/check" \
  --check-leftovers-of "$locks"
