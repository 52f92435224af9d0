#!/bin/sh
# install-once.sh PREFIX PACKAGE TREE INSTALL_COMMAND...: install PACKAGE into PREFIX with
# INSTALL_COMMAND unless it is installed already; record which build tree TREE installed it.
# Correct only under a lock: the check and the install must not interleave with another build's.
set -eu
prefix=$1
package=$2
tree=$3
shift 3
record=$prefix/.installed/$package
if [ -e "$record" ]; then
  echo "$package is already installed in $prefix (by build tree $(cat "$record")): reusing it"
  exit 0
fi
"$@"
mkdir -p "$prefix/.installed"
echo "$tree" >"$record"
echo "$tree" >>"$prefix/.installed/install-log"
