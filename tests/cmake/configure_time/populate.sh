#!/bin/sh
# populate.sh DIR LOG [INSIDE]: fills DIR with file1.txt..file3.txt one by one (as a download or a
# clone would: not atomically), then writes DIR/complete; does nothing if DIR/complete exists.
# Appends "start <ns> <pid>" and "end <ns> <pid> <reused|populated>" to LOG. With INSIDE (a FIFO),
# writes a line to it after the second file and then blocks for good, to be killed there.
set -eu
dir=$1
log=$2
inside=${3:-}
echo "start $(date +%s%N) $$" >>"$log"
if [ -e "$dir/complete" ]; then
  echo "end $(date +%s%N) $$ reused" >>"$log"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
for file in 1 2 3; do
  echo "content $file" >"$dir/file$file.txt"
  if [ "$file" = 2 ] && [ -n "$inside" ]; then
    echo inside >"$inside"
    read -r never <"$inside.never" # a FIFO that no one writes to
  fi
done
: >"$dir/complete"
echo "end $(date +%s%N) $$ populated" >>"$log"
