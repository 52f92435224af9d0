#!/bin/sh
# check_module_options.sh GENERATOR: a relative DIR or BUILDLOCK_LOCK_DIR is relative to the top
# of the build tree, for a step in a subdirectory too (which Makefiles run from there); the
# keywords KEEP_RUNNING_IF_LOST and STOP_IF_LOST and the cache variables BUILDLOCK_QUIET and
# BUILDLOCK_VERBOSE reach every generated rule as buildlock's options (issue 25).
. "$(dirname "$0")/prelude.sh"
generator=$1

line() { sed -n "$2p" "$work/$1"; }
# has TREE OPTION / lacks TREE OPTION: whether both steps' buildlock was given OPTION.
has() {
  for step in top.txt sub/sub.txt; do
    case " $(line "$1/$step" 3) " in *" $2 "*) ;; *) fail "$1/$step: no $2 in: $(line "$1/$step" 3)" ;; esac
  done
}
lacks() {
  for step in top.txt sub/sub.txt; do
    case " $(line "$1/$step" 3) " in *" $2 "*) fail "$1/$step: $2 in: $(line "$1/$step" 3)" ;; esac
  done
}
# both_in TREE DIR: both steps held their lock in DIR.
both_in() {
  for step in top.txt sub/sub.txt; do
    [ "$(line "$1/$step" 1)" = "$2" ] || fail "$1/$step: lock directory $(line "$1/$step" 1), not $2"
  done
}

configure "$generator" "$here/options" relative -DSTEP_DIR=rel-locks
must_build relative
both_in relative "$work/relative/rel-locks"
lacks relative --quiet
lacks relative --verbose
lacks relative --keep-running-if-lost
lacks relative --stop-if-lost

# Typed PATH, CMake leaves it relative for the module to resolve (untyped, CMake itself makes it
# absolute against its working directory before the module sees it).
configure "$generator" "$here/options" cache-relative -DBUILDLOCK_LOCK_DIR:PATH=cache-locks
must_build cache-relative
both_in cache-relative "$work/cache-relative/cache-locks"

configure "$generator" "$here/options" quiet "-DBUILDLOCK_LOCK_DIR=$work/locks" -DBUILDLOCK_QUIET=ON
must_build quiet
has quiet --quiet
lacks quiet --verbose

configure "$generator" "$here/options" verbose "-DBUILDLOCK_LOCK_DIR=$work/locks" -DBUILDLOCK_VERBOSE=ON
must_build verbose
has verbose --verbose
lacks verbose --quiet
grep -q '^buildlock: acquired ' "$work/verbose.log" || { show_log "$work/verbose.log"; fail "no verbose line"; }

# A call's own QUIET wins over BUILDLOCK_VERBOSE, as DIR over BUILDLOCK_LOCK_DIR.
configure "$generator" "$here/options" own-quiet "-DBUILDLOCK_LOCK_DIR=$work/locks" \
  -DBUILDLOCK_VERBOSE=ON -DSTEP_KEYWORDS=QUIET
must_build own-quiet
has own-quiet --quiet
lacks own-quiet --verbose

configure "$generator" "$here/options" keep "-DBUILDLOCK_LOCK_DIR=$work/locks" \
  -DSTEP_KEYWORDS=KEEP_RUNNING_IF_LOST
must_build keep
has keep --keep-running-if-lost
lacks keep --stop-if-lost

configure "$generator" "$here/options" stop "-DBUILDLOCK_LOCK_DIR=$work/locks" -DSTEP_KEYWORDS=STOP_IF_LOST
must_build stop
has stop --stop-if-lost
lacks stop --keep-running-if-lost
