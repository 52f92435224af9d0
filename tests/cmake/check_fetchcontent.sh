#!/bin/sh
# check_fetchcontent.sh: FetchContent of the buildlock source tree (a local path, no network)
# gives the consumer an in-tree buildlock that is built before any wrapped step or limited link.
# FetchContent ends in add_subdirectory(), which cmake.consumer.subdirectory.* builds and runs in
# full; this test stops at a dry run so as not to compile buildlock a third time.
. "$(dirname "$0")/prelude.sh"
configure Ninja "$here/consumer" tree -DBUILDLOCK_VIA=fetchcontent \
  "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" "-DBUILDLOCK_LOCK_DIR=$work/locks"
in_tree=$work/tree/_deps/buildlock-build/tool/buildlock
ninja -C "$work/tree" -n consumer >"$work/dry-run.log" 2>&1 || { show_log "$work/dry-run.log"; fail "ninja -n"; }
link=$(grep -n 'Linking CXX executable _deps/buildlock-build/tool/buildlock$' "$work/dry-run.log" | cut -d: -f1)
first_step=$(grep -n 'Generating ' "$work/dry-run.log" | head -n 1 | cut -d: -f1)
[ -n "$link" ] || { show_log "$work/dry-run.log"; fail "the build would not link the fetched buildlock"; }
if [ -z "$first_step" ] || [ "$link" -gt "$first_step" ]; then
  show_log "$work/dry-run.log"
  fail "a wrapped step would run before buildlock is linked"
fi
grep -q "&& $in_tree run --dir " "$work/tree/build.ninja" || fail "the wrapped steps do not run $in_tree"
# Link steps under buildlock_limit_links() run buildlock too: they come after it as well.
ninja -C "$work/tree" -n limited_app >"$work/dry-run-links.log" 2>&1 ||
  { show_log "$work/dry-run-links.log"; fail "ninja -n limited_app"; }
link=$(grep -n 'Linking CXX executable _deps/buildlock-build/tool/buildlock$' "$work/dry-run-links.log" | cut -d: -f1)
first_limited=$(grep -n 'Linking C ' "$work/dry-run-links.log" | head -n 1 | cut -d: -f1)
if [ -z "$link" ] || [ -z "$first_limited" ] || [ "$link" -gt "$first_limited" ]; then
  show_log "$work/dry-run-links.log"
  fail "a limited link step would run before buildlock is linked"
fi
