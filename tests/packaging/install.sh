#!/bin/sh
# install.sh: `cmake --install` this build tree into BUILDLOCK_PREFIX, for the other tests here.
set -eu
rm -rf "$BUILDLOCK_PREFIX"
"$CMAKE_COMMAND" --install "$BUILDLOCK_BUILD_DIR" --prefix "$BUILDLOCK_PREFIX" >/dev/null
