#!/bin/sh
# check_subproject.sh GENERATOR: subproject/ calls find_package(buildlock) and
# buildlock_limit_links(... ALL) in its subdirectory app/, a project of its own. Configuring must
# work (the limits, applied at the end of the top directory, need the imported target there), and
# the launcher must be on app's link steps only.
. "$(dirname "$0")/prelude.sh"
generator=$1
configure "$generator" "$here/subproject" tree "-DBUILDLOCK_LOCK_DIR=$work/locks"
tree=$work/tree
launched=$(launched_targets "$tree" "$generator")
expected="inside inside_archive inside_shared "
[ "$launched" = "$expected" ] || fail "the link launcher is on: $launched (expected: $expected)"
must_build tree
"$tree/outside" >/dev/null || fail "the super-build's own program does not run"
