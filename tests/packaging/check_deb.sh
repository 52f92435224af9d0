#!/bin/sh
# check_deb.sh: `cpack -G DEB` builds a package with sane metadata and the expected files; unpacked
# into a scratch root it runs, its man page renders, and a project builds against it with
# find_package(buildlock CONFIG REQUIRED) and buildlock_wrap().
. "$(dirname "$0")/prelude.sh"
build_deb
version=$("$BUILDLOCK_BUILD_DIR/tool/buildlock" --version | sed 's/^buildlock //')

# Metadata.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = buildlock ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), the binary says $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = devel ] || fail "Section: $(field Section)"
field Maintainer | grep -qE '^[^<]+ <[^@ ]+@[^> ]+>$' || fail "Maintainer: $(field Maintainer)"
# Depends names the package of every shared library the binary really links (none for the default
# fully static build; libc6 and more with BUILDLOCK_LINKAGE=static-cxx or shared).
linked=$(ldd "$BUILDLOCK_BUILD_DIR/tool/buildlock" 2>/dev/null | awk '{print $1}')
while read -r soname package; do # package is a regular expression
  if printf '%s\n' "$linked" | grep -qxF "$soname"; then
    field Depends | grep -qE "(^|, )$package( |,|$)" || fail "Depends lacks $package: $(field Depends)"
  fi
done <<'LIBRARIES'
libc.so.6 libc6
libstdc++.so.6 libstdc\+\+6
LIBRARIES
[ "$(field Description | wc -l)" -ge 3 ] || fail "Description has no long text: $(field Description)"
dpkg-deb -I "$deb" >/dev/null || fail "dpkg-deb -I cannot read the package"

# Contents: what `cmake --install` installs, under /usr.
dpkg-deb -c "$deb" | awk '{print $6}' >"$work/contents.txt"
for file in ./usr/bin/buildlock ./usr/share/man/man1/buildlock.1.gz ./usr/share/man/man7/buildlock-cmake.7.gz \
  ./usr/share/bash-completion/completions/buildlock ./usr/share/zsh/vendor-completions/_buildlock \
  ./usr/share/fish/vendor_completions.d/buildlock.fish ./usr/share/doc/buildlock/README.md \
  ./usr/share/doc/buildlock/copyright ./usr/share/doc/buildlock/changelog.gz ./usr/share/doc/buildlock/LICENSE \
  ./usr/share/doc/buildlock/docs/README.md ./usr/share/doc/buildlock/docs/getting-started.md; do
  grep -qxF "$file" "$work/contents.txt" || fail "the package lacks $file"
done
for file in buildlockConfig.cmake buildlockConfigVersion.cmake buildlockTargets.cmake BuildLock.cmake; do
  grep -qE "^\./usr/lib/([^/]+/)?cmake/buildlock/$file\$" "$work/contents.txt" ||
    fail "the package lacks <libdir>/cmake/buildlock/$file"
done

# Unpacked into a scratch root, it works.
root=$work/root
dpkg-deb -x "$deb" "$root"
[ "$("$root/usr/bin/buildlock" --version)" = "buildlock $version" ] ||
  fail "the packaged buildlock --version says: $("$root/usr/bin/buildlock" --version)"
render_man_page "$root/usr/share/man/man1/buildlock.1.gz" "$work/buildlock.txt"

tree=$work/consumer
"$CMAKE_COMMAND" -S "$here/tiny-consumer" -B "$tree" -G Ninja "-DCMAKE_PREFIX_PATH=$root/usr" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; fail "configuring against the package failed"; }
grep -qxF "buildlock_DIR:PATH=$root/usr/lib/cmake/buildlock" "$tree/CMakeCache.txt" ||
  grep -qE "^buildlock_DIR:PATH=$root/usr/lib/[^/]+/cmake/buildlock\$" "$tree/CMakeCache.txt" ||
  fail "find_package did not take the package from $root: $(grep '^buildlock_DIR' "$tree/CMakeCache.txt")"
"$CMAKE_COMMAND" --build "$tree" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building against the package failed"; }
grep -q "$root/usr/bin/buildlock run" "$tree/build.ninja" ||
  fail "the wrapped command does not run the packaged buildlock"
# The command ran under the lock: buildlock named the held lock file in BUILDLOCK_HELD.
grep -qE '^[0-9]+:[0-9]+:[0-9]+$' "$tree/held.txt" ||
  fail "the wrapped command did not run under a lock (BUILDLOCK_HELD=$(cat "$tree/held.txt"))"
