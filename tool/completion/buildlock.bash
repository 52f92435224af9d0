# bash completion for buildlock(1). Installed as share/bash-completion/completions/buildlock,
# where bash-completion loads it on first use; `source` it by hand otherwise. Uses only bash's own
# compgen/complete, so it works without the bash-completion package too.
#
# Completes subcommands, the options of each, and lock names: the NAME of every NAME.lock in the
# lock directory that the command line would use (--dir, else $BUILDLOCK_DIR, else
# $XDG_CACHE_HOME/buildlock, else ~/.cache/buildlock), exactly as buildlock picks it.

_buildlock_lock_dir() {
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
    --) break ;;
    --dir=*)
      printf '%s\n' "${COMP_WORDS[i]#--dir=}"
      return
      ;;
    --dir)
      # bash splits `--dir=DIR` into `--dir`, `=`, `DIR` (= is in COMP_WORDBREAKS).
      if [[ ${COMP_WORDS[i + 1]} == = ]]; then
        printf '%s\n' "${COMP_WORDS[i + 2]}"
      else
        printf '%s\n' "${COMP_WORDS[i + 1]}"
      fi
      return
      ;;
    esac
  done
  if [[ -n ${BUILDLOCK_DIR-} ]]; then
    printf '%s\n' "$BUILDLOCK_DIR"
  elif [[ -n ${XDG_CACHE_HOME-} ]]; then
    printf '%s\n' "$XDG_CACHE_HOME/buildlock"
  else
    printf '%s\n' "${HOME-}/.cache/buildlock"
  fi
}

_buildlock_lock_names() {
  local dir file names=()
  dir=$(_buildlock_lock_dir)
  dir=${dir/#\~/$HOME} # a `--dir ~/x` typed on the line is not expanded yet
  for file in "$dir"/*.lock; do
    [[ -f $file ]] && names+=("$(basename -- "$file" .lock)")
  done
  printf '%s\n' "${names[@]}"
}

_buildlock() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local subcommand="" i
  if [[ $cur == = ]]; then # `--dir=` with = in COMP_WORDBREAKS: complete the value
    cur="" prev=${COMP_WORDS[COMP_CWORD - 1]}
  elif [[ $prev == = ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
    run | status | clean | break | report)
      subcommand=${COMP_WORDS[i]}
      break
      ;;
    esac
  done

  local common="--dir --kernel-locks --stale-after -q --quiet -v --verbose -h --help"
  local options
  case $subcommand in
  "")
    mapfile -t COMPREPLY < <(compgen -W "run status clean break report -h --help --version" -- "$cur")
    return
    ;;
  run) options="$common --shared --slots --timeout --sequence --stop-if-lost --keep-running-if-lost --die-with-parent --kill-after --json --trace" ;;
  status) options="$common --json" ;;
  clean) options="$common -n --dry-run --json" ;;
  break) options="$common -f --force --json" ;;
  report) options="--json --svg -h --help" ;;
  esac

  # After `--` of `run`: the command and its arguments.
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == -- && $subcommand == run ]]; then
      if ((i == COMP_CWORD - 1)); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      return
    fi
  done

  case $prev in
  --dir)
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    return
    ;;
  --trace | --svg)
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return
    ;;
  --kernel-locks)
    mapfile -t COMPREPLY < <(compgen -W "auto on off" -- "$cur")
    return
    ;;
  --timeout | --stale-after | --sequence | --slots | --kill-after)
    COMPREPLY=() # a number: nothing sensible to offer
    return
    ;;
  esac

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
  elif [[ $subcommand == report ]]; then # trace files
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_buildlock_lock_names)" -- "$cur")
  fi
}

complete -F _buildlock buildlock
