#!/bin/sh
# check_man_pages.sh: the installed man pages are where man(1) looks, render without a warning,
# carry the version of the binary, and list every option that any `--help` lists and every
# keyword of buildlock_wrap().
. "$(dirname "$0")/prelude.sh"
buildlock=$BUILDLOCK_PREFIX/bin/buildlock
version=$("$buildlock" --version | sed 's/^buildlock //')

for page in buildlock:1 buildlock-cmake:7; do
  name=${page%:*} section=${page#*:}
  path=$(MANPATH="$BUILDLOCK_PREFIX/share/man" man -w "$section" "$name") ||
    fail "man does not find $name($section) under $BUILDLOCK_PREFIX/share/man"
  render_man_page "$path" "$work/$name.txt"
  # Installed gzip'd, as Debian policy wants (and lintian checks).
  case $path in *.gz) ;; *) fail "$name($section) is not compressed: $path" ;; esac
  gzip -dc "$path" >"$work/$name.$section"
  grep -q "^\.TH .* \"buildlock $version\"" "$work/$name.$section" ||
    fail "$name($section): the .TH line does not name buildlock $version: $(grep '^\.TH' "$work/$name.$section")"
done

# Every option and environment variable of every --help appears in buildlock(1), as a word.
for subcommand in "" run status clean break report; do
  # shellcheck disable=SC2086 # no subcommand is no word
  "$buildlock" $subcommand --help >"$work/help.txt"
  help_options "$subcommand" >"$work/options.txt"
  [ -s "$work/options.txt" ] || fail "found no options in: buildlock $subcommand --help"
  grep -oE '\$[A-Z_]+' "$work/help.txt" | tr -d '$' | sort -u >>"$work/options.txt"
  while read -r option; do
    grep -qE -- "(^|[^-A-Za-z_])$option([^-A-Za-z_]|$)" "$work/buildlock.txt" ||
      fail "buildlock(1) does not mention $option (from: buildlock $subcommand --help)"
  done <"$work/options.txt"
done

# Every exit status that a subcommand's --help names has its entry in buildlock(1)'s EXIT STATUS
# section (a `.B N` paragraph), so the two cannot drift apart.
sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$work/buildlock.1" >"$work/exit-statuses.1"
for subcommand in run status clean break report; do
  "$buildlock" $subcommand --help | sed -n 's/^Exit status: //p' | grep -oE '(^|[ ;,])[0-9]{1,3} ' |
    tr -d ' ;,' | sort -u >"$work/statuses.txt"
  [ -s "$work/statuses.txt" ] || fail "buildlock $subcommand --help names no exit status"
  while read -r status; do
    grep -qx "\.B $status" "$work/exit-statuses.1" ||
      fail "buildlock(1)'s EXIT STATUS has no entry for $status (from: buildlock $subcommand --help)"
  done <"$work/statuses.txt"
done

# Every keyword buildlock_wrap() accepts, and the module's functions and variables, appear in
# buildlock-cmake(7).
keywords=$(sed -n 's/^ *set(\(value\|flag\|list\)_keywords \(.*\))$/\2/p' \
  "$BUILDLOCK_SOURCE_DIR/cmake-modules/BuildLock.cmake" "$BUILDLOCK_SOURCE_DIR"/cmake-modules/BuildLock/*.cmake)
[ -n "$keywords" ] || fail "found no keywords in BuildLock.cmake"
functions=$(sed -n 's/^function(\(buildlock_[a-z_]*\).*/\1/p' "$BUILDLOCK_SOURCE_DIR"/cmake-modules/BuildLock/*.cmake)
for word in $keywords $functions COMMAND BUILDLOCK_LOCK_DIR BUILDLOCK_EXECUTABLE buildlock::buildlock; do
  grep -qE -- "(^|[^A-Za-z_])$word([^A-Za-z_]|$)" "$work/buildlock-cmake.txt" ||
    fail "buildlock-cmake(7) does not mention $word"
done
