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
# buildlock-cmake(7) and in docs/cmake.md.
keywords=$(sed -n 's/^ *set(\(value\|flag\|list\)_keywords \(.*\))$/\2/p' \
  "$BUILDLOCK_SOURCE_DIR/cmake-modules/BuildLock.cmake" "$BUILDLOCK_SOURCE_DIR"/cmake-modules/BuildLock/*.cmake)
[ -n "$keywords" ] || fail "found no keywords in BuildLock.cmake"
functions=$(sed -n 's/^function(\(buildlock_[a-z_]*\).*/\1/p' "$BUILDLOCK_SOURCE_DIR"/cmake-modules/BuildLock/*.cmake)
for word in $keywords $functions COMMAND BUILDLOCK_LOCK_DIR BUILDLOCK_QUIET BUILDLOCK_VERBOSE \
  BUILDLOCK_EXECUTABLE buildlock::buildlock; do
  grep -qE -- "(^|[^A-Za-z_])$word([^A-Za-z_]|$)" "$work/buildlock-cmake.txt" ||
    fail "buildlock-cmake(7) does not mention $word"
  grep -qE -- "(^|[^A-Za-z_])$word([^A-Za-z_]|$)" "$BUILDLOCK_SOURCE_DIR/docs/cmake.md" ||
    fail "docs/cmake.md does not mention $word"
done

# Both ways, subcommand by subcommand, so that --help, buildlock(1) and the Markdown pages cannot
# drift apart (issue 25): every option of `buildlock SUB --help` (one of its spellings, as
# `-q,--quiet`) is in SUB's SYNOPSIS of buildlock(1) and in SUB's synopsis and option table of its
# Markdown page (docs/cli.md for run, docs/managing-locks.md for the others); and every option
# those name is an option of SUB. (Every option of every --help is also in the shell completions:
# the completion tests offer exactly those.)
docs=$BUILDLOCK_SOURCE_DIR/docs
# words FILE...: the option-like words (-x, --xx-yy) of the text on stdin, one per line, sorted.
option_words() {
  sed 's/\\-/-/g' | grep -oE -- '(^|[^-A-Za-z0-9_$])--?[A-Za-z][-A-Za-z]*' | sed 's/^[^-]*//' | sort -u
}
# The SYNOPSIS entry of SUB in buildlock(1): the lines between `.SY buildlock` and `.YS` whose
# first line is `.B SUB`.
man_synopsis() {
  awk -v sub_="$1" '/^\.SY/ { inside = 1; first = 1; keep = 0; next }
    /^\.YS/ { inside = 0; next }
    inside && first { first = 0; keep = ($0 == ".B " sub_) }
    inside && keep' "$work/buildlock.1"
}
# The Markdown text that documents SUB's options: run's synopsis (from `buildlock run [` to its
# `LOCK -- COMMAND` line) and its table in docs/cli.md "## Options"; for the others, the heading
# of its section and the table of docs/managing-locks.md "## Options they share".
markdown_options() {
  case $1 in
  run)
    sed -n '/^buildlock run \[/,/LOCK -- COMMAND/p' "$docs/cli.md"
    sed -n '/^## Options$/,/^## /p' "$docs/cli.md" | grep '^| `-' | cut -d'|' -f2
    ;;
  *)
    grep "^## \`buildlock $1 " "$docs/managing-locks.md"
    sed -n '/^## Options they share$/,/^## /p' "$docs/managing-locks.md" | grep '^| `-' | cut -d'|' -f2
    ;;
  esac
}
for subcommand in run status clean break; do
  "$buildlock" $subcommand --help | sed -n '/^Options:/,/^$/p' | sed -n 's/^  \(-[^ ]*\).*/\1/p' |
    tr ',' ' ' | grep -v -- '--help' >"$work/pairs.txt"
  tr ' ' '\n' <"$work/pairs.txt" | sort -u >"$work/spellings.txt"
  printf '%s\n' -h --help --version >>"$work/spellings.txt" # cli.md's table has buildlock's own
  man_synopsis "$subcommand" | option_words >"$work/man-options.txt"
  markdown_options "$subcommand" | option_words >"$work/markdown-options.txt"
  [ -s "$work/man-options.txt" ] || fail "buildlock(1) has no SYNOPSIS entry for $subcommand"
  [ -s "$work/markdown-options.txt" ] || fail "found no options of $subcommand in docs/"
  while read -r pair; do
    # shellcheck disable=SC2086 # the spellings of one option, split on purpose
    for where in man-options markdown-options; do
      found=
      for spelling in $pair; do grep -qx -- "$spelling" "$work/$where.txt" && found=1; done
      [ -n "$found" ] || case $where in
      man-options) fail "buildlock(1)'s SYNOPSIS of $subcommand lacks $pair (from its --help)" ;;
      *) fail "docs/ does not list $pair among the options of $subcommand (from its --help)" ;;
      esac
    done
  done <"$work/pairs.txt"
  for where in man-options markdown-options; do
    while read -r option; do
      grep -qx -- "$option" "$work/spellings.txt" ||
        fail "$where of $subcommand names $option, which \`buildlock $subcommand --help\` does not list"
    done <"$work/$where.txt"
  done
done
