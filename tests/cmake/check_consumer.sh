#!/bin/sh
# check_consumer.sh VIA GENERATOR: configure and build the consumer project, reaching buildlock
# by VIA (package, subdirectory or fetchcontent), and check what its wrapped commands saw.
. "$(dirname "$0")/prelude.sh"
via=$1
generator=$2
locks=$work/locks
tree=$work/tree

configure "$generator" "$here/consumer" tree "-DBUILDLOCK_VIA=$via" \
  "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" "-DBUILDLOCK_LOCK_DIR=$locks"
# From a clean tree: with subdirectory and fetchcontent, buildlock itself must be built first.
must_build tree
(cd "$tree" && "$CTEST_COMMAND" --output-on-failure) >"$work/ctest.log" 2>&1 ||
  { show_log "$work/ctest.log"; fail "the wrapped test failed"; }

# Byte-exact arguments in every place a wrapped command can go.
for dump in custom-command-1 custom-command-2 custom-target test external-project shared slots; do
  cmp "$tree/expected-arguments.txt" "$tree/$dump.txt" ||
    fail "$dump: the command did not get the arguments it was given (hex, one a line)"
done
cmp "$tree/expected-external-project-logged.txt" "$tree/external-project-logged.txt" ||
  fail "ExternalProject with LOG_BUILD: wrong arguments"
cmp "$tree/expected-generator-expressions.txt" "$tree/generator-expressions.txt" ||
  fail "generator expressions in arguments were not evaluated as in a custom command"

# Three commands of one buildlock_wrap(): one buildlock, one hold, in the lock directory given
# by BUILDLOCK_LOCK_DIR.
[ "$(wc -l <"$tree/hold.txt")" -eq 3 ] || fail "hold.txt: expected 3 records, got: $(cat "$tree/hold.txt")"
[ "$(sort -u "$tree/hold.txt" | wc -l)" -eq 1 ] ||
  fail "the commands of one buildlock_wrap() ran under different holds: $(cat "$tree/hold.txt")"
[ "$(cut -d' ' -f3 "$tree/hold.txt" | head -n 1)" = "$locks" ] ||
  fail "the lock was not in BUILDLOCK_LOCK_DIR $locks: $(cat "$tree/hold.txt")"

# SHARED and SLOTS reach buildlock: on the command line, and as the kind of holder file that was in
# the lock directory while the wrapped command ran.
command_lines=$(grep -rh --include=build.ninja --include=build.make -e ' run --dir ' "$tree")
echo "$command_lines" | grep -q -- " run --dir $locks --shared --die-with-parent readers -- " ||
  fail "no \`run --dir $locks --shared --die-with-parent readers --\` command line"
echo "$command_lines" | grep -q -- " run --dir $locks --slots 3 --die-with-parent counted -- " ||
  fail "no \`run --dir $locks --slots 3 --die-with-parent counted --\` command line"
grep -q '^readers\.lock+shared\.[0-9a-f]\{16\}$' "$tree/shared-locks.txt" ||
  fail "SHARED: no shared holder's file in the lock directory: $(cat "$tree/shared-locks.txt")"
grep -q '^counted\.lock+slot\.[1-3]$' "$tree/slots-locks.txt" ||
  fail "SLOTS 3: no slot holder's file in the lock directory: $(cat "$tree/slots-locks.txt")"

# buildlock_limit_links(): the link steps ran under their locks (limited_shared under the lock
# TARGETS gave it, limited_tool under its directory's, the others under ALL's), after buildlock
# was built where it is part of the build, and no other link step has the launcher: not
# buildlock's own, nor its libraries'.
for step in limited_app:links.lock liblimited_archive.a:links.lock \
  liblimited_shared.so:own-links.lock+slot. limited_tool:dir-links.lock; do
  grep -q "^start [0-9]* tree:[0-9]*:${step%%:*} $locks/${step#*:}" "$tree/links.log" ||
    { show_log "$tree/links.log"; fail "the link of ${step%%:*} did not run under $locks/${step#*:}"; }
