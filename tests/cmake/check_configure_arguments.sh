#!/bin/sh
# check_configure_arguments.sh: configure_arguments/ checks, while it configures, that
# buildlock_execute_process() passes every argument on exactly (configure-time behaviour: one
# generator is enough).
. "$(dirname "$0")/prelude.sh"
configure Ninja "$here/configure_arguments" tree "-DBUILDLOCK_LOCK_DIR=$work/locks"
grep -q 'configure_arguments: every check passed' "$work/tree.configure.log" || { show_log "$work/tree.configure.log"; fail "the checks did not run"; }
