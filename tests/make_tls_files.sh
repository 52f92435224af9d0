#!/bin/sh
# make_tls_files.sh DIR: a CA (ca.pem), a server certificate for IP 127.0.0.1 (server.pem,
# server.key) and a client certificate (client.pem, client.key), valid for a day, made by openssl
# in DIR, for the etcd members that the tests and the etcd benchmark start with TLS. P-256 keys:
# made in milliseconds, and etcd (Go) takes them.
set -eu
cd "$1"
key='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
# shellcheck disable=SC2086 # $key is several options
openssl req -x509 $key -keyout ca.key -out ca.pem -days 1 -subj /CN=buildlock-test-ca
# The server's certificate serves as a client too: etcd 3.4's JSON gateway connects to its own gRPC
# port with it, and with --client-cert-auth a serverAuth-only certificate is refused there.
for who in server:serverAuth,clientAuth client:clientAuth; do
  name=${who%%:*}
  # shellcheck disable=SC2086
  openssl req $key -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "${who#*:}" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
    -extfile "$name.ext" -out "$name.pem"
done
