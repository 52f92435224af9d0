#!/bin/sh
# install_package.sh BUILD_DIR: install the buildlock build tree BUILD_DIR into BUILDLOCK_PREFIX
# (shared by the other cmake tests) and check that the package is complete.
set -eu
rm -rf "$BUILDLOCK_PREFIX"
"$CMAKE_COMMAND" --install "$1" --prefix "$BUILDLOCK_PREFIX"
config=$(find "$BUILDLOCK_PREFIX" -name buildlockConfig.cmake)
package_dir=${config%/*}
for file in "$BUILDLOCK_PREFIX/bin/buildlock" "$package_dir/buildlockConfigVersion.cmake" \
  "$package_dir/buildlockTargets.cmake" "$package_dir/BuildLock.cmake" "$package_dir/BuildLock/common.cmake"; do
  [ -e "$file" ] || { echo "FAIL: the install lacks $file" >&2; exit 1; }
done
"$BUILDLOCK_PREFIX/bin/buildlock" --version
