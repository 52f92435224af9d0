#!/bin/sh
# check_lintian.sh: lintian, Debian's package checker, finds no error in the package that
# `cpack -G DEB` builds (tool/deb/lintian-overrides says why the one it would find is accepted),
# and no hardening tag at any level, information included (`lintian -I`): the binary is built with
# Debian's hardening flags (tool/CMakeLists.txt, BUILDLOCK_HARDENING).
# A warning does not fail by itself, but each must be explained in docs/packaging.md
# (section "The Debian package and lintian"), so that a new one fails until someone has looked.
. "$(dirname "$0")/prelude.sh"
build_deb
status=0
lintian -I --tag-display-limit 0 --fail-on error "$deb" >"$work/lintian.txt" 2>"$work/lintian-stderr.txt" ||
  status=$?
cat "$work/lintian.txt" >&2
[ "$status" -eq 0 ] || fail "lintian exited with $status: $(cat "$work/lintian-stderr.txt")"
! grep -q '^E: ' "$work/lintian.txt" || fail "lintian reports errors (above)"
! grep -q '^[A-Z]: [^ ]* hardening-' "$work/lintian.txt" || fail "lintian reports a hardening tag (above)"
# shellcheck disable=SC2013 # a tag is one word
for tag in $(sed -n 's/^W: [^ ]* \([^ ]*\).*/\1/p' "$work/lintian.txt" | sort -u); do
  grep -qF "\`$tag\`" "$BUILDLOCK_SOURCE_DIR/docs/packaging.md" ||
    fail "lintian warns $tag, which docs/packaging.md does not explain"
done
