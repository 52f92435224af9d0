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
build_both first second

for tree in first second; do
  for unit in 1 2 3 4 5 6; do
    [ "$(grep -c "^start [0-9]* $tree:unit$unit\.c\.o [0-9]" "$log")" -eq 1 ] ||
      { show_log "$log"; fail "$tree: no single record, under buildlock, of the compile of unit$unit.c"; }
  done
done
check_never_overlap "$log" compiles
