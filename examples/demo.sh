#!/bin/sh
# The buildlock demo: two "builds" update one shared cache at the same time, first without and
# then with buildlock; then a build holding the lock is killed with SIGKILL and the next one
# proceeds at once. Usage: demo.sh BUILDLOCK_BINARY
set -eu
buildlock=${1:?usage: demo.sh BUILDLOCK_BINARY}
work=$(mktemp -d "${TMPDIR:-/tmp}/buildlock-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export BUILDLOCK_DIR="$work/locks"
updates=100

# A cache update that corrupts under concurrency: read a counter, pause, write it back plus one.
cat >"$work/update-cache" <<'SCRIPT'
#!/bin/sh
count=$(cat "$1" 2>/dev/null || echo 0)
sleep 0.001
echo $((count + 1)) >"$1"
SCRIPT
chmod +x "$work/update-cache"

build() { # build WRAPPER... : one "build" that updates the cache $updates times
  i=0
  while [ $i -lt $updates ]; do
    "$@" "$work/update-cache" "$work/cache"
    i=$((i + 1))
  done
}

echo "== 1. Two builds share one cache, each updating it $updates times =="
rm -f "$work/cache"
build env & build env & wait
echo "without a lock: cache counter = $(cat "$work/cache") (expected $((2 * updates)): updates were lost)"
rm -f "$work/cache"
build "$buildlock" run cache -- & build "$buildlock" run cache -- & wait
result=$(cat "$work/cache")
echo "with buildlock: cache counter = $result (expected $((2 * updates)))"
[ "$result" -eq $((2 * updates)) ]

echo
echo "== 2. A build holding the lock is killed with SIGKILL (OOM, cancelled CI job) =="
"$buildlock" run cache -- sleep 600 &
holder=$!
# Wait until the holder has started its command, then kill the wrapper and the command.
while ! pgrep -P "$holder" sleep >/dev/null; do sleep 0.01; done
command_pid=$(pgrep -P "$holder" sleep)
kill -9 "$holder" "$command_pid"
wait "$holder" 2>/dev/null || true
echo "killed buildlock (pid $holder) and its command (pid $command_pid); the lock file is left behind:"
ls "$BUILDLOCK_DIR"
start=$(date +%s%N)
"$buildlock" run --verbose cache -- true 2>&1 | sed 's/^/  /'
end=$(date +%s%N)
echo "the next build got the lock after $(( (end - start) / 1000000 )) ms, without waiting or manual clean-up"
