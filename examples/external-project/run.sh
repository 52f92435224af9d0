#!/bin/sh
# Example 3: two build trees build at the same time an ExternalProject that installs into one
# shared prefix; under the lock, exactly one installs and the other reuses the result.
# Options: see ../common.sh. Exit status 0 if the package was installed exactly once.
. "$(dirname "$0")/../common.sh"

prefix=$work/prefix
configure tree-a "-DSHARED_PREFIX=$prefix" -DBUILD_TREE_NAME=a -DOTHER_BUILD_TREE_NAME=b
configure tree-b "-DSHARED_PREFIX=$prefix" -DBUILD_TREE_NAME=b -DOTHER_BUILD_TREE_NAME=a
build tree-a &
build_a=$!
build tree-b &
build_b=$!
wait "$build_a" || { show_log "$work/tree-a.log"; fail "building tree-a"; }
wait "$build_b" || { show_log "$work/tree-b.log"; fail "building tree-b"; }

installs=$(wc -l <"$prefix/.installed/install-log" | tr -d ' ')
installer=$(cat "$prefix/.installed/greet-1.0")
echo "Two builds ran ExternalProject greet at the same time, installing into one prefix:"
echo "  build tree $installer installed it; the other said:"
reused=$(grep -h 'already installed' "$work/tree-a.log" "$work/tree-b.log") ||
  fail "no build reused the installed package"
echo "  $reused"
[ "$installs" -eq 1 ] || fail "the package was installed $installs times"
cmp -s "$example_dir/greet/greet.h" "$prefix/include/greet.h" || fail "the installed header differs"
echo "  installed exactly once, and intact"
