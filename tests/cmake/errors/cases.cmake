# Every misuse that must stop configuration: buildlock_error_case(<name> <code> <message>), where
# <code> is run in a project that found the buildlock package and <message> must appear in the
# error. Included by tests/cmake/CMakeLists.txt (registers one test per case) and by
# errors/CMakeLists.txt (runs the case named by CASE).
string(REPEAT "x" 129 too_long)

buildlock_error_case(unknown_keyword
  [[buildlock_wrap(cmd LOCK x TIMOUT 5 COMMAND true)]]
  [[buildlock_wrap: unknown keyword "TIMOUT"]])
buildlock_error_case(missing_lock
  [[buildlock_wrap(cmd COMMAND true)]]
  [[buildlock_wrap: missing LOCK <name>]])
buildlock_error_case(lock_after_command
  [[buildlock_wrap(cmd COMMAND true LOCK x)]]
  [[buildlock_wrap: missing LOCK <name> (options come before the first COMMAND)]])
buildlock_error_case(missing_command
  [[buildlock_wrap(cmd LOCK x)]]
  [[buildlock_wrap: missing COMMAND]])
buildlock_error_case(empty_last_command
  [[buildlock_wrap(cmd LOCK x COMMAND true COMMAND)]]
  [[buildlock_wrap: COMMAND without a command to run]])
buildlock_error_case(empty_command_between
  [[buildlock_wrap(cmd LOCK x COMMAND COMMAND true)]]
  [[buildlock_wrap: COMMAND without a command to run]])
buildlock_error_case(invalid_lock_name
  [[buildlock_wrap(cmd LOCK ../x COMMAND true)]]
  [[buildlock_wrap: invalid lock name "../x"]])
buildlock_error_case(empty_lock_name
  [[buildlock_wrap(cmd LOCK "" COMMAND true)]]
  [[buildlock_wrap: invalid lock name ""]])
buildlock_error_case(lock_name_too_long
  [[buildlock_wrap(cmd LOCK ${too_long} COMMAND true)]]
  "buildlock_wrap: invalid lock name \"${too_long}\"")
buildlock_error_case(keyword_twice
  [[buildlock_wrap(cmd LOCK a LOCK b COMMAND true)]]
  [[buildlock_wrap: LOCK given more than once]])
buildlock_error_case(keyword_without_value
  [[buildlock_wrap(cmd LOCK COMMAND true)]]
  [[buildlock_wrap: LOCK needs a value]])
buildlock_error_case(timeout_not_a_number
  [[buildlock_wrap(cmd LOCK x TIMEOUT soon COMMAND true)]]
  [[buildlock_wrap: TIMEOUT "soon" is not a number of seconds]])
buildlock_error_case(stale_after_negative
  [[buildlock_wrap(cmd LOCK x STALE_AFTER -1 COMMAND true)]]
  [[buildlock_wrap: STALE_AFTER "-1" is not a number of seconds]])
buildlock_error_case(timeout_over_a_year
  [[buildlock_wrap(cmd LOCK x TIMEOUT 31536001 COMMAND true)]]
  [[buildlock_wrap: TIMEOUT "31536001" is longer than a year]])
buildlock_error_case(keep_running_and_stop_if_lost
  [[buildlock_wrap(cmd LOCK x KEEP_RUNNING_IF_LOST STOP_IF_LOST COMMAND true)]]
  [[buildlock_wrap: KEEP_RUNNING_IF_LOST and STOP_IF_LOST exclude each other]])
buildlock_error_case(quiet_and_verbose_variables
  [[set(BUILDLOCK_QUIET ON)
    set(BUILDLOCK_VERBOSE ON)
    buildlock_wrap(cmd LOCK x COMMAND true)]]
  [[buildlock_wrap: BUILDLOCK_QUIET and BUILDLOCK_VERBOSE exclude each other]])
buildlock_error_case(empty_dir
  [[buildlock_wrap(cmd LOCK x DIR "" COMMAND true)]]
  [[buildlock_wrap: DIR is empty]])
buildlock_error_case(quiet_and_verbose
  [[buildlock_wrap(cmd LOCK x QUIET VERBOSE COMMAND true)]]
  [[buildlock_wrap: QUIET and VERBOSE exclude each other]])
buildlock_error_case(shared_and_slots
  [[buildlock_wrap(cmd LOCK x SHARED SLOTS 2 COMMAND true)]]
  [[buildlock_wrap: SHARED and SLOTS exclude each other]])
buildlock_error_case(slots_zero
  [[buildlock_wrap(cmd LOCK x SLOTS 0 COMMAND true)]]
  [[buildlock_wrap: SLOTS "0" is not a whole number from 1 to 64]])
