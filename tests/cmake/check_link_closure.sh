#!/bin/sh
# check_link_closure.sh GENERATOR: closure/ provides buildlock's CLI11 as a static library of its
# own and limits ALL its links; the static library is CLI11::CLI11 itself, or linked by it inside a
# generator expression ($<BUILD_INTERFACE:...>, $<$<CONFIG:Release>:...>). Configuring must not
# form a dependency cycle, and neither buildlock nor the CLI11 it links may carry the launcher; the
# project's own program does.
. "$(dirname "$0")/prelude.sh"
generator=$1
for variant in plain:CLI11 build_interface:CLI11_compiled config:CLI11_compiled; do
  tree=${variant%%:*} library=${variant#*:}
  configure "$generator" "$here/closure" "$tree" "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" \
    "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DFAKE_CLI11_LINK=$tree" -DCMAKE_BUILD_TYPE=Release
  launched=$(launched_targets "$work/$tree" "$generator")
  [ "$launched" = "app " ] || fail "$tree: the link launcher is on: $launched (expected: app)"
  grep -rq "lib$library\.a" "$work/$tree" --include=build.ninja --include=build.make ||
    fail "$tree: the fake CLI11 ($library) is not built here"
done
