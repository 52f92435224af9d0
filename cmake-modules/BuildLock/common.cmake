# Checks and option handling shared by the functions of BuildLock.cmake.

# The same rule as the buildlock executable: a letter or digit, then up to 127 of [A-Za-z0-9._-].
function(_buildlock_check_lock_name function_name name)
  string(LENGTH "${name}" length)
  if(NOT name MATCHES "^[A-Za-z0-9][A-Za-z0-9._-]*$" OR length GREATER 128)
    message(FATAL_ERROR
      "${function_name}: invalid lock name \"${name}\": use a letter or digit, then up to 127 "
      "letters, digits, '.', '_' or '-'")
  endif()
endfunction()

# Plain decimal seconds, as `buildlock run --timeout/--stale-after` accept, at most a year.
function(_buildlock_check_seconds function_name keyword value)
  if(NOT value MATCHES "^([0-9]+)(\\.[0-9]*)?$" AND NOT value MATCHES "^\\.[0-9]+$")
    message(FATAL_ERROR
      "${function_name}: ${keyword} \"${value}\" is not a number of seconds (examples: 30, 0.5)")
  endif()
  string(FIND "${value}" "." dot)
  if(dot EQUAL -1)
    set(whole_seconds "${value}")
  else()
    string(SUBSTRING "${value}" 0 ${dot} whole_seconds)
  endif()
  if(whole_seconds MATCHES "^0+(.*)$")
    set(whole_seconds "${CMAKE_MATCH_1}")
  endif()
  string(LENGTH "${whole_seconds}" digits)
  if(digits GREATER 8 OR (digits GREATER 0 AND whole_seconds GREATER 31536000)
     OR (whole_seconds STREQUAL "31536000" AND value MATCHES "\\.[0-9]*[1-9]"))
    message(FATAL_ERROR "${function_name}: ${keyword} \"${value}\" is longer than a year")
  endif()
endfunction()

# SLOTS <n>: a whole number from 1 to 64, as `buildlock run --slots` accepts, without leading zeros.
function(_buildlock_check_slots function_name value)
  if(NOT value MATCHES "^[1-9][0-9]?$" OR value GREATER 64)
    message(FATAL_ERROR
      "${function_name}: SLOTS \"${value}\" is not a whole number from 1 to 64")
  endif()
endfunction()

# The `buildlock run` options for the mode the caller's arg_SHARED and arg_SLOTS ask for:
# nothing (exclusive), --shared or --slots <n>.
function(_buildlock_mode_options function_name out_var)
  set(options "")
  if(arg_SHARED AND DEFINED arg_SLOTS)
    message(FATAL_ERROR "${function_name}: SHARED and SLOTS exclude each other")
  elseif(arg_SHARED)
    set(options --shared)
  elseif(DEFINED arg_SLOTS)
    _buildlock_check_slots(${function_name} "${arg_SLOTS}")
    set(options --slots "${arg_SLOTS}")
  endif()
  set(${out_var} "${options}" PARENT_SCOPE)
endfunction()

# Every user of one lock file must agree on SLOTS (buildlock stops a run that does not with exit
# status 65, at build time and only when the two meet): say so at configure time instead.
function(_buildlock_register_slots function_name lock_dir lock slots)
  if(slots STREQUAL "")
    set(mode "without SLOTS")
  else()
    set(mode "with SLOTS ${slots}")
  endif()
  string(SHA256 key "${lock_dir}/${lock}")
  get_property(known GLOBAL PROPERTY _BUILDLOCK_SLOTS_${key} SET)
  if(NOT known)
    set_property(GLOBAL PROPERTY _BUILDLOCK_SLOTS_${key} "${mode}")
    return()
  endif()
  get_property(first_mode GLOBAL PROPERTY _BUILDLOCK_SLOTS_${key})
  if(NOT mode STREQUAL first_mode AND (NOT slots STREQUAL "" OR first_mode MATCHES "^with "))
    message(FATAL_ERROR
      "${function_name}: lock \"${lock}\" in ${lock_dir} is used ${first_mode} by an earlier call, "
      "and ${mode} here: every use of one lock must ask for the same SLOTS")
  endif()
endfunction()

