#!/bin/sh
# check_fish_completion.sh: the installed fish completion, autoloaded by a real fish from the
# vendor_completions.d of the prefix's share directory (on $XDG_DATA_DIRS, as a distribution's is),
# completes subcommands, options and their values, lock names from the lock directory that the
# line would use (--dir, else $BUILDLOCK_DIR, else the default), a command after `run LOCK --`,
# and offers for each subcommand exactly the options its --help lists.
. "$(dirname "$0")/prelude.sh"
script=$BUILDLOCK_PREFIX/share/fish/vendor_completions.d/buildlock.fish
[ -f "$script" ] || fail "no completion installed at $script"
make_completion_fixture

# fish loads completions only for a command on PATH; none of the user's configuration.
fish_complete() {
  # shellcheck disable=SC2016 # $argv is for fish
  PATH=$BUILDLOCK_PREFIX/bin:$PATH XDG_DATA_DIRS=$BUILDLOCK_PREFIX/share:/usr/share \
    XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data fish -c '
    for line in $argv
      echo (complete -C $line | string replace -r "\t.*" "" | sort -u)
    end' "$@"
}

check_completer fish_complete
