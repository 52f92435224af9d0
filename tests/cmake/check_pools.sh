#!/bin/sh
# check_pools.sh: pools/ sets JOB_POOLS without APPEND after buildlock_limit_links() and
# buildlock_job_pool(). With Ninja (the only generator with pools), the build must not stop at
# "unknown pool name": the module's pools are defined at the end of the configure, beside the
# project's own.
. "$(dirname "$0")/prelude.sh"
configure Ninja "$here/pools" tree "-DBUILDLOCK_LOCK_DIR=$work/locks"
must_build tree
rules=$work/tree/CMakeFiles/rules.ninja
for pool in compile:2 link:1 'buildlock-links-links-[0-9a-f]*:2' 'buildlock-codegen-[0-9a-f]*:1'; do
  grep -A1 "^pool ${pool%:*}\$" "$rules" | grep -q "^ *depth = ${pool##*:}\$" ||
    fail "no pool ${pool%:*} of depth ${pool##*:} in rules.ninja"
done
[ -e "$work/tree/generated.txt" ] || fail "the pooled step did not run"
"$work/tree/app" || fail "app does not run"
