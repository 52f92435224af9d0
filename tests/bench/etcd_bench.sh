#!/bin/sh
# tests/with_etcd.sh sh tests/bench/etcd_bench.sh BUILDLOCK @ETCD@ [@ETCDS@]: buildlock on an etcd
# location beside `etcdctl lock`, in the same run, against the one etcd 3.4 member with_etcd.sh
# starts on 127.0.0.1 (default election settings, data in a temporary directory). Both use a lease
# TTL of 10 s (either's default). With @ETCDS@, every figure again over TLS (the same member's TLS
# port, client certificates from BUILDLOCK_ETCD_CACERT, _CERT and _KEY, which with_etcd.sh sets),
# each transport's figures one after the other in the same run.
#
#   uncontended  acquire, run `true`, release: median wall time of RUNS runs
#   handoff      a holder's command prints a timestamp and exits; a waiter's command prints one as
#                it starts: median gap over HANDOFFS handoffs (holder exit + release + wake + exec),
#                the tools' handoffs taken in turn. BUILDLOCK_OTHER names a second buildlock
#                binary (another build) to measure beside them, in the same turns.
#   kill -9      the holder's whole job is killed with SIGKILL while a waiter waits: time until
#                the waiter's command starts
#   other host   buildlock only: a holder "on another host" (its key's metadata names another
#                boot id; its lease kept alive by `etcdctl lease keep-alive`) stops renewing: time
#                until the waiter's command starts. For etcdctl lock every holder is judged this
#                way, so its kill -9 figure is its "other host" figure too.
#
# Prints one line per figure and transport. FIGURES picks some of them (default: "uncontended
# handoff kill other"). Needs etcdctl and GNU date (%N).
set -eu
buildlock=$1
runs=${RUNS:-30}
handoffs=${HANDOFFS:-10}
figures=${FIGURES:-uncontended handoff kill other}
plain_endpoint=$2
tls_endpoint=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk '{ printf "%.1f ms\n", $1 / 1e6 }'; }
export ETCDCTL_API=3
# Where both tools talk to: `plain` or `tls`.
use() {
  if [ "$1" = tls ]; then
    location="etcds://$tls_endpoint/bench"
    ctl="etcdctl --endpoints https://$tls_endpoint --cacert $BUILDLOCK_ETCD_CACERT"
    ctl="$ctl --cert $BUILDLOCK_ETCD_CERT --key $BUILDLOCK_ETCD_KEY"
  else
    location="etcd://$plain_endpoint/bench"
    ctl="etcdctl --endpoints $plain_endpoint"
  fi
}

# The ways to run COMMAND under lock NAME: buildlock (BINARY given), buildlock, etcdctl, and
# BUILDLOCK_OTHER's buildlock.
run_binary() { binary=$1 name=$2; shift 2; "$binary" run --dir "$location" -q "$name" -- "$@"; }
with_buildlock() { run_binary "$buildlock" "$@"; }
with_etcdctl() { name=$1; shift; $ctl lock "$name" -- "$@" >/dev/null; }
with_other() { run_binary "$BUILDLOCK_OTHER" "$@"; }

uncontended() {
  i=0
  while [ $i -lt "$runs" ]; do
    start=$(now); "$1" U true; end=$(now)
    echo $((end - start))
    i=$((i + 1))
  done | median | ms
}

# A holder whose command exits at once after stamping `released`, a waiter that stamps
# `acquired` as its command starts; the holder starts first and waits on a FIFO. Prints the gap.
handoff_once() {
  rm -f "$work/go" "$work/released" "$work/acquired" "$work/holding"
  mkfifo "$work/go"
  "$1" H sh -c ": > '$work/holding'; read x < '$work/go'; date +%s%N > '$work/released'" &
  holder=$!
  until [ -e "$work/holding" ]; do sleep 0.01; done
  "$1" H sh -c "date +%s%N > '$work/acquired'" &
  waiter=$!
  sleep 0.5 # the waiter queues (no observable signal common to both tools)
  echo go > "$work/go"
  wait $holder $waiter
  echo $(($(cat "$work/acquired") - $(cat "$work/released")))
}

