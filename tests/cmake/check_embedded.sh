#!/bin/sh
# check_embedded.sh: buildlock embedded CPM-style (embedded/) must stay out of the project's
# install, link shared (not -static) and compile as a unity build by default, and run its limits
# and wrapped steps with Ninja Multi-Config (in a configuration other than the first).
# Cross-compiling, it must accept a host buildlock named by BUILDLOCK_EXECUTABLE, which every
# wrapped step and link then runs instead of the in-tree one.
. "$(dirname "$0")/prelude.sh"
log=$work/links.log
# Release, not the first configuration (Debug), and without optimisation: one compile of buildlock.
configure "Ninja Multi-Config" "$here/embedded" tree "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" \
  "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DLINK_LOG=$log" -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG
tree=$work/tree
grep -q '^BUILDLOCK_LINKAGE:STRING=shared$' "$tree/CMakeCache.txt" || fail "embedded, BUILDLOCK_LINKAGE is not shared"
grep -q '^BUILDLOCK_UNITY_BUILD:BOOL=ON$' "$tree/CMakeCache.txt" || fail "embedded, BUILDLOCK_UNITY_BUILD is not ON"
must_build tree --config Release
find "$tree/buildlock/tool" -name 'unity_*_cxx.cxx' | grep -q . || fail "embedded, buildlock was not compiled as a unity build"
[ -s "$tree/step.txt" ] || fail "the wrapped step did not run under buildlock"
for output in app libshared.so; do
  grep -q "^start [0-9]* tree:[0-9]*:$output $work/locks/links.lock" "$log" ||
    { show_log "$log"; fail "the link of $output did not run under the lock links"; }
done
readelf -d "$tree/buildlock/tool/Release/buildlock" | grep -q '(NEEDED)' ||
  fail "the embedded buildlock is linked statically"
"$tree/Release/app" || fail "app does not run"

# The project's install has the project's files only: nothing of buildlock.
"$CMAKE_COMMAND" --install "$tree" --config Release --prefix "$work/installed" >"$work/install.log" 2>&1 ||
  { show_log "$work/install.log"; fail "cmake --install"; }
installed=$(cd "$work/installed" && find . -type f | sort | tr '\n' ' ')
[ "$installed" = "./bin/app ./lib/libshared.so " ] || fail "the install holds: $installed"

# Cross-compiling (CMAKE_SYSTEM_NAME; the host compiler plays the cross one): a host buildlock
# given by BUILDLOCK_EXECUTABLE runs the wrapped steps and the links, and the in-tree one is not
# built for them.
host=$work/host/buildlock
mkdir -p "$work/host"
cp "$buildlock" "$host"
configure Ninja "$here/embedded" cross "-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR" \
  "-DBUILDLOCK_LOCK_DIR=$work/locks" "-DLINK_LOG=$log" -DCMAKE_SYSTEM_NAME=Linux "-DBUILDLOCK_EXECUTABLE=$host"
must_build cross --target app step
grep -q "Linking CXX executable buildlock/tool/buildlock" "$work/cross.log" && fail "the in-tree buildlock was built"
grep -q "$host run --dir $work/locks" "$work/cross/build.ninja" || fail "the wrapped step does not run $host"
[ "$(cat "$work/cross/CMakeFiles/buildlock/buildlock-executable.txt")" = "$host" ] || fail "the link launcher does not run $host"
[ -s "$work/cross/step.txt" ] || fail "cross: the wrapped step did not run under buildlock"
[ "$(grep -c "^start [0-9]* cross:[0-9]*:app " "$log")" -eq 1 ] || { show_log "$log"; fail "cross: app was not linked under the lock"; }
