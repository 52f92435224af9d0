#!/bin/sh
# Example 1: two build trees of one project are built at the same time and store entries in one
# shared cache directory. Without a lock, entries are lost; with buildlock_wrap() every entry
# arrives, every time. Options: see ../common.sh. Exit status 0 if the locked builds were exact.
. "$(dirname "$0")/../common.sh"

steps=8
cache=$work/cache
configure tree-a "-DSHARED_CACHE_DIR=$cache" -DBUILD_TREE_NAME=a -DOTHER_BUILD_TREE_NAME=b \
  "-DSTEPS=$steps"
configure tree-b "-DSHARED_CACHE_DIR=$cache" -DBUILD_TREE_NAME=b -DOTHER_BUILD_TREE_NAME=a \
  "-DSTEPS=$steps"

count_lines() { # count_lines FILE: its number of lines, 0 if it does not exist
  if [ -e "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

expected=$((2 * steps))
for variant in unlocked locked; do
  build tree-a --target "store-$variant" &
  build_a=$!
  build tree-b --target "store-$variant" &
  build_b=$!
  wait "$build_a" || { show_log "$work/tree-a.log"; fail "building tree-a"; }
  wait "$build_b" || { show_log "$work/tree-b.log"; fail "building tree-b"; }
  entries=$(sort -u "$cache/$variant/index" | wc -l | tr -d ' ')
  overlaps=$(count_lines "$cache/$variant/overlaps")
  if [ "$variant" = unlocked ]; then
    echo "Without a lock: two builds stored $expected entries in the shared cache at the same time."
  else
    echo "With buildlock_wrap(... LOCK cache DIR <cache>/locks ...), the same two builds again:"
  fi
  echo "  the cache index lists $entries of $expected entries; $overlaps updates overlapped another"
done

[ "$entries" -eq "$expected" ] || fail "the locked builds lost $((expected - entries)) cache entries"
[ "$overlaps" -eq 0 ] || fail "$overlaps locked updates overlapped another"
echo "  every entry arrived and no update overlapped another: the lock serialised them."