# HANDOFFS handoffs with each tool (and BUILDLOCK_OTHER's), taken in turn, so that a change in
# the machine's state during the run falls on each alike; then one line per tool.
handoff_turns() {
  tools="with_buildlock with_etcdctl${BUILDLOCK_OTHER:+ with_other}"
  for tool in $tools; do : > "$work/gaps.$tool"; done
  i=0
  while [ $i -lt "$handoffs" ]; do
    for tool in $tools; do handoff_once $tool >> "$work/gaps.$tool"; done
    i=$((i + 1))
  done
  echo "$transport, handoff, buildlock:        $(median < "$work/gaps.with_buildlock" | ms)"
  echo "$transport, handoff, etcdctl lock:     $(median < "$work/gaps.with_etcdctl" | ms)"
  if [ -n "${BUILDLOCK_OTHER:-}" ]; then
    echo "$transport, handoff, BUILDLOCK_OTHER:  $(median < "$work/gaps.with_other" | ms)"
  fi
}

# kill -9 of the holder's job: the tool and its command, one session (setsid).
reclaim_after_kill() {
  rm -f "$work/holding" "$work/acquired"
  # The command records its session, which setsid made with the tool as its leader (buildlock then
  # gives the command a process group of its own: the whole session is the job).
  holder="ps -o sid= -p \$\$ > '$work/holding.tmp'; mv '$work/holding.tmp' '$work/holding'; exec sleep 300"
  if [ "$1" = with_buildlock ]; then
    setsid "$buildlock" run --dir "$location" -q K -- sh -c "$holder" &
  else
    setsid $ctl lock K -- sh -c "$holder" >/dev/null &
  fi
  until [ -e "$work/holding" ]; do sleep 0.01; done
  session=$(tr -d ' ' < "$work/holding")
  "$1" K sh -c "date +%s%N > '$work/acquired'" &
  waiter=$!
  sleep 0.5 # the waiter queues
  killed=$(now)
  kill -9 "$session"         # the tool first: it must not see its command die and release
  pkill -9 -s "$session" || true
  wait $waiter
  echo $(($(cat "$work/acquired") - killed)) | ms
}

reclaim_other_host() {
  rm -f "$work/acquired"
  lease=$($ctl lease grant 10 | awk '{ print $2 }')
  $ctl put --lease="$lease" "/bench/O/$lease" \
    '{"format":"buildlock","version":1,"mode":"exclusive","pid":1,"start_time":1,"boot_id":"another-machine","pid_namespace":"pid:[1]","host":"elsewhere","user":"ci","uid":1000,"command":["make"],"acquired_at":"2026-01-01T00:00:00.000Z"}' >/dev/null
  $ctl lease keep-alive "$lease" >/dev/null &
  keeper=$!
  with_buildlock O sh -c "date +%s%N > '$work/acquired'" &
  waiter=$!
  sleep 0.5 # the waiter queues
  stopped=$(now)
  kill -9 $keeper
  wait $waiter
  echo $(($(cat "$work/acquired") - stopped)) | ms
}

wanted() { case " $figures " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for transport in plain ${tls_endpoint:+tls}; do
  use $transport
  if wanted uncontended; then
    echo "$transport, uncontended, buildlock:    $(uncontended with_buildlock)"
    echo "$transport, uncontended, etcdctl lock: $(uncontended with_etcdctl)"
  fi
  if wanted handoff; then
    handoff_turns
  fi
  if wanted kill; then
    echo "$transport, kill -9, buildlock:        $(reclaim_after_kill with_buildlock)"
    echo "$transport, kill -9, etcdctl lock:     $(reclaim_after_kill with_etcdctl)"
  fi
  if wanted other; then
    echo "$transport, other host, buildlock:     $(reclaim_other_host)"
  fi
done
