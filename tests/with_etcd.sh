#!/bin/sh
# with_etcd.sh COMMAND [ARG...]: runs COMMAND beside a fresh one-member etcd on 127.0.0.1 (free
# ports, data in a temporary directory), with every `@ETCD@` in its arguments replaced by the
# member's client endpoint (127.0.0.1:PORT); stops etcd and removes its data afterwards, and exits
# with COMMAND's status. For the chaos run over etcd and the etcd benchmark; the integration tests
# start their own (tests/integration/support/etcd_cluster.h).
set -eu
work=$(mktemp -d)
etcd_pid=""
cleanup() {
  if [ -n "$etcd_pid" ]; then
    kill -9 "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
client=$(port)
peer=$(port)
etcd --name with-etcd --data-dir "$work/data" --listen-client-urls "http://127.0.0.1:$client" \
  --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "with-etcd=http://127.0.0.1:$peer" >"$work/etcd.log" 2>&1 &
etcd_pid=$!
# Ready when it says so in its log (it serves only once it has elected itself leader).
until grep -q "ready to serve client requests" "$work/etcd.log"; do
  if ! kill -0 "$etcd_pid" 2>/dev/null; then
    cat "$work/etcd.log" >&2
    exit 1
  fi
  sleep 0.05
done

endpoint="127.0.0.1:$client"
for argument; do
  shift
  case $argument in
  *@ETCD@*) argument=$(printf '%s' "$argument" | sed "s/@ETCD@/$endpoint/g") ;;
  esac
  set -- "$@" "$argument"
done
status=0
"$@" || status=$?
exit $status
