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

# build_deb: runs `cpack -G DEB` on this build tree into $work/package; sets deb to the package.
build_deb() {
  "$CPACK_COMMAND" -G DEB -B "$work/package" --config "$BUILDLOCK_BUILD_DIR/CPackConfig.cmake" \
    >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
  set -- "$work"/package/buildlock_*.deb
  { [ $# -eq 1 ] && [ -f "$1" ]; } || fail "expected one buildlock_*.deb in $work/package, found: $*"
  # shellcheck disable=SC2034 # used by the scripts that source this
  deb=$1
}

# help_options [SUBCOMMAND]: every option that `buildlock [SUBCOMMAND] --help` lists (installed
# binary), sorted, one per line.
help_options() {
  # shellcheck disable=SC2086 # no subcommand is no word
  "$BUILDLOCK_PREFIX/bin/buildlock" ${1:-} --help | sed -n '/^Options:/,/^$/p' |
    grep -oE '(^|[ ,])--?[A-Za-z][-A-Za-z]*' | tr -d ' ,' | sort -u
}

# The completion tests: lock directories to complete names from. dir-option (for --dir) holds two
# locks, a file that is not a lock and a directory named like a lock; env-dir (for $BUILDLOCK_DIR)
# and the default directory under $XDG_CACHE_HOME one lock each.
make_completion_fixture() {
  mkdir -p "$work/dir-option" "$work/env-dir" "$XDG_CACHE_HOME/buildlock"
  touch "$work/dir-option/compile.lock" "$work/dir-option/codegen.lock" "$work/dir-option/cache.txt" \
    "$work/env-dir/cmake-deps.lock" "$XDG_CACHE_HOME/buildlock/ccache.lock"
  mkdir "$work/dir-option/configure.lock"
}

# option_cases: for each subcommand (and none), the line `buildlock [SUBCOMMAND] -` and, after a
# `|`, every option its --help lists: a completion must offer exactly those.
option_cases() {
  for subcommand in "" run status clean break report; do
    printf 'buildlock %s%s-|%s\n' "$subcommand" "${subcommand:+ }" "$(help_options "$subcommand" | tr '\n' ' ' | sed 's/ $//')"
  done
}

# completion_cases: the cases of the zsh and fish tests (bash splits words its own way and has
# its own), in the form expect_completions reads, with make_completion_fixture's directories.
# zsh and fish offer options only once the word starts with `-`.
completion_cases() {
  cat <<CASES
buildlock st|status
buildlock |break clean report run status
buildlock run --ti|--timeout
buildlock run --s|--sequence --shared --slots --stale-after --stop-if-lost
buildlock run --slots |
buildlock status --kernel-locks o|off on
buildlock clean --d|--dir --dry-run
buildlock break --f|--force
buildlock status --dir $work/dir-option c|codegen compile
buildlock break --dir=$work/dir-option co|codegen compile
buildlock break |ccache
buildlock run ccache -- npro|nproc
CASES
  option_cases
}

# environment_completion_cases: cases for BUILDLOCK_DIR=$work/env-dir.
environment_completion_cases() {
  cat <<CASES
buildlock status |cmake-deps
buildlock run --dir $work/dir-option comp|compile
CASES
}

# check_completer COMPLETER: completion_cases, then environment_completion_cases with
# BUILDLOCK_DIR set, through expect_completions.
check_completer() {
  completion_cases >"$work/cases"
  expect_completions "$1" "$work/cases"
  environment_completion_cases >"$work/env-cases"
  (BUILDLOCK_DIR=$work/env-dir && export BUILDLOCK_DIR && expect_completions "$1" "$work/env-cases") ||
    exit 1
}

# expect_completions COMPLETER CASES: CASES holds one case a line, `LINE|EXPECTED` (the
# candidates, sorted, space-separated). `COMPLETER LINE...` prints one such line of candidates
# per LINE. Fails with every case that differs.
expect_completions() {
  completer=$1 cases=$2
  cut -d'|' -f1 "$cases" >"$work/lines"
  set --
  while IFS= read -r line; do
    set -- "$@" "$line"
  done <"$work/lines"
  "$completer" "$@" >"$work/got" || fail "$completer failed"
  paste -d'|' "$work/lines" "$work/got" >"$work/actual"
  diff "$cases" "$work/actual" >&2 || fail "completions differ (above: < expected, > got)"
}
