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
buildlock_error_case(relative_dir
  [[buildlock_wrap(cmd LOCK x DIR locks COMMAND true)]]
  [[buildlock_wrap: DIR "locks" is not an absolute path]])
buildlock_error_case(empty_dir
  [[buildlock_wrap(cmd LOCK x DIR "" COMMAND true)]]
  [[buildlock_wrap: DIR is empty]])
buildlock_error_case(quiet_and_verbose
  [[buildlock_wrap(cmd LOCK x QUIET VERBOSE COMMAND true)]]
  [[buildlock_wrap: QUIET and VERBOSE exclude each other]])
buildlock_error_case(no_output_variable
  [[buildlock_wrap("" LOCK x COMMAND true)]]
  [[buildlock_wrap: missing the output variable]])
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
# Run without the package: the module alone has no buildlock to run.
buildlock_error_case(no_buildlock_target
  [[buildlock_wrap(cmd LOCK x COMMAND true)]]
  [[buildlock_wrap: there is no target buildlock::buildlock here]])
# The version file: 0.1 is not compatible with a request for 0.2 (SameMinorVersion).
buildlock_error_case(package_version_incompatible
  [[find_package(buildlock 0.2 CONFIG REQUIRED)]]
  [[compatible with requested version "0.2"]])
