#!/bin/sh
# record.sh LOG COMMAND [ARG...]: append the name of what COMMAND writes (after -o, or the archive
# of `ar qc`/`ranlib`) to LOG, then run it.
log=$1
shift
output=
previous=
for argument in "$@"; do
  case $previous in -o | qc) output=$(basename "$argument") ;; esac
  previous=$argument
done
case $(basename "$1") in *ranlib) output="ranlib $(basename "$2")" ;; esac
echo "${output:-$(basename "$1")}" >>"$log"
exec "$@"