done
launched=$(launched_targets "$tree" "$generator")
expected_launched="limited_app limited_archive limited_shared limited_tool "
[ "$launched" = "$expected_launched" ] ||
  fail "the link launcher is on these targets: $launched (expected $expected_launched)"
# Each lock's launcher passes its options; NO_DIE_WITH_PARENT drops --die-with-parent.
for launcher in links:"--die-with-parent links" own-links:"--slots 2 --die-with-parent own-links" \
  dir-links:"dir-links"; do
  expected="exec \"\$buildlock\" run --dir $locks ${launcher#*:} -- \"\$@\""
  [ "$(tail -n 1 "$tree/CMakeFiles/buildlock/link-${launcher%%:*}-"*.sh)" = "$expected" ] ||
    fail "the launcher of ${launcher%%:*} does not say: $expected"
done
# Ninja: a link pool as deep as each lock, unless the target had a pool of its own.
if [ "$generator" = Ninja ]; then
  for lock in links:1:2 own-links:2:1; do
    name=${lock%%:*} depth=${lock#*:} depth=${depth%:*} users=${lock##*:}
    pool=$(sed -n "s/^pool \(buildlock-links-$name-[0-9a-f]*\)\$/\1/p" "$tree/CMakeFiles/rules.ninja")
    grep -A1 "^pool $pool\$" "$tree/CMakeFiles/rules.ninja" | grep -q "^ *depth = $depth\$" ||
      fail "no link pool of depth $depth for the lock $name"
    [ "$(grep -c "^ *pool = $pool\$" "$tree/build.ninja")" -eq "$users" ] ||
      fail "pool $pool does not hold the $users links on $name"
  done
  grep -A8 '^build limited/limited_tool:' "$tree/build.ninja" | grep -q '^ *pool = own_pool$' ||
    fail "limited_tool lost its own link pool"
fi

# The commands stop at the first failure, and the build fails.
if build tree --target stops_at_first_failure; then fail "a failing wrapped command did not fail the build"; fi
[ ! -e "$tree/ran-after-failure.txt" ] || fail "the command after a failing one ran"

# STALE_AFTER and TIMEOUT reach buildlock.
: >"$locks/aged.lock"
touch -d '1 minute ago' "$locks/aged.lock"
if build tree --target stale_after_default; then
  fail "TIMEOUT 0: a lock file of one minute was reclaimed with the default --stale-after"
fi
grep -q 'timed out' "$work/tree.log" || { show_log "$work/tree.log"; fail "TIMEOUT 0 did not time out"; }
must_build tree --target stale_after_30
grep -q 'reclaimed stale lock `aged`' "$work/tree.log" ||
  { show_log "$work/tree.log"; fail "STALE_AFTER 30 + VERBOSE: no reclaim message"; }

# QUIET and NO_DIE_WITH_PARENT as buildlock options; --die-with-parent by default.
quiet_line=$(echo "$command_lines" | grep -- '--quiet quiet --') || fail "no \`--quiet quiet --\` command line"
case $quiet_line in *--die-with-parent*) fail "NO_DIE_WITH_PARENT still passes --die-with-parent" ;; esac
echo "$command_lines" | grep -q -- '--die-with-parent --sequence 2,2,2 hold --' ||
  fail "the default command line lacks --die-with-parent"

# Ninja: the pool exists once, with depth 1, and holds both pooled commands.
if [ "$generator" = Ninja ]; then
  pool=$(cat "$tree/pool-name.txt")
  rules=$tree/CMakeFiles/rules.ninja
  [ "$(grep -c "^pool $pool\$" "$rules")" -eq 1 ] || fail "pool $pool not defined once"
  grep -A1 "^pool $pool\$" "$rules" | grep -q '^ *depth = 1$' || fail "pool $pool: depth is not 1"
  [ "$(grep -c "^ *pool = $pool\$" "$tree/build.ninja")" -eq 2 ] ||
    fail "the two pooled commands are not in pool $pool"
fi
