# fish completion for buildlock(1). Installed as share/fish/vendor_completions.d/buildlock.fish,
# where fish loads it on first use of `buildlock`. Written to match buildlock.bash and each
# subcommand's `--help`; tests/packaging checks that every option of every `--help` is here.
#
# Completes subcommands, the options of each (with their values where there is a fixed set), and
# lock names: the NAME of every NAME.lock in the lock directory that the command line would use
# (--dir, else $BUILDLOCK_DIR, else $XDG_CACHE_HOME/buildlock, else ~/.cache/buildlock), exactly
# as buildlock picks it. After `run LOCK --`: a command and its arguments.

# The lock names of that directory.
function __buildlock_locks
    set -l words (commandline -opc)
    set -l dir
    for i in (seq 2 (count $words))
        switch $words[$i]
            case --
                break
            case '--dir=*'
                set dir (string replace -- --dir= '' $words[$i])
                break
            case --dir
                set -q words[(math $i + 1)]; and set dir $words[(math $i + 1)]
                break
        end
    end
    if test -z "$dir"
        if set -q BUILDLOCK_DIR; and test -n "$BUILDLOCK_DIR"
            set dir $BUILDLOCK_DIR
        else if set -q XDG_CACHE_HOME; and test -n "$XDG_CACHE_HOME"
            set dir $XDG_CACHE_HOME/buildlock
        else
            set dir $HOME/.cache/buildlock
        end
    end
    set dir (string replace -r '^~' -- $HOME $dir) # a `--dir ~/x` typed on the line
    for file in $dir/*.lock
        test -f $file; and basename -- $file .lock
    end
end

# True after `run ... --`: the rest is the command.
function __buildlock_after_separator
    contains -- -- (commandline -opc)
end

# After `run ... --`: what fish would offer for the words after `--` typed on their own.
function __buildlock_complete_command
    set -l words (commandline -opc)
    set -e words[1..(contains -i -- -- $words)]
    complete -C (string join ' ' -- (string escape -- $words) (commandline -ct))
end

set -l subcommands run status clean break
set -l all_subcommands $subcommands report
complete -c buildlock -f
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -a run -d 'Run a command while holding a lock'
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -a status -d 'Show every lock and its holders'
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -a clean -d 'Remove every stale lock and left-over temporary file'
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -a break -d 'Remove one lock (a held one only with --force)'
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -a report -d 'What locks cost the builds that traced them'
complete -c buildlock -n "not __fish_seen_subcommand_from $all_subcommands" -l version -d 'Show the version'
complete -c buildlock -n "not __buildlock_after_separator" -s h -l help -d 'Show help'

# Options of every subcommand.
set -l in_subcommand "__fish_seen_subcommand_from $subcommands; and not __buildlock_after_separator"
complete -c buildlock -n $in_subcommand -l dir -x -a '(__fish_complete_directories)' -d 'Lock directory'
complete -c buildlock -n $in_subcommand -l kernel-locks -x -a 'auto on off' -d 'Rely on kernel locks (flock)'
complete -c buildlock -n $in_subcommand -l stale-after -x -d 'Age (SECONDS) after which a lock nobody can vouch for is stale'
complete -c buildlock -n $in_subcommand -s q -l quiet -d 'Say only errors and warnings'
complete -c buildlock -n $in_subcommand -s v -l verbose -d 'Explain every decision'

# run [OPTIONS] LOCK -- COMMAND [ARG...]
set -l in_run "__fish_seen_subcommand_from run; and not __buildlock_after_separator"
complete -c buildlock -n $in_run -l timeout -x -d 'Give up after SECONDS and exit 75'
complete -c buildlock -n $in_run -l sequence -x -d 'Split COMMAND into commands of these word counts (N,N,...)'
complete -c buildlock -n $in_run -l shared -d 'Hold the lock shared'
complete -c buildlock -n $in_run -l slots -x -d 'Let at most N runs hold the lock at once'
complete -c buildlock -n $in_run -l die-with-parent -d 'Stop COMMAND when the process that started buildlock exits'
complete -c buildlock -n $in_run -l stop-if-lost -d 'Stop COMMAND and exit 76 when the lock is taken away (the default)'
complete -c buildlock -n $in_run -l keep-running-if-lost -d 'Let COMMAND run on when the lock is taken away; exit 76'
complete -c buildlock -n $in_run -l kill-after -x -d 'SIGKILL what a stopped COMMAND started after SECONDS'
complete -c buildlock -n $in_run -l json -d "Write buildlock's own messages as JSON lines"
complete -c buildlock -n $in_run -l trace -r -F -d 'Append the wait and hold to this trace FILE'
complete -c buildlock -n $in_run -a '(__buildlock_locks)' -d Lock
# After `--`: the command, then its arguments, completed as if typed on their own.
complete -c buildlock -n "__fish_seen_subcommand_from run; and __buildlock_after_separator" -x -a '(__buildlock_complete_command)'

# status [OPTIONS] [LOCK...], clean [OPTIONS], break [OPTIONS] LOCK
complete -c buildlock -n "__fish_seen_subcommand_from status" -l json -d 'Print JSON'
complete -c buildlock -n "__fish_seen_subcommand_from status" -a '(__buildlock_locks)' -d Lock
complete -c buildlock -n "__fish_seen_subcommand_from clean" -s n -l dry-run -d 'Only list what would be removed'
complete -c buildlock -n "__fish_seen_subcommand_from clean" -l json -d 'Print JSON'
complete -c buildlock -n "__fish_seen_subcommand_from break" -s f -l force -d 'Remove the lock even when it is held'
complete -c buildlock -n "__fish_seen_subcommand_from break" -l json -d 'Print JSON'
complete -c buildlock -n "__fish_seen_subcommand_from break" -a '(__buildlock_locks)' -d Lock

# report [--json] FILE...
complete -c buildlock -n "__fish_seen_subcommand_from report" -l json -d 'Print JSON'
complete -c buildlock -n "__fish_seen_subcommand_from report" -l svg -r -F -d 'Also write a timeline to this SVG FILE'
complete -c buildlock -n "__fish_seen_subcommand_from report" -F -d 'Trace file'
