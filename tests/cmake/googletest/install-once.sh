#!/bin/sh
# install-once.sh PREFIX TREE HOOK INSTALL_COMMAND...: unless PREFIX/.installed/googletest says a
# complete install is there, run INSTALL_COMMAND and then write that record (naming build tree
# TREE). With HOOK (a FIFO), write a line to it between the install and the record, then block for
# good, to be killed there. Correct only under a lock.
set -eu
prefix=$1
tree=$2
hook=$3
shift 3
record=$prefix/.installed/googletest
if [ -e "$record" ]; then
  echo "googletest is already installed in $prefix (by $(cat "$record")): reusing it"
  exit 0
fi
"$@"
if [ -n "$hook" ]; then
  echo installed >"$hook"
  read -r never <"$hook.never" # a FIFO that no one writes to
fi
mkdir -p "$prefix/.installed"
echo "$tree" >"$record"
