#!/bin/sh
# check_docs_recipes.sh: two recipes of the CMake docs that were wrong stay fixed.
# - Every `buildlock run` around a whole build names its lock directory with --dir. Without it,
#   buildlock picks its own default (BUILDLOCK_DIR, XDG_CACHE_HOME), which need not be the
#   directory the build's steps were configured with: the two holds would be different locks.
# - No recipe shares FETCHCONTENT_BASE_DIR between build trees: it holds <name>-build and
#   <name>-subbuild too, so trees would share build folders, which no lock can make right.
. "$(dirname "$0")/prelude.sh"
for doc in docs/cmake.md docs/sharing-a-cache.md docs/man/buildlock-cmake.7; do
  # roff writes - as \-
  sed 's/\\-/-/g' "$BUILDLOCK_SOURCE_DIR/$doc" >"$work/doc.txt"
  grep -n 'buildlock run .*cmake --build' "$work/doc.txt" | grep -v -e '--dir' >"$work/missing.txt" &&
    { show_log "$work/missing.txt"; fail "$doc: a whole build under buildlock run without --dir"; }
  grep -n -e '-DFETCHCONTENT_BASE_DIR=' "$work/doc.txt" >"$work/shared-base.txt" &&
    { show_log "$work/shared-base.txt"; fail "$doc: a recipe sets FETCHCONTENT_BASE_DIR"; }
done
true
