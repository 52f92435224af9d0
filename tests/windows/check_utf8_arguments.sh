#!/bin/sh
# buildlock.exe reads its command line as UTF-8 (tool/windows/buildlock.manifest): a --dir with
# non-ASCII characters comes back byte for byte in its message. Without the manifest, Windows (and
# Wine) would pass main() the ANSI code page's bytes (é as 0xE9).
# usage: check_utf8_arguments.sh WINE_BUILDLOCK WORK_DIR
set -eu
buildlock=$1 work=$2
directory="$work/caf$(printf '\303\251')-$(printf '\346\227\245')"
output=$("$buildlock" status --dir "$directory" 2>&1)
echo "$output"
case "$output" in
*"no locks in \`$directory\`"*) ;;
*) echo "expected the directory's UTF-8 name in the message"; exit 1 ;;
esac
