#!/bin/sh
# check_zsh_completion.sh: the installed zsh completion, loaded by compinit from $fpath in a real
# interactive zsh (on a pseudo-terminal: complete_in_zsh.zsh), completes subcommands, options and
# their values, lock names from the lock directory that the line would use (--dir, else
# $BUILDLOCK_DIR, else the default), a command after `run LOCK --`, and offers for each
# subcommand exactly the options its --help lists.
. "$(dirname "$0")/prelude.sh"
completions=$BUILDLOCK_PREFIX/share/zsh/vendor-completions
[ -f "$completions/_buildlock" ] || fail "no completion installed at $completions/_buildlock"
make_completion_fixture

zsh_complete() {
  TMPDIR=$work zsh -f "$here/complete_in_zsh.zsh" "$completions" "$@"
}

check_completer zsh_complete
