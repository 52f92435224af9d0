#!/bin/sh
# dump-arguments.sh FILE ARG...: write each ARG into FILE in hex, one a line, so that any byte
# difference from what CMake was given shows (expected_arguments() in CMakeLists.txt).
set -eu
file=$1
shift
: >"$file"
for argument in "$@"; do
  printf '%s' "$argument" | od -An -v -tx1 | tr -d ' \n' >>"$file"
  echo >>"$file"
done
