#!/bin/sh
# store-in-cache.sh CACHE ENTRY: add ENTRY to the index of the cache directory CACHE.
# Read the index, take a while (a real cache hashes and compresses here), write it back: the
# read-modify-write that loses entries when two writers overlap. The `writing` directory only
# detects such overlaps, to report them; it does not prevent them.
set -eu
cache=$1
entry=$2
mkdir -p "$cache"
if mkdir "$cache/writing" 2>/dev/null; then
  alone=yes
else
  alone=no
  echo "$entry" >>"$cache/overlaps"
fi
index=$(cat "$cache/index" 2>/dev/null || true)
sleep 0.05
printf '%s\n' "$index" "$entry" | sed '/^$/d' >"$cache/index.$$"
mv "$cache/index.$$" "$cache/index"
if [ "$alone" = yes ]; then
  rmdir "$cache/writing"
fi
