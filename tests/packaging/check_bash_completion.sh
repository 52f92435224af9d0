#!/bin/sh
# check_bash_completion.sh: the installed completion loads in a plain bash (no bash-completion
# package needed) and completes a subcommand, an option, and lock names from the lock directory
# that the line would use: --dir, else $BUILDLOCK_DIR, else the default; and offers for each
# subcommand exactly the options its --help lists.
. "$(dirname "$0")/prelude.sh"
script=$BUILDLOCK_PREFIX/share/bash-completion/completions/buildlock
[ -f "$script" ] || fail "no completion installed at $script"

make_completion_fixture

# Each case: the words of the line (the last one is being completed), then the expected
# candidates, sorted, space-separated. COMP_WORDS is split the way bash splits (= is a word).
cat >"$work/cases.bash" <<CASES
check 'buildlock st'                                    'status'
check 'buildlock '                                      '--help --version -h break clean report run status'
check 'buildlock run --ti'                              '--timeout'
check 'buildlock run --s'                               '--sequence --shared --slots --stale-after --stop-if-lost'
check 'buildlock run --slots '                          ''
check 'buildlock status --kernel-locks o'               'off on'
check 'buildlock clean --d'                             '--dir --dry-run'
check 'buildlock break --f'                             '--force'
check 'buildlock status --dir $work/dir-option c'      'codegen compile'
check 'buildlock break --dir = $work/dir-option co'    'codegen compile'
BUILDLOCK_DIR=$work/env-dir check 'buildlock status '  'cmake-deps'
BUILDLOCK_DIR=$work/env-dir check 'buildlock run --dir $work/dir-option comp' 'compile'
check 'buildlock break '                                'ccache'
CASES
option_cases | while IFS='|' read -r line expected; do
  printf "check '%s' '%s'\n" "$line" "$expected"
done >>"$work/cases.bash"

bash --norc --noprofile -c '
set -u
source "$1" || exit 1
complete -p buildlock >/dev/null || { echo "FAIL: no completion registered for buildlock" >&2; exit 1; }
failures=0
check() {
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$1 COMP_POINT=${#1}
  COMPREPLY=()
  _buildlock
  local got
  got=$(printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " ")
  if [[ ${got% } != "${2% }" ]]; then
    echo "FAIL: completing \"$1\": expected \"$2\", got \"${got% }\"" >&2
    failures=$((failures + 1))
  fi
}
source "$2"
exit $((failures > 0))
' check "$script" "$work/cases.bash" || fail "completion cases failed (above)"
