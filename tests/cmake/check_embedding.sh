#!/bin/sh
# check_embedding.sh GENERATOR: embedding/ embeds buildlock with FetchContent, at the top and from
# inside a function (as CPM does). buildlock must impose nothing on the project:
# - no compile_commands.json unless the project asks for one (then with the project's files);
# - buildlock compiles as a unity build by default, but follows an explicit CMAKE_UNITY_BUILD, OFF
#   or ON;
# and its functions must be there without include(), while a plain include(BuildLock) works too,
# also after FetchContent from inside a function. Configuring only: nothing is compiled.
. "$(dirname "$0")/prelude.sh"
generator=$1
common="-DBUILDLOCK_SOURCE_DIR=$BUILDLOCK_SOURCE_DIR"
unity_sources() {
  grep -rhoE 'Unity/unity_[0-9]+_cxx\.cxx' "$work/$1" --include=build.ninja --include='*.make' | sort -u | wc -l
}
cache_value() {
  sed -n "s/^$2:[A-Z]*=//p" "$work/$1/CMakeCache.txt"
}

configure "$generator" "$here/embedding" default "$common"
[ ! -e "$work/default/compile_commands.json" ] || fail "a compile_commands.json the project did not ask for"
[ "$(cache_value default BUILDLOCK_UNITY_BUILD)" = ON ] || fail "by default, buildlock is not a unity build"
[ "$(unity_sources default)" -gt 0 ] || fail "by default, the build has no unity sources"

configure "$generator" "$here/embedding" no-export "$common" -DCMAKE_EXPORT_COMPILE_COMMANDS=OFF
[ ! -e "$work/no-export/compile_commands.json" ] || fail "CMAKE_EXPORT_COMPILE_COMMANDS=OFF, but a compile_commands.json"

configure "$generator" "$here/embedding" export "$common" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
grep -q '/links/app\.c"' "$work/export/compile_commands.json" ||
  fail "CMAKE_EXPORT_COMPILE_COMMANDS=ON: compile_commands.json lacks the project's app.c"

configure "$generator" "$here/embedding" unity-off "$common" -DCMAKE_UNITY_BUILD=OFF
[ "$(cache_value unity-off BUILDLOCK_UNITY_BUILD)" = OFF ] || fail "CMAKE_UNITY_BUILD=OFF, but buildlock is a unity build"
[ "$(unity_sources unity-off)" -eq 0 ] || fail "CMAKE_UNITY_BUILD=OFF, but the build has unity sources"

configure "$generator" "$here/embedding" unity-on "$common" -DCMAKE_UNITY_BUILD=ON
[ "$(cache_value unity-on BUILDLOCK_UNITY_BUILD)" = ON ] || fail "CMAKE_UNITY_BUILD=ON, but buildlock is not a unity build"

# From a function, as CPM does: the module path set in the function's scope is gone, include()
# must still find the module (configure() fails otherwise).
configure "$generator" "$here/embedding" function "$common" -DEMBED_FROM=function
# A second configure of the same tree keeps working.
configure "$generator" "$here/embedding" function "$common" -DEMBED_FROM=function
true
