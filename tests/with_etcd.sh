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

# A random port in 20000-59999 (no python3: .ci/install-deps does not install it). A port someone
# else holds makes etcd exit at once with "address already in use": then it starts again on other
# ports, so no port is ever picked by a bind that could be raced.
port() { echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000)); }
attempt=0
while :; do
  attempt=$((attempt + 1))
  client=$(port)
  peer=$(port)
  [ "$client" != "$peer" ] || continue
  rm -rf "$work/data"
  etcd --name with-etcd --data-dir "$work/data" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "with-etcd=http://127.0.0.1:$peer" >"$work/etcd.log" 2>&1 &
  etcd_pid=$!
  # Ready when it says so in its log (it serves only once it has elected itself leader).
  until grep -q "ready to serve client requests" "$work/etcd.log"; do
    if ! kill -0 "$etcd_pid" 2>/dev/null; then
      wait "$etcd_pid" 2>/dev/null || true
      etcd_pid=""
      break
    fi
    sleep 0.05
  done
  [ -z "$etcd_pid" ] || break
  if [ "$attempt" -ge 5 ] || ! grep -q "address already in use" "$work/etcd.log"; then
    cat "$work/etcd.log" >&2
    exit 1
  fi
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
