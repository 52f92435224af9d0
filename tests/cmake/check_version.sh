#!/bin/sh
# check_version.sh: which version requests the installed package (0.1.0) satisfies. A single
# version accepts its minor series (0.x minor releases may break the module's interface); a range
# accepts any version inside it, also across series (0.1...0.2, 0.1...<1.0).
. "$(dirname "$0")/prelude.sh"
version=$(sed -n 's/^project(buildlock VERSION \([0-9.]*\) .*/\1/p' "$BUILDLOCK_SOURCE_DIR/CMakeLists.txt")
[ "$version" = 0.1.0 ] || fail "this test's requests are written for 0.1.0, the project is $version"
index=0
while IFS='|' read -r request expected; do
  index=$((index + 1))
  configure Ninja "$here/version" "request-$index" "-DREQUEST=$request"
  if grep -q 'buildlock found: 0\.1\.0$' "$work/request-$index.configure.log"; then found=yes; else found=no; fi
  [ "$found" = "$expected" ] || { show_log "$work/request-$index.configure.log"; fail "find_package(buildlock $request): found $found, expected $expected"; }
done <<'CASES'
|yes
0.1|yes
0.1.0|yes
0.1.0;EXACT|yes
0.1;EXACT|yes
0.1...0.2|yes
0.1...<1.0|yes
0.0...0.1|yes
0.1.0...0.1.0|yes
0...<1|yes
0.2|no
0.0|no
0.1.1|no
1.0|no
0.0.9;EXACT|no
0.1.1...0.2|no
0.2...<1.0|no
0.0...<0.1|no
0.0...0.0.9|no
CASES
