#!/bin/sh
# launcher_cost.sh --buildlock PATH --module-dir DIR [--units N] [--rounds R] [--work DIR]:
# what buildlock_launcher() adds to each compile. Generates a project of N tiny C translation
# units, configures it twice with Ninja (plain compiles, and compiles under
# buildlock_launcher(LOCK compiles SLOTS 2) with BUILDLOCK_EXECUTABLE=PATH), then builds each from
# clean R times with `ninja -j1`, alternating which goes first, and prints a Markdown table of the
# median build times and the added time per compile. -j1: the added latency of each compile, not
# hidden behind a parallel one. Part of docs/performance.md; `ctest -R bench_launcher_smoke` runs
# it tiny.
set -eu
buildlock= module_dir= units=200 rounds=5 work=${TMPDIR:-/tmp}/buildlock-launcher-bench
while [ $# -gt 0 ]; do
  case $1 in
  --buildlock) buildlock=$2 ;;
  --module-dir) module_dir=$2 ;;
  --units) units=$2 ;;
  --rounds) rounds=$2 ;;
  --work) work=$2 ;;
  *) echo "launcher_cost.sh: error: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x "$buildlock" ] && [ -f "$module_dir/BuildLock.cmake" ] ||
  { echo "launcher_cost.sh: error: needs --buildlock PATH and --module-dir DIR" >&2; exit 2; }
cmake=${CMAKE_COMMAND:-cmake}
rm -rf "$work"
mkdir -p "$work/project"
cat >"$work/project/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(launcher_bench C)
include("$module_dir/BuildLock.cmake")
if(WITH_LAUNCHER)
  buildlock_launcher(launcher LOCK compiles SLOTS 2 DIR "$work/locks")
  set(CMAKE_C_COMPILER_LAUNCHER \${launcher})
endif()
file(GLOB sources "\${CMAKE_CURRENT_SOURCE_DIR}/unit*.c")
add_library(units OBJECT \${sources})
CMAKE
unit=1
while [ "$unit" -le "$units" ]; do
  echo "int unit$unit(int x) { return x + $unit; }" >"$work/project/unit$unit.c"
  unit=$((unit + 1))
done
# The compiler launcher from the environment (ccache) would measure the cache instead.
unset CMAKE_C_COMPILER_LAUNCHER CMAKE_CXX_COMPILER_LAUNCHER
for variant in plain launcher; do
  with=OFF
  [ "$variant" = launcher ] && with=ON
  "$cmake" -S "$work/project" -B "$work/$variant" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DWITH_LAUNCHER=$with" "-DBUILDLOCK_EXECUTABLE=$buildlock" >"$work/$variant.configure.log" 2>&1 ||
    { cat "$work/$variant.configure.log" >&2; exit 1; }
done
grep -q " run --dir $work/locks --slots 2 --die-with-parent compiles -- " "$work/launcher/CMakeFiles/rules.ninja" ||
  { echo "launcher_cost.sh: error: the launcher is not on the compiles" >&2; exit 1; }

now_ns() { date +%s%N; }
# time_build VARIANT: builds VARIANT from clean, appends the wall time in ns to $work/VARIANT.times.
time_build() {
  ninja -C "$work/$1" -t clean >/dev/null
  start=$(now_ns)
  ninja -C "$work/$1" -j1 >"$work/$1.build.log" 2>&1 || { cat "$work/$1.build.log" >&2; exit 1; }
  echo $(($(now_ns) - start)) >>"$work/$1.times"
}
round=1
while [ "$round" -le "$rounds" ]; do
  if [ $((round % 2)) -eq 1 ]; then time_build plain; time_build launcher; else time_build launcher; time_build plain; fi
  round=$((round + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
plain=$(median "$work/plain.times")
launched=$(median "$work/launcher.times")
awk -v p="$plain" -v l="$launched" -v n="$units" -v r="$rounds" 'BEGIN {
  printf "| %d compiles, ninja -j1, median of %d | plain | under buildlock_launcher() | added per compile |\n", n, r
  print "| --- | --- | --- | --- |"
  printf "| wall time | %.2f s | %.2f s (%.3fx) | %.2f ms |\n", p / 1e9, l / 1e9, l / p, (l - p) / n / 1e6
}'
rm -rf "$work"
