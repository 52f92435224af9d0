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
  zsh -f "$here/complete_in_zsh.zsh" "$completions" "$@"
}

{
  cat <<CASES
buildlock st|status
buildlock |break clean run status
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
} >"$work/cases"
expect_completions zsh_complete "$work/cases"

cat >"$work/env-cases" <<CASES
buildlock status |cmake-deps
buildlock run --dir $work/dir-option comp|compile
CASES
(BUILDLOCK_DIR=$work/env-dir && export BUILDLOCK_DIR && expect_completions zsh_complete "$work/env-cases") ||
  exit 1
