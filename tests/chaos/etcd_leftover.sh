#!/bin/sh
# etcd_leftover.sh ENDPOINT BUILDLOCK BUILDLOCK_CHAOS HOLDER WORK_DIR (run by tests/with_etcd.sh):
# over etcd, the chaos test's last leftovers check lists every key under the variant's prefix with
# etcdctl (issue 20: it used to iterate the etcd:// URL as a directory and so checked nothing). A
# stray key that buildlock itself does not list (no lock's layout) must be reported; a key beside
# the prefix (`/chaos-leftover-other/...`) must not.
set -eu
endpoint=$1 buildlock=$2 chaos=$3 holder=$4 work=$5
etcdctl --endpoints "http://$endpoint" put /chaos-leftover/stray debris >/dev/null
etcdctl --endpoints "http://$endpoint" put /chaos-leftover-other/x/y beside >/dev/null
"$chaos" --buildlock "$buildlock" --holder "$holder" --work-dir "$work" \
  --check-leftovers-of "etcd://$endpoint/chaos-leftover"
