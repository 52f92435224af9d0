#!/bin/sh
# with_etcd.sh COMMAND [ARG...]: runs COMMAND beside a fresh one-member etcd on 127.0.0.1 (free
# ports, data in a temporary directory), with every `@ETCD@` in its arguments replaced by the
# member's client endpoint (127.0.0.1:PORT); stops etcd and removes its data afterwards, and exits
# with COMMAND's status. With `@ETCDS@` in an argument, the member serves TLS as well, on a second
# port that `@ETCDS@` becomes (client certificates required, made by make_tls_files.sh), and COMMAND
# gets the certificates in BUILDLOCK_ETCD_CACERT, BUILDLOCK_ETCD_CERT and BUILDLOCK_ETCD_KEY. For
# the chaos run over etcd and the etcd benchmark; the integration tests start their own
# (tests/integration/support/etcd_cluster.h).
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

tls_options=""
for argument; do
  case $argument in
  *@ETCDS@*)
    mkdir "$work/tls"
    if ! sh "$(dirname "$0")/make_tls_files.sh" "$work/tls" >"$work/tls.log" 2>&1; then
      cat "$work/tls.log" >&2
      exit 1
    fi
    tls_options="--cert-file $work/tls/server.pem --key-file $work/tls/server.key"
    tls_options="$tls_options --trusted-ca-file $work/tls/ca.pem --client-cert-auth"
    export BUILDLOCK_ETCD_CACERT="$work/tls/ca.pem" BUILDLOCK_ETCD_CERT="$work/tls/client.pem"
    export BUILDLOCK_ETCD_KEY="$work/tls/client.key"
    break
    ;;
  esac
done

# A random port in 20000-59999 (no python3: .ci/install-deps does not install it). A port someone
# else holds makes etcd exit at once with "address already in use": then it starts again on other
# ports, so no port is ever picked by a bind that could be raced.
port() { echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000)); }
attempt=0
while :; do
  attempt=$((attempt + 1))
  client=$(port)
  peer=$(port)
  client_tls=$(port)
  [ "$client" != "$peer" ] && [ "$client_tls" != "$client" ] && [ "$client_tls" != "$peer" ] ||
    continue
  urls="http://127.0.0.1:$client" listeners=1
  [ -z "$tls_options" ] || urls="$urls,https://127.0.0.1:$client_tls" listeners=2
  rm -rf "$work/data"
  # The log exists before the loop below reads it: etcd's redirection happens in the background
  # job, which may not have run yet ("No such file", then `[` given an empty count).
  : >"$work/etcd.log"
  # shellcheck disable=SC2086 # $tls_options is several options
  etcd --name with-etcd --data-dir "$work/data" --listen-client-urls "$urls" \
    --advertise-client-urls "$urls" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "with-etcd=http://127.0.0.1:$peer" $tls_options >"$work/etcd.log" 2>&1 &
  etcd_pid=$!
  # Ready when it says so in its log, once per listener (it serves only once it has elected itself
  # leader).
  until [ "$(grep -c "ready to serve client requests" "$work/etcd.log")" -ge "$listeners" ]; do
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
  *@ETCD@* | *@ETCDS@*)
    argument=$(printf '%s' "$argument" |
      sed "s/@ETCD@/$endpoint/g; s/@ETCDS@/127.0.0.1:$client_tls/g")
    ;;
  esac
  set -- "$@" "$argument"
done
status=0
"$@" || status=$?
exit $status
