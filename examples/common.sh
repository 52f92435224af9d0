# Sourced by the examples' run.sh scripts: options, a work directory, configure and build helpers.
#
# Options of every run.sh:
#   -G GENERATOR      CMake generator for the example's build trees (default: Ninja)
#   --buildlock-dir D directory holding buildlockConfig.cmake: a buildlock build tree or
#                     <prefix>/lib/cmake/buildlock (default: $buildlock_DIR, else CMake's search)
#   --work D          where the build trees, caches and logs go; kept (default: a temporary
#                     directory, removed at exit)
set -eu

example_dir=$(cd "$(dirname "$0")" && pwd)
cmake=${CMAKE_COMMAND:-cmake}
# The examples' builds are builds of their own, not part of a surrounding make's job server.
unset MAKEFLAGS MFLAGS MAKELEVEL
generator=Ninja
package_dir=${buildlock_DIR:-}
work=

while [ $# -gt 0 ]; do
  case $1 in
  -G) generator=$2; shift 2 ;;
  --buildlock-dir) package_dir=$2; shift 2 ;;
  --work) work=$2; shift 2 ;;
  *) echo "usage: $0 [-G GENERATOR] [--buildlock-dir DIR] [--work DIR]" >&2; exit 2 ;;
  esac
done

if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/buildlock-example.XXXXXX")
  trap 'rm -rf "$work"' EXIT
else
  rm -rf "$work"
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
fi

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

show_log() { # show_log FILE: print a log, indented, when something went wrong
  sed 's/^/    | /' "$1" >&2
}

# configure TREE [CMAKE_ARGS...]: configure the example's source into $work/TREE.
configure() {
  tree=$1
  shift
  set -- -S "$example_dir" -B "$work/$tree" -G "$generator" "$@"
  if [ -n "$package_dir" ]; then
    set -- "$@" "-Dbuildlock_DIR=$package_dir"
  fi
  "$cmake" "$@" >"$work/$tree.configure.log" 2>&1 ||
    { show_log "$work/$tree.configure.log"; fail "configuring $tree"; }
}

# The trace file the demo asks for (BUILDLOCK_EXAMPLE_TRACE): given to each build as
# BUILDLOCK_TRACE, so that each `cmake --build` is a build of its own in the trace (the outermost
# process whose environment sets BUILDLOCK_TRACE, docs/cli.md#trace), not this script.
trace_file=${BUILDLOCK_EXAMPLE_TRACE:-${BUILDLOCK_TRACE:-}}

# build TREE [CMAKE_BUILD_ARGS...]: build $work/TREE, output into $work/TREE.log; the exit
# status is the build's.
build() {
  tree=$1
  shift
  BUILDLOCK_TRACE=$trace_file "$cmake" --build "$work/$tree" --parallel 2 "$@" >"$work/$tree.log" 2>&1
}