buildlock_error_case(slots_over_64
  [[buildlock_wrap(cmd LOCK x SLOTS 65 COMMAND true)]]
  [[buildlock_wrap: SLOTS "65" is not a whole number from 1 to 64]])
buildlock_error_case(slots_fraction
  [[buildlock_wrap(cmd LOCK x SLOTS 1.5 COMMAND true)]]
  [[buildlock_wrap: SLOTS "1.5" is not a whole number from 1 to 64]])
buildlock_error_case(slots_leading_zero
  [[buildlock_wrap(cmd LOCK x SLOTS 02 COMMAND true)]]
  [[buildlock_wrap: SLOTS "02" is not a whole number from 1 to 64]])
buildlock_error_case(slots_without_value
  [[buildlock_wrap(cmd LOCK x SLOTS COMMAND true)]]
  [[buildlock_wrap: SLOTS needs a value]])
buildlock_error_case(slots_disagree
  [[buildlock_wrap(a LOCK x SLOTS 2 COMMAND true)
    buildlock_wrap(b LOCK x SLOTS 3 COMMAND true)]]
  [[is used with SLOTS 2 by an earlier call, and with SLOTS 3 here]])
buildlock_error_case(slots_after_exclusive
  [[buildlock_wrap(a LOCK x SHARED COMMAND true)
    buildlock_wrap(b LOCK x COMMAND true)
    buildlock_wrap(c LOCK x SLOTS 2 COMMAND true)]]
  [[is used without SLOTS by an earlier call, and with SLOTS 2 here: every use of one lock must ask for the same SLOTS]])
buildlock_error_case(no_output_variable
  [[buildlock_wrap("" LOCK x COMMAND true)]]
  [[buildlock_wrap: missing the output variable]])
buildlock_error_case(wrap_without_output_variable
  [[buildlock_wrap(LOCK foo COMMAND true)]]
  [[buildlock_wrap: missing the output variable (the first argument is the keyword LOCK)]])
