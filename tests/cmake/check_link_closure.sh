#!/bin/sh
# check_link_closure.sh: closure/ provides buildlock's CLI11 as a static library of its own and
# limits ALL its links. Configuring must not form a dependency cycle, and neither buildlock nor the
# CLI11 it links may carry the launcher; the project's own program does.
. "$(dirname "$0")/prelude.sh"
configure Ninja "$here/closure" tree "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" "-DBUILDLOCK_LOCK_DIR=$work/locks"
launched=$(launched_targets "$work/tree" Ninja)
[ "$launched" = "app " ] || fail "the link launcher is on: $launched (expected: app)"
grep -q '^build _deps/cli11-build/libCLI11.a:' "$work/tree/build.ninja" || fail "the fake CLI11 is not built here"
