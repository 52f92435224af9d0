# Sourced by every tests/packaging driver: strict mode, a private work directory (removed when the
# test passes, kept for a look when it fails), fail().
#
# Environment (set by tests/packaging/CMakeLists.txt): CMAKE_COMMAND, CPACK_COMMAND,
# BUILDLOCK_SOURCE_DIR, BUILDLOCK_BUILD_DIR (this build tree), BUILDLOCK_PREFIX (where
# packaging.install installs it), BUILDLOCK_TEST_WORK, TEST_NAME.
set -eu

# shellcheck disable=SC2034 # used by the scripts that source this
here=$(cd "$(dirname "$0")" && pwd)
work=$BUILDLOCK_TEST_WORK/$TEST_NAME
rm -rf "$work"
mkdir -p "$work"
unset BUILDLOCK_DIR BUILDLOCK_TIMEOUT BUILDLOCK_STALE_AFTER BUILDLOCK_HELD MAKEFLAGS MFLAGS MAKELEVEL
export XDG_CACHE_HOME="$work/xdg-cache" # never the user's own lock directory
# man(1) and the checks below compare plain ASCII text.
export LC_ALL=C

cleanup_on_success() {
  status=$?
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "(work directory kept: $work)" >&2
  fi
}
trap cleanup_on_success EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# render_man_page PAGE OUT: render PAGE as text into OUT; any warning of groff or man fails.
render_man_page() {
  MANWIDTH=80 man --warnings -l "$1" >"$2" 2>"$work/man-warnings.txt" ||
    fail "man -l $1 failed: $(cat "$work/man-warnings.txt")"
  [ ! -s "$work/man-warnings.txt" ] || fail "man -l $1 warns: $(cat "$work/man-warnings.txt")"
  grep -q "^NAME" "$2" || fail "man -l $1 rendered no NAME section"
}
