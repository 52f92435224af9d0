#!/bin/sh
# check_no_colour.sh: with stderr on a terminal that could show colour (TERM=xterm-256color,
# NO_COLOR unset), buildlock's messages (a waiting notice, a timeout error, the status table)
# are still plain text without escape sequences: nothing for NO_COLOR to turn off, as documented.
. "$(dirname "$0")/prelude.sh"
buildlock=$BUILDLOCK_BUILD_DIR/tool/buildlock
locks=$work/locks
unset NO_COLOR
export TERM=xterm-256color

# A holder that tells us, through a FIFO, when it holds the lock.
mkfifo "$work/holding"
# shellcheck disable=SC2016 # $1 is for the inner sh
"$buildlock" run --dir "$locks" busy -- sh -c 'echo yes >"$1"; exec sleep 60' sh "$work/holding" &
holder=$!
read -r _ <"$work/holding"

# On a pseudo-terminal (script(1)): waits past the first notice, then times out (exit 75).
status=0
script -q -e -c "\"$buildlock\" run --dir \"$locks\" --timeout 1.5 busy -- true; \"$buildlock\" status --dir \"$locks\"" \
  /dev/null >"$work/terminal.txt" 2>&1 || status=$?
kill "$holder"
wait "$holder" || true
grep -q "buildlock: waiting for lock .busy." "$work/terminal.txt" ||
  fail "no waiting notice on the terminal (status $status): $(cat "$work/terminal.txt")"
grep -q "buildlock: error: " "$work/terminal.txt" || fail "no timeout error on the terminal: $(cat "$work/terminal.txt")"
grep -q "^busy  *held" "$work/terminal.txt" || fail "no status table on the terminal: $(cat "$work/terminal.txt")"
if LC_ALL=C grep -q "$(printf '\033')" "$work/terminal.txt"; then
  fail "escape sequences on the terminal: $(od -c "$work/terminal.txt" | head -20)"
fi
