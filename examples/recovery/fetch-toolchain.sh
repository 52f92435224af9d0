#!/bin/sh
# fetch-toolchain.sh DIR: "download" a toolchain into the shared cache directory DIR, unless it
# is there already. The download takes $TOOLCHAIN_DOWNLOAD_SECONDS (default 2) seconds; while
# it runs, DIR/downloading holds this script's pid (run.sh waits for it, then interrupts).
set -eu
dir=$1
if [ -e "$dir/complete" ]; then
  echo "toolchain already in the cache"
  exit 0
fi
mkdir -p "$dir"
echo $$ >"$dir/downloading.tmp"
mv "$dir/downloading.tmp" "$dir/downloading"
tenths=$(awk -v s="${TOOLCHAIN_DOWNLOAD_SECONDS:-2}" 'BEGIN { printf "%d", s * 10 }')
while [ "$tenths" -gt 0 ]; do
  sleep 0.1
  tenths=$((tenths - 1))
done
rm "$dir/downloading"
: >"$dir/complete"
echo "toolchain downloaded"
