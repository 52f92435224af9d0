#!/bin/sh
# check_launcher.sh GENERATOR: two build trees of launcher/, started together and meeting at a
# gate before their first compile, each compile 6 translation units with -j2 under
# buildlock_launcher(LOCK compiles SLOTS 1) chained before a stand-in ccache. The stand-in must
# have run every compile, inside buildlock, and no two compiles may ever overlap.
. "$(dirname "$0")/prelude.sh"
generator=$1
log=$work/compiles.log
mkfifo "$work/gate"
for tree in first second; do
  role="write"
  [ "$tree" = second ] && role="read"
  configure "$generator" "$here/launcher" $tree "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DCOMPILE_LOG=$log" \
    "-DGATE_FIFO=$work/gate" "-DGATE_ROLE=$role"
done
build first &
first=$!
build second &
second=$!
first_status=0
wait "$first" || first_status=$?
wait "$second" || { show_log "$work/second.log"; fail "the second build failed"; }
[ "$first_status" -eq 0 ] || { show_log "$work/first.log"; fail "the first build failed"; }

for tree in first second; do
  for unit in 1 2 3 4 5 6; do
    [ "$(grep -c "^start [0-9]* $tree:unit$unit\.c\.o [0-9]" "$log")" -eq 1 ] ||
      { show_log "$log"; fail "$tree: no single record, under buildlock, of the compile of unit$unit.c"; }
  done
done
[ "$(grep -c '^start ' "$log")" -eq "$(grep -c '^end ' "$log")" ] || { show_log "$log"; fail "a compile did not end"; }
sort -k2,2n -k1,1 "$log" | awk '
  $1 == "start" { inside++; if (inside > 1) { print "overlap at " $0; bad = 1 } }
  $1 == "end" { inside-- }
  END { exit bad }' >"$work/overlaps.txt" || { show_log "$log"; fail "compiles overlapped: $(cat "$work/overlaps.txt")"; }
