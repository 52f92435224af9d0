#!/bin/sh
# check_launchers.sh GENERATOR: the facts docs/cmake.md gives for relying on RULE_LAUNCH_LINK, on
# this CMake: RULE_LAUNCH_LINK reaches every link step (executable, shared and module library,
# static archive); <LANG>_LINKER_LAUNCHER reaches the first three only; the archive rules with a
# launcher in front reach the archive. If a CMake release changes one of these, this test says so,
# and docs/cmake.md ("Why RULE_LAUNCH_LINK") needs another look.
. "$(dirname "$0")/prelude.sh"
generator=$1
configure "$generator" "$here/launchers" tree
must_build tree
seen() {
  sort -u "$work/tree/$1.log" | tr '\n' ' '
}
for output in app libarchive.a libmodule.so libshared.so; do
  grep -qx "$output" "$work/tree/rule-launch-link.log" || fail "RULE_LAUNCH_LINK did not reach $output: $(seen rule-launch-link)"
done
[ "$(seen linker-launcher)" = "app libmodule.so libshared.so " ] ||
  fail "C_LINKER_LAUNCHER reached: $(seen linker-launcher) (expected app libmodule.so libshared.so)"
[ "$(seen archive-rules)" = "libarchive.a ranlib libarchive.a " ] ||
  fail "the archive rules reached: $(seen archive-rules) (expected libarchive.a, ranlib libarchive.a)"