# /tmp/x, /tmp/x/ and /tmp//x are one lock directory: one SLOTS check, one pool.
buildlock_error_case(dir_spellings_slots_disagree
  [[buildlock_wrap(a LOCK x DIR /tmp/buildlock-x SLOTS 2 COMMAND true)
    buildlock_wrap(b LOCK x DIR /tmp//buildlock-x/ SLOTS 3 COMMAND true)]]
  [[lock "x" in /tmp/buildlock-x is used with SLOTS 2 by an earlier call, and with SLOTS 3 here]])
buildlock_error_case(job_pool_dir_spellings_agree
  [[buildlock_job_pool(a LOCK x DIR /tmp/buildlock-x)
    buildlock_job_pool(b LOCK x DIR /tmp/buildlock-x/)
    buildlock_job_pool(c LOCK x DIR /tmp//buildlock-x)
    if(a STREQUAL b AND a STREQUAL c)
      message(FATAL_ERROR "one pool for three spellings of one directory")
    endif()]]
  [[one pool for three spellings of one directory]])
buildlock_error_case(job_pool_empty_dir
  [[buildlock_job_pool(pool LOCK x DIR "")]]
  [[buildlock_job_pool: DIR is empty]])
buildlock_error_case(job_pool_without_output_variable
  [[buildlock_job_pool(LOCK x)]]
  [[buildlock_job_pool: missing the output variable (the first argument is the keyword LOCK)]])
buildlock_error_case(job_pool_unknown_keyword
  [[buildlock_job_pool(pool LOCK x DEPTH 2)]]
  [[buildlock_job_pool: unknown keyword "DEPTH"]])
buildlock_error_case(job_pool_missing_lock
  [[buildlock_job_pool(pool)]]
  [[buildlock_job_pool: missing LOCK <name>]])
buildlock_error_case(job_pool_lock_without_value
  [[buildlock_job_pool(pool LOCK)]]
  [[buildlock_job_pool: LOCK needs a value]])
buildlock_error_case(job_pool_invalid_lock_name
  [[buildlock_job_pool(pool LOCK -x)]]
  [[buildlock_job_pool: invalid lock name "-x"]])

# buildlock_limit_links()
buildlock_error_case(links_unknown_keyword
  [[buildlock_limit_links(LOCK x ALL SLOT 2)]]
  [[buildlock_limit_links: unknown keyword "SLOT"]])
buildlock_error_case(links_missing_lock
  [[buildlock_limit_links(SLOTS 2 ALL)]]
  [[buildlock_limit_links: missing LOCK <name>]])
buildlock_error_case(links_nothing_to_limit
  [[buildlock_limit_links(LOCK x SLOTS 2)]]
  [[buildlock_limit_links: nothing to limit: give TARGETS <target>..., DIRECTORIES <dir>... or ALL]])
buildlock_error_case(links_empty_targets
  [[buildlock_limit_links(LOCK x TARGETS SLOTS 2)]]
  [[buildlock_limit_links: TARGETS needs at least one value]])
buildlock_error_case(links_keyword_twice
  [[buildlock_limit_links(LOCK x ALL SLOTS 2 SLOTS 3)]]
  [[buildlock_limit_links: SLOTS given more than once]])
buildlock_error_case(links_shared_and_slots
  [[buildlock_limit_links(LOCK x ALL SHARED SLOTS 2)]]
  [[buildlock_limit_links: SHARED and SLOTS exclude each other]])
buildlock_error_case(links_slots_over_64
  [[buildlock_limit_links(LOCK x ALL SLOTS 100)]]
  [[buildlock_limit_links: SLOTS "100" is not a whole number from 1 to 64]])
buildlock_error_case(links_invalid_lock_name
  [[buildlock_limit_links(LOCK "a b" ALL)]]
  [[buildlock_limit_links: invalid lock name "a b"]])
buildlock_error_case(links_no_such_target
  [[buildlock_limit_links(LOCK x TARGETS nowhere)]]
  [[buildlock_limit_links: TARGETS: there is no target "nowhere"]])
buildlock_error_case(links_imported_target
  [[buildlock_limit_links(LOCK x TARGETS buildlock::buildlock)]]
  [[buildlock_limit_links: TARGETS: "buildlock::buildlock" is imported: this build does not link it]])
buildlock_error_case(links_interface_target
  [[add_library(headers INTERFACE)
    buildlock_limit_links(LOCK x TARGETS headers)]]
  [[buildlock_limit_links: TARGETS: "headers" is of type INTERFACE_LIBRARY, which has no link step]])
buildlock_error_case(links_target_on_two_locks
  [[add_executable(app)
    buildlock_limit_links(LOCK a TARGETS app)
    buildlock_limit_links(LOCK b TARGETS app)]]
  [[buildlock_limit_links: TARGETS: the links of "app" are already limited by an earlier call on another lock]])
buildlock_error_case(links_directory_on_two_locks
  [[buildlock_limit_links(LOCK a ALL)
    buildlock_limit_links(LOCK b DIRECTORIES .)]]
  [[are already limited by an earlier call on another lock; a directory's links take one lock]])
buildlock_error_case(links_unknown_directory
  [[buildlock_limit_links(LOCK x DIRECTORIES nowhere)]]
  "buildlock_limit_links: DIRECTORIES: ${CMAKE_CURRENT_LIST_DIR}/nowhere is not a directory of this build")
buildlock_error_case(links_other_options
  [[add_executable(app)
    add_executable(tool)
    buildlock_limit_links(LOCK x SLOTS 2 TIMEOUT 600 TARGETS app)
    buildlock_limit_links(LOCK x SLOTS 2 TARGETS tool)]]
  [[was given other options by an earlier buildlock_limit_links(): every call on one lock must give the same ones]])
buildlock_error_case(links_slots_disagree_with_wrap
  [[buildlock_wrap(cmd LOCK x SLOTS 2 COMMAND true)
    buildlock_limit_links(LOCK x SLOTS 3 ALL)]]
  [[buildlock_limit_links: lock "x" in]])
buildlock_error_case(links_build_dir_with_dollar
  [[buildlock_limit_links(LOCK x ALL)]]
  [[which a link launcher cannot be written with]]
  Ninja "tree$dollar")
# With buildlock's sources inside the project: its own targets must link before any limited link.
buildlock_error_case(subdirectory_links_own_target
  [[buildlock_limit_links(LOCK x TARGETS buildlock::buildlock)]]
  [[buildlock_limit_links: TARGETS: "buildlock" is part of buildlock itself]])
buildlock_error_case(subdirectory_links_own_library
  [[buildlock_limit_links(LOCK x TARGETS buildlock_core)]]
  [[buildlock_limit_links: TARGETS: "buildlock_core" is part of buildlock itself]])

# buildlock_launcher()
buildlock_error_case(launcher_without_output_variable
  [[buildlock_launcher(LOCK x SLOTS 2)]]
  [[buildlock_launcher: missing the output variable (the first argument is the keyword LOCK)]])
buildlock_error_case(launcher_command
  [[buildlock_launcher(launcher LOCK x COMMAND cc)]]
  [[buildlock_launcher: unknown keyword "COMMAND"]])
buildlock_error_case(launcher_shared_and_slots
  [[buildlock_launcher(launcher LOCK x SHARED SLOTS 2)]]
  [[buildlock_launcher: SHARED and SLOTS exclude each other]])
buildlock_error_case(launcher_empty_dir
  [[buildlock_launcher(launcher LOCK x DIR "")]]
  [[buildlock_launcher: DIR is empty]])

# buildlock_execute_process()
buildlock_error_case(execute_process_fails
  [[buildlock_execute_process(LOCK x DIR "${CMAKE_BINARY_DIR}/locks" COMMAND sh -c "exit 3")]]
  [[buildlock_execute_process: the commands under lock "x" in]])
buildlock_error_case(execute_process_missing_command
  [[buildlock_execute_process(LOCK x RESULT_VARIABLE result)]]
  [[buildlock_execute_process: missing COMMAND]])
buildlock_error_case(execute_process_missing_lock
  [[buildlock_execute_process(COMMAND true)]]
  [[buildlock_execute_process: missing LOCK <name>]])
# Without a POSIX shell (Windows), a keyword of execute_process() cannot be passed on.
buildlock_error_case(execute_process_keyword_without_shell
  [[set(_BUILDLOCK_POSIX_SHELL "")
    buildlock_execute_process(LOCK x COMMAND echo a TIMEOUT)]]
  [[buildlock_execute_process: the argument "TIMEOUT" is a keyword of execute_process(), which takes it as its own wherever it stands; without a POSIX shell]])
buildlock_error_case(execute_process_bad_trailer
  [[buildlock_execute_process(LOCK x COMMAND true RESULT_VARIABLE)]]
  [[buildlock_execute_process: after the commands, only RESULT_VARIABLE]])

# BUILDLOCK_EXECUTABLE must name a file.
buildlock_error_case(executable_missing
  [[set(BUILDLOCK_EXECUTABLE /nonexistent/buildlock)
    buildlock_wrap(cmd LOCK x COMMAND true)]]
  [[buildlock_wrap: BUILDLOCK_EXECUTABLE "/nonexistent/buildlock" is not the absolute path of an existing file]])
# An in-tree buildlock cannot run before this build has built it; cross-compiling, an embedded
# buildlock is not built at all without BUILDLOCK_EXECUTABLE (errors/CMakeLists.txt sets
# CMAKE_SYSTEM_NAME for the cross_ cases).
buildlock_error_case(subdirectory_launcher
  [[buildlock_launcher(launcher LOCK x)]]
  [[buildlock_launcher: buildlock::buildlock is built by this build, so it does not exist yet]])
buildlock_error_case(subdirectory_execute_process
  [[buildlock_execute_process(LOCK x COMMAND true)]]
  [[buildlock_execute_process: buildlock::buildlock is built by this build, so it does not exist yet]])
# The keyword check of the output variable also works where the module was included in another
# directory (buildlock's own, here).
buildlock_error_case(subdirectory_wrap_without_output_variable
  [[buildlock_wrap(LOCK foo COMMAND true)]]
  [[buildlock_wrap: missing the output variable (the first argument is the keyword LOCK)]])
buildlock_error_case(subdirectory_cross_without_executable
  [[buildlock_wrap(cmd LOCK x COMMAND true)]]
  [[buildlock: cross-compiling (CMAKE_CROSSCOMPILING), an embedded buildlock would be built for the target, but the build runs it on this machine: set BUILDLOCK_EXECUTABLE]])
# Embedded with BUILDLOCK_EXECUTABLE, buildlock builds nothing: the file must exist, and there is
# nothing to install.
buildlock_error_case(embedded_bad_executable
  [[set(BUILDLOCK_EXECUTABLE /nonexistent/buildlock CACHE FILEPATH "")
    add_subdirectory("${BUILDLOCK_SOURCE_DIR}" buildlock)]]
  [[buildlock: BUILDLOCK_EXECUTABLE "/nonexistent/buildlock" is not the absolute path of an existing file]])
buildlock_error_case(embedded_executable_and_install
  [[set(BUILDLOCK_EXECUTABLE "${CMAKE_COMMAND}" CACHE FILEPATH "")
    set(BUILDLOCK_INSTALL ON CACHE BOOL "")
    add_subdirectory("${BUILDLOCK_SOURCE_DIR}" buildlock)]]
  [[buildlock: BUILDLOCK_INSTALL is ON, but with BUILDLOCK_EXECUTABLE set an embedded buildlock builds nothing to install]])

# Run without the package: the module alone has no buildlock to run.
buildlock_error_case(no_buildlock_target
  [[buildlock_wrap(cmd LOCK x COMMAND true)]]
  [[buildlock_wrap: there is no target buildlock::buildlock here]])
buildlock_error_case(links_no_buildlock_target
  [[buildlock_limit_links(LOCK x ALL)]]
  [[buildlock_limit_links: there is no target buildlock::buildlock here]])
# The version file: 0.1.0 does not satisfy a request for 0.2 (minor versions before 1.0 are series).
buildlock_error_case(package_version_incompatible
  [[find_package(buildlock 0.2 CONFIG REQUIRED)]]
  [[compatible with requested version "0.2"]])