# The lock directory for DIR <dir> (empty if not given): DIR, else BUILDLOCK_LOCK_DIR, else
# <buildlock's default directory>/projects/<project>-<hash of the top-level source directory>.
function(_buildlock_resolve_dir function_name dir out_var)
  if(dir STREQUAL "")
    set(dir "${BUILDLOCK_LOCK_DIR}")
    set(origin "BUILDLOCK_LOCK_DIR")
  else()
    set(origin "DIR")
  endif()
  if(dir MATCHES "^etcds?://")
    # An etcd location (docs/cli.md, "Locks in etcd"): buildlock checks it; no path to normalise.
    set(${out_var} "${dir}" PARENT_SCOPE)
    return()
  endif()
  if(NOT dir STREQUAL "")
    # Relative to the directory the build runs from, as for `buildlock run --dir` relative to
    # its working directory: the top of the build tree, where `cmake --build`, Ninja and the
    # top-level make run. Made absolute here, once, since Makefiles run each directory's steps
    # from its own build directory, where the same words would name another lock directory
    # (docs/cmake.md, "The lock directory").
    cmake_path(ABSOLUTE_PATH dir BASE_DIRECTORY "${CMAKE_BINARY_DIR}")
    # One spelling per directory: /tmp/x, /tmp/x/ and /tmp//x are one lock directory, hence one
    # SLOTS check and one Ninja pool.
    cmake_path(NORMAL_PATH dir)
    string(REGEX REPLACE "(.)/$" "\\1" dir "${dir}")
    set(${out_var} "${dir}" PARENT_SCOPE)
    return()
  endif()

  # Below the directory buildlock itself defaults to, as the environment of this configure run
  # has it.
  if(NOT "$ENV{BUILDLOCK_DIR}" STREQUAL "")
    set(base "$ENV{BUILDLOCK_DIR}")
  elseif(CMAKE_HOST_WIN32)
    # buildlock.exe's own default, %LOCALAPPDATA%\buildlock (docs/windows.md).
    if("$ENV{LOCALAPPDATA}" STREQUAL "")
      message(FATAL_ERROR
        "${function_name}: no default lock directory (neither BUILDLOCK_DIR nor LOCALAPPDATA is "
        "set): pass DIR or set BUILDLOCK_LOCK_DIR")
    endif()
    file(TO_CMAKE_PATH "$ENV{LOCALAPPDATA}/buildlock" base)
  elseif(NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(base "$ENV{XDG_CACHE_HOME}/buildlock")
  elseif(NOT "$ENV{HOME}" STREQUAL "")
    set(base "$ENV{HOME}/.cache/buildlock")
  else()
    message(FATAL_ERROR
      "${function_name}: no default lock directory (none of BUILDLOCK_DIR, XDG_CACHE_HOME and "
      "HOME is set): pass DIR or set BUILDLOCK_LOCK_DIR")
  endif()
  # A relative one, like DIR, from the top of the build tree.
  cmake_path(ABSOLUTE_PATH base BASE_DIRECTORY "${CMAKE_BINARY_DIR}")
  # Every build tree of one source tree shares these locks; other source trees do not.
  file(REAL_PATH "${CMAKE_SOURCE_DIR}" source_dir)
  string(SHA256 source_hash "${source_dir}")
  string(SUBSTRING "${source_hash}" 0 12 source_hash)
  string(REGEX REPLACE "[^A-Za-z0-9._-]" "_" project_label "${CMAKE_PROJECT_NAME}")
  set(dir "${base}/projects/${project_label}-${source_hash}")
  cmake_path(NORMAL_PATH dir)
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()

# The trace file of BUILDLOCK_TRACE, absolute: relative to the top of the build tree (the steps run
# elsewhere). A relative path given with -D is already absolute here: CMake takes it from the
# directory cmake ran in, as for every FILEPATH cache entry. Passed to every `run` as a plain word on command lines and in launchers:
# characters that a list, a generator expression or a shell would take apart are refused.
function(_buildlock_trace_file function_name out_var)
  if(BUILDLOCK_TRACE MATCHES "[][;$<>\"'`\\]")
    message(FATAL_ERROR
      "${function_name}: BUILDLOCK_TRACE \"${BUILDLOCK_TRACE}\" has a character that cannot be "
      "passed on as it is (; [ ] $ < > quotes backslash): choose another path")
  endif()
  cmake_path(ABSOLUTE_PATH BUILDLOCK_TRACE BASE_DIRECTORY "${CMAKE_BINARY_DIR}" OUTPUT_VARIABLE path)
  set(${out_var} "${path}" PARENT_SCOPE)
endfunction()

# Checks the lock options the caller parsed into arg_LOCK, arg_DIR, arg_SHARED, arg_SLOTS,
# arg_TIMEOUT, arg_STALE_AFTER, arg_QUIET, arg_VERBOSE, arg_NO_DIE_WITH_PARENT,
# arg_KEEP_RUNNING_IF_LOST and arg_STOP_IF_LOST, and sets
# <dir_var> to the lock directory and <options_var> to the `buildlock run` options after
# `--dir <dir>` (all plain words).
function(_buildlock_run_options function_name dir_var options_var)
  set(fn ${function_name})
  _buildlock_check_lock_name(${fn} "${arg_LOCK}")
  _buildlock_mode_options(${fn} options)
  if(arg_QUIET AND arg_VERBOSE)
    message(FATAL_ERROR "${fn}: QUIET and VERBOSE exclude each other")
  endif()
  if(arg_KEEP_RUNNING_IF_LOST AND arg_STOP_IF_LOST)
    message(FATAL_ERROR "${fn}: KEEP_RUNNING_IF_LOST and STOP_IF_LOST exclude each other")
  endif()
  # The cache variables, like BUILDLOCK_LOCK_DIR for DIR, apply to the calls that say neither.
  if(NOT arg_QUIET AND NOT arg_VERBOSE)
    if(BUILDLOCK_QUIET AND BUILDLOCK_VERBOSE)
      message(FATAL_ERROR "${fn}: BUILDLOCK_QUIET and BUILDLOCK_VERBOSE exclude each other")
    endif()
    set(arg_QUIET "${BUILDLOCK_QUIET}")
    set(arg_VERBOSE "${BUILDLOCK_VERBOSE}")
  endif()
  foreach(keyword IN ITEMS TIMEOUT STALE_AFTER)
    if(DEFINED arg_${keyword})
      _buildlock_check_seconds(${fn} ${keyword} "${arg_${keyword}}")
    endif()
  endforeach()
  if(DEFINED arg_DIR AND arg_DIR STREQUAL "")
    message(FATAL_ERROR "${fn}: DIR is empty")
  endif()
  _buildlock_resolve_dir(${fn} "${arg_DIR}" lock_dir)
  _buildlock_register_slots(${fn} "${lock_dir}" "${arg_LOCK}" "${arg_SLOTS}")

  if(DEFINED arg_TIMEOUT)
    list(APPEND options --timeout "${arg_TIMEOUT}")
  endif()
  if(DEFINED arg_STALE_AFTER)
    list(APPEND options --stale-after "${arg_STALE_AFTER}")
  endif()
  if(arg_QUIET)
    list(APPEND options --quiet)
  elseif(arg_VERBOSE)
    list(APPEND options --verbose)
  endif()
  if(arg_KEEP_RUNNING_IF_LOST)
    # The opt-out of the safe default: a lost lock only warns, and the step runs on unprotected.
    list(APPEND options --keep-running-if-lost)
  elseif(arg_STOP_IF_LOST)
    list(APPEND options --stop-if-lost) # the default, said explicitly as the caller did
  endif()
  if(NOT arg_NO_DIE_WITH_PARENT)
    # A step whose build was killed has no one left to use its result: stop it and free the lock
    # rather than make the next build wait for it.
    list(APPEND options --die-with-parent)
  endif()
  if(NOT BUILDLOCK_TRACE STREQUAL "")
    _buildlock_trace_file(${fn} trace)
    list(APPEND options --trace "${trace}")
  endif()
  set(${dir_var} "${lock_dir}" PARENT_SCOPE)
  set(${options_var} "${options}" PARENT_SCOPE)
endfunction()


# Stops with <usage> when <out_var>, the first argument of <function_name>, is missing.
function(_buildlock_check_out_var function_name out_var usage)
  # The keywords of every function of the module: a first argument that is one of them means the
  # output variable was left out. (Here, not at include time: a variable set when the module is
  # included does not reach the directories above, where an embedding project calls it.)
  set(keywords LOCK DIR SHARED SLOTS TIMEOUT STALE_AFTER QUIET VERBOSE NO_DIE_WITH_PARENT
      KEEP_RUNNING_IF_LOST STOP_IF_LOST COMMAND TARGETS DIRECTORIES ALL)
  if(out_var STREQUAL "")
    message(FATAL_ERROR "${function_name}: missing the output variable: ${usage}")
  elseif(out_var IN_LIST keywords)
    message(FATAL_ERROR
      "${function_name}: missing the output variable (the first argument is the keyword "
      "${out_var}): ${usage}")
  endif()
endfunction()

# Parses <words> (a function's "${ARGN}", quoted so that empty words stay) into arg_<keyword> in
# the caller: each of <value_keywords> takes the next word, each of <flag_keywords> is TRUE when
# given. Unknown words, repeated keywords, missing and empty values stop configuration.
function(_buildlock_parse_options function_name words value_keywords flag_keywords)
  set(fn ${function_name})
  foreach(keyword IN LISTS value_keywords flag_keywords)
    unset(arg_${keyword} PARENT_SCOPE) # not the caller's variable of that name
  endforeach()
  set(given "")
  list(LENGTH words count)
  set(index 0)
  while(index LESS count)
    list(GET words ${index} word)
    math(EXPR index "${index} + 1")
    if(word IN_LIST given)
      message(FATAL_ERROR "${fn}: ${word} given more than once")
    elseif(word IN_LIST flag_keywords)
      set(arg_${word} TRUE PARENT_SCOPE)
    elseif(word IN_LIST value_keywords)
      if(index LESS count)
        list(GET words ${index} value)
      endif()
      if(index GREATER_EQUAL count OR (NOT value STREQUAL ""
         AND (value IN_LIST value_keywords OR value IN_LIST flag_keywords)))
        message(FATAL_ERROR "${fn}: ${word} needs a value")
      elseif(value STREQUAL "" AND NOT word STREQUAL "LOCK")
        message(FATAL_ERROR "${fn}: ${word} is empty")
      endif()
      math(EXPR index "${index} + 1")
      set(arg_${word} "${value}" PARENT_SCOPE)
    else()
      set(keywords ${value_keywords} ${flag_keywords})
      list(JOIN keywords ", " keywords_text)
      message(FATAL_ERROR "${fn}: unknown keyword \"${word}\" (expected ${keywords_text})")
    endif()
    list(APPEND given ${word})
  endwhile()
  if(NOT "LOCK" IN_LIST given)
    message(FATAL_ERROR "${fn}: missing LOCK <name>")
  endif()
endfunction()
