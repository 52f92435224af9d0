#!/bin/sh
# check_default_lock_dir.sh: without DIR, every build tree of one source tree shares one lock
# directory below buildlock's default directory, outside the build trees; another source tree
# gets another; BUILDLOCK_LOCK_DIR overrides it.
. "$(dirname "$0")/prelude.sh"
mkfifo "$work/inside" "$work/release"
configure Ninja "$here/holder" tree-a "-DHOLD_INSIDE=$work/inside" "-DHOLD_RELEASE=$work/release"
configure Ninja "$here/holder" tree-b
configure Ninja "$here/holder" overridden "-DBUILDLOCK_LOCK_DIR=$work/override"
cp -R "$here/holder" "$work/holder-copy"
ln -s "$here/consumer" "$work/consumer" # holder-copy refers to ../consumer/record-hold.sh
configure Ninja "$work/holder-copy" copy

lock_dir() { cut -d' ' -f3 "$work/$1" | head -n 1; }

build tree-a --target hold &
hold_build=$!
wait_for_line "$work/inside"
dir_a=$(lock_dir tree-a/hold.txt)
case $dir_a in
"$XDG_CACHE_HOME"/buildlock/projects/holder-*) ;;
*) fail "default lock directory $dir_a is not \$XDG_CACHE_HOME/buildlock/projects/holder-<hash>" ;;
esac

# Another tree of the same source shares the lock: its step cannot get it now.
if (export BUILDLOCK_TIMEOUT=0 && build tree-b --target quick); then
  fail "tree-b did not share tree-a's lock"
fi
grep -q 'timed out' "$work/tree-b.log" || { show_log "$work/tree-b.log"; fail "no timeout message"; }
# BUILDLOCK_LOCK_DIR and another source tree: other locks, free now.
(export BUILDLOCK_TIMEOUT=0 && must_build overridden --target quick)
[ "$(lock_dir overridden/quick.txt)" = "$work/override" ] || fail "BUILDLOCK_LOCK_DIR was not used"
(export BUILDLOCK_TIMEOUT=0 && must_build copy --target quick)
dir_copy=$(lock_dir copy/quick.txt)
[ "$dir_copy" != "$dir_a" ] || fail "two source trees share the default lock directory $dir_a"

timeout 60 sh -c 'echo go >"$1"' sh "$work/release" || fail "the hold step no longer listens"
wait "$hold_build" || { show_log "$work/tree-a.log"; fail "tree-a failed"; }
must_build tree-b --target quick
[ "$(lock_dir tree-b/quick.txt)" = "$dir_a" ] || fail "tree-b used $(lock_dir tree-b/quick.txt), not $dir_a"

# BUILDLOCK_DIR, buildlock's own default, is the base when set.
(export BUILDLOCK_DIR="$work/env-dir" && configure Ninja "$here/holder" env-dir)
must_build env-dir --target quick
case $(lock_dir env-dir/quick.txt) in
"$work"/env-dir/projects/holder-*) ;;
*) fail "with BUILDLOCK_DIR the locks are not in \$BUILDLOCK_DIR/projects: $(lock_dir env-dir/quick.txt)" ;;
esac

# Without XDG_CACHE_HOME: ~/.cache.
unset XDG_CACHE_HOME
export HOME="$work/home"
configure Ninja "$here/holder" home
must_build home --target quick
case $(lock_dir home/quick.txt) in
"$work"/home/.cache/buildlock/projects/holder-*) ;;
*) fail "without XDG_CACHE_HOME the locks are not in ~/.cache/buildlock: $(lock_dir home/quick.txt)" ;;
esac
