# BuildLock.cmake: run build steps under a buildlock lock that concurrent builds share.
#
#   buildlock_wrap(<out-var> LOCK <name> [DIR <dir>] [SHARED | SLOTS <n>] [TIMEOUT <seconds>]
#                  [STALE_AFTER <seconds>] [QUIET | VERBOSE] [NO_DIE_WITH_PARENT]
#                  [KEEP_RUNNING_IF_LOST | STOP_IF_LOST]
#                  COMMAND <cmd> [<arg>...] [COMMAND <cmd> [<arg>...]]...)
#     Sets <out-var> to a command line that runs every COMMAND in order under one hold of the
#     lock, stopping at the first failure. Use it as `COMMAND ${<out-var>} VERBATIM` in
#     add_custom_command()/add_custom_target(), as an ExternalProject step command, or in
#     add_test(NAME ... COMMAND ${<out-var>}).
#
#   buildlock_limit_links(LOCK <name> [TARGETS <target>...] [DIRECTORIES <dir>...] [ALL]
#                         [DIR <dir>] [SHARED | SLOTS <n>] [TIMEOUT <seconds>]
#                         [STALE_AFTER <seconds>] [QUIET | VERBOSE] [NO_DIE_WITH_PARENT]
#                         [KEEP_RUNNING_IF_LOST | STOP_IF_LOST])
#     Runs the link steps (executables, shared libraries, modules, static archives) of the
#     chosen targets under the lock, so that at most <n> of them run at once across every build
#     that uses it. ALL: every target of the calling project (PROJECT_SOURCE_DIR and below).
#     Applied when the top-level CMakeLists.txt has been read.
#
#   buildlock_launcher(<out-var> LOCK <name> [DIR <dir>] [SHARED | SLOTS <n>] [TIMEOUT <seconds>]
#                      [STALE_AFTER <seconds>] [QUIET | VERBOSE] [NO_DIE_WITH_PARENT]
#                      [KEEP_RUNNING_IF_LOST | STOP_IF_LOST])
#     Sets <out-var> to a compiler launcher (a list) for CMAKE_<LANG>_COMPILER_LAUNCHER or the
#     <LANG>_COMPILER_LAUNCHER property; another launcher (ccache) may follow it.
#
#   buildlock_execute_process(LOCK <name> [lock options as above]
#                             COMMAND <cmd> [<arg>...] [COMMAND <cmd> [<arg>...]]...
#                             [RESULT_VARIABLE <var>] [OUTPUT_VARIABLE <var>]
#                             [ERROR_VARIABLE <var>] [WORKING_DIRECTORY <dir>]
#                             [OUTPUT_QUIET] [ERROR_QUIET])
#     Runs the commands now, at configure time, under the lock (execute_process()).
#
#   buildlock_job_pool(<out-var> LOCK <name> [DIR <dir>])
#     Defines a Ninja job pool of depth 1 for that lock and sets <out-var> to its name, for the
#     JOB_POOL option of add_custom_command()/add_custom_target().
#
#   BUILDLOCK_LOCK_DIR (cache variable): lock directory used when DIR is not given. A relative
#     DIR or BUILDLOCK_LOCK_DIR is relative to the top of the build tree (CMAKE_BINARY_DIR).
#   BUILDLOCK_QUIET, BUILDLOCK_VERBOSE (cache variables): --quiet / --verbose for every call that
#     gives neither QUIET nor VERBOSE.
#   BUILDLOCK_TRACE (cache variable): a trace file every wrapped step, launcher and configure-time
#     call appends its waits and holds to (`run --trace`); `buildlock report` reads it.
#   BUILDLOCK_EXECUTABLE (cache variable): a buildlock for the build host, run instead of the
#     target buildlock::buildlock (cross-compiling; configure time with an in-tree buildlock).
#
# The reference, with the reasons behind each default, is docs/cmake.md.

include_guard(GLOBAL)
# Functions record the policies in effect where they are defined: use ours, not the caller's.
cmake_policy(VERSION 3.25)

set(BUILDLOCK_LOCK_DIR "" CACHE PATH
    "Lock directory for the calls of the BuildLock module without DIR; empty: one per source tree, below buildlock's default directory (docs/cmake.md)")
option(BUILDLOCK_QUIET "Pass --quiet to buildlock in every call of the BuildLock module without QUIET or VERBOSE" OFF)
option(BUILDLOCK_VERBOSE "Pass --verbose to buildlock in every call of the BuildLock module without QUIET or VERBOSE" OFF)
set(BUILDLOCK_TRACE "" CACHE FILEPATH
    "Trace file for every buildlock run the BuildLock module generates (run --trace); empty: none, unless BUILDLOCK_TRACE is set in the build's environment (docs/cmake.md)")
set(BUILDLOCK_EXECUTABLE "" CACHE FILEPATH
    "A buildlock that runs on the build host, used instead of the target buildlock::buildlock (cross-compiling, configure time; docs/cmake.md)")

include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/common.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/executable.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/wrap.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/links.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/launcher.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/BuildLock/execute_process.cmake")
