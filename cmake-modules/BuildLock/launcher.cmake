# buildlock_launcher(): compiles under a lock (BuildLock.cmake).

# Sets <out_var> to `<buildlock> run --dir <dir> <options> <lock> --`, a list for
# CMAKE_<LANG>_COMPILER_LAUNCHER or the <LANG>_COMPILER_LAUNCHER property. The build tool runs
# `<launcher...> <compiler> <arguments...>`, so another launcher may follow this one and then
# runs inside the lock: `set(CMAKE_CXX_COMPILER_LAUNCHER ${launcher} ccache)`.
function(buildlock_launcher out_var)
  set(fn "buildlock_launcher")
  _buildlock_check_out_var(${fn} "${out_var}" "buildlock_launcher(<out-var> LOCK <name> [SLOTS <n>])")
  _buildlock_parse_options(${fn} "${ARGN}" "LOCK;DIR;SLOTS;TIMEOUT;STALE_AFTER"
    "SHARED;QUIET;VERBOSE;NO_DIE_WITH_PARENT;KEEP_RUNNING_IF_LOST;STOP_IF_LOST")
  # CMake runs compiler launchers under the Makefile and Ninja generators only; Visual Studio and
  # Xcode would ignore this one without a word, and every compile would run unlimited. The rule of
  # buildlock_limit_links(): an error, since a limit that silently limits nothing shows only when
  # the machine runs out of memory. A project built with those too guards the call.
  if(NOT CMAKE_GENERATOR MATCHES "Ninja|Makefiles|WMake")
    message(FATAL_ERROR
      "${fn}: works with the Ninja and Makefile generators only, not ${CMAKE_GENERATOR}, which "
      "ignores compiler launchers")
  endif()
  _buildlock_run_options(${fn} lock_dir options)
  # A compile launcher adds no dependency on the target it names, so an in-tree buildlock could
  # be run before it is linked, or by its own compiles: the launcher needs one that exists now.
  _buildlock_executable(${fn} CONFIGURE buildlock)
  set(${out_var} "${buildlock}" run --dir "${lock_dir}" ${options} "${arg_LOCK}" -- PARENT_SCOPE)
endfunction()
