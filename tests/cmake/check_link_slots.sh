#!/bin/sh
# check_link_slots.sh GENERATOR: two build trees of links/, started together and meeting at a gate
# before their first link, each link several executables, a shared library, a module and a static
# archive under buildlock_limit_links(LOCK links SLOTS 1 ALL). The start and end times that every
# link step logged inside the lock must never overlap, and every step must have logged them.
. "$(dirname "$0")/prelude.sh"
generator=$1
locks=$work/locks
log=$work/links.log
mkfifo "$work/gate"
for tree in first second; do
  role="write"
  [ "$tree" = second ] && role="read"
  configure "$generator" "$here/links" $tree "-DBUILDLOCK_LOCK_DIR=$locks" "-DLINK_LOG=$log" \
    "-DGATE_FIFO=$work/gate" "-DGATE_ROLE=$role"
done

build_both first second

# Every link step of both trees logged, inside the lock `links` (the anchor or one of its slots).
for tree in first second; do
  for output in app1 app2 app3 libshared.so libmodule.so libarchive.a; do
    [ "$(grep -c "^start [0-9]* $tree:[0-9]*:$output " "$log")" -eq 1 ] ||
      { show_log "$log"; fail "$tree: no single record of the link of $output"; }
  done
done
awk -v locks="$locks" '{ lock = $0; for (i = 0; i < 3; i++) sub(/^[^ ]* /, "", lock) }
  index(lock, locks "/links.lock") != 1 { bad = 1; print } END { exit bad }' "$log" >"$work/other-locks.txt" ||
  { show_log "$work/other-locks.txt"; fail "steps held another lock"; }
# Never two at once.
check_never_overlap "$log" "link steps"

# The launcher runs buildlock with these options, and with Ninja the links of a build share a pool
# as deep as the lock.
launcher=$(ls "$work/first/CMakeFiles/buildlock/"link-links-*.sh)
expected="exec \"\$buildlock\" run --dir $locks --slots 1 --die-with-parent links -- \"\$@\""
[ "$(tail -n 1 "$launcher")" = "$expected" ] || fail "$launcher: expected: $expected"
if [ "$generator" = Ninja ]; then
  pool=$(sed -n 's/^pool \(buildlock-links-links-.*\)$/\1/p' "$work/first/CMakeFiles/rules.ninja")
  [ -n "$pool" ] || fail "no pool for the links"
  grep -A1 "^pool $pool\$" "$work/first/CMakeFiles/rules.ninja" | grep -q '^ *depth = 1$' ||
    fail "pool $pool: depth is not 1"
  [ "$(grep -c "^ *pool = $pool\$" "$work/first/build.ninja")" -eq 6 ] || fail "not all 6 links are in pool $pool"
fi
