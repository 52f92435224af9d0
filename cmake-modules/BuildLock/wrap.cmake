# buildlock_wrap() and buildlock_job_pool(): build steps under a lock (BuildLock.cmake).

# Encodes one argument so that it survives being stored in a list and expanded with
# `COMMAND ${var}`: list expansion splits at `;`, drops empty elements, lets `\` escape a
# following `;`, and does not split inside unbalanced `[` `]`; and the command that receives the
# list takes words like DEPENDS or VERBATIM as its own keywords. The generator expressions used
# instead evaluate back to the original text when the custom command or test is generated.
function(_buildlock_encode_word word out_var)
  if(word STREQUAL "")
    set(${out_var} "$<0:>" PARENT_SCOPE) # evaluates to an empty argument
    return()
  endif()
  if(word MATCHES "^[A-Z][A-Z0-9_]*$")
    set(${out_var} "$<1:${word}>" PARENT_SCOPE)
    return()
  endif()
  string(REPLACE ";" "$<SEMICOLON>" encoded "${word}")
  string(REPLACE "[" "" without_open "${encoded}")
  string(REPLACE "]" "" without_close "${encoded}")
  string(LENGTH "${without_open}" length_without_open)
  string(LENGTH "${without_close}" length_without_close)
  if(NOT length_without_open EQUAL length_without_close)
    # CMake has no $<...> for brackets: take them as the parent and the file name of "[/]".
    string(REPLACE "[" "$<PATH:GET_PARENT_PATH,[/@>" encoded "${encoded}")
    string(REPLACE "]" "$<PATH:GET_FILENAME,[/]>" encoded "${encoded}")
    string(REPLACE "[/@>" "[/]>" encoded "${encoded}")
  endif()
  if(encoded MATCHES "\\\\$")
    string(REGEX REPLACE "\\\\$" "$<1:\\\\>" encoded "${encoded}")
  endif()
  set(${out_var} "${encoded}" PARENT_SCOPE)
endfunction()

function(buildlock_wrap out_var)
  set(fn "buildlock_wrap")
  _buildlock_check_out_var(${fn} "${out_var}" "buildlock_wrap(<out-var> LOCK <name> COMMAND ...)")
  set(value_keywords LOCK DIR SLOTS TIMEOUT STALE_AFTER)
  set(flag_keywords SHARED QUIET VERBOSE NO_DIE_WITH_PARENT KEEP_RUNNING_IF_LOST STOP_IF_LOST)
  foreach(keyword IN LISTS value_keywords flag_keywords)
    unset(arg_${keyword}) # not the caller's variable of that name
  endforeach()

  # Arguments are read one by one from ARGV<n> (not ARGN) so that empty arguments and
  # arguments containing `;` reach the command unchanged. Options come first; after the first
  # COMMAND every word belongs to a command, and COMMAND starts the next one.
  set(given_keywords "")
  set(words "")
  set(sequence "")
  set(command_words -1) # words of the current command; -1 before the first COMMAND
  set(index 1)
  while(index LESS ARGC)
    set(word "${ARGV${index}}")
    math(EXPR index "${index} + 1")
    if(word STREQUAL "COMMAND")
      if(command_words EQUAL 0)
        message(FATAL_ERROR "${fn}: COMMAND without a command to run")
      elseif(command_words GREATER 0)
        list(APPEND sequence ${command_words})
      endif()
      set(command_words 0)
      continue()
    endif()
    if(command_words GREATER_EQUAL 0)
      _buildlock_encode_word("${word}" encoded)
      list(APPEND words "${encoded}")
      math(EXPR command_words "${command_words} + 1")
      continue()
    endif()

    if(word IN_LIST given_keywords)
      message(FATAL_ERROR "${fn}: ${word} given more than once")
    endif()
    if(word IN_LIST flag_keywords)
      list(APPEND given_keywords ${word})
      set(arg_${word} TRUE)
    elseif(word IN_LIST value_keywords)
      list(APPEND given_keywords ${word})
      set(value "${ARGV${index}}")
      if(index GREATER_EQUAL ARGC OR value STREQUAL "COMMAND" OR value IN_LIST value_keywords
         OR value IN_LIST flag_keywords)
        message(FATAL_ERROR "${fn}: ${word} needs a value")
      endif()
      math(EXPR index "${index} + 1")
      set(arg_${word} "${value}")
    else()
      message(FATAL_ERROR
        "${fn}: unknown keyword \"${word}\" (expected LOCK, DIR, SHARED, SLOTS, TIMEOUT, "
        "STALE_AFTER, QUIET, VERBOSE, NO_DIE_WITH_PARENT, KEEP_RUNNING_IF_LOST, STOP_IF_LOST or "
        "COMMAND; options come before the first COMMAND)")
    endif()
  endwhile()

  if(NOT "LOCK" IN_LIST given_keywords)
    message(FATAL_ERROR "${fn}: missing LOCK <name> (options come before the first COMMAND)")
  endif()
  if(command_words LESS 0)
    message(FATAL_ERROR "${fn}: missing COMMAND <cmd> [<arg>...]")
  elseif(command_words EQUAL 0)
    message(FATAL_ERROR "${fn}: COMMAND without a command to run")
  endif()
  list(APPEND sequence ${command_words})
  _buildlock_run_options(${fn} lock_dir options)

  _buildlock_encode_word("${lock_dir}" encoded_dir)
  # In-tree, a generator expression rather than the bare target name: both make a custom command
  # depend on building buildlock first, but only the expression is also resolved where CMake runs
  # the command from a script (ExternalProject with LOG_* options) or not as the first word.
  _buildlock_executable(${fn} BUILD buildlock)
  _buildlock_encode_word("${buildlock}" encoded_buildlock)
  set(line "${encoded_buildlock}" run --dir "${encoded_dir}" ${options})
  list(LENGTH sequence command_count)
  if(command_count GREATER 1)
    list(JOIN sequence "," sequence_text)
    list(APPEND line --sequence "${sequence_text}")
  endif()
  list(APPEND line "${arg_LOCK}" -- ${words})
  set(${out_var} "${line}" PARENT_SCOPE)
endfunction()

# Defines, once, the Ninja pool <prefix>-<lock>-<hash of lock_dir> of depth <depth> and sets
# <out_var> to its name. One pool per lock file: the same name in two directories is two locks.
# The pool joins the global property JOB_POOLS when CMake has read the whole top-level
# CMakeLists.txt (a deferred call), not now: a project that sets JOB_POOLS later without APPEND
# (`set_property(GLOBAL PROPERTY JOB_POOLS compile=2 link=1)`) would remove it, and Ninja would
# stop at "unknown pool name".
function(_buildlock_define_pool prefix lock lock_dir depth out_var)
  string(SHA256 dir_hash "${lock_dir}")
  string(SUBSTRING "${dir_hash}" 0 8 dir_hash)
  set(pool "${prefix}-${lock}-${dir_hash}")
  get_property(pools GLOBAL PROPERTY _BUILDLOCK_JOB_POOLS)
  if(NOT "${pool}=${depth}" IN_LIST pools)
    set_property(GLOBAL APPEND PROPERTY _BUILDLOCK_JOB_POOLS "${pool}=${depth}")
  endif()
  get_property(scheduled GLOBAL PROPERTY _BUILDLOCK_JOB_POOLS_SCHEDULED)
  if(NOT scheduled)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _buildlock_append_job_pools)
    set_property(GLOBAL PROPERTY _BUILDLOCK_JOB_POOLS_SCHEDULED TRUE)
  endif()
  set(${out_var} "${pool}" PARENT_SCOPE)
endfunction()

# Runs at the end of the top-level CMakeLists.txt: appends the module's pools to JOB_POOLS.
function(_buildlock_append_job_pools)
  get_property(pools GLOBAL PROPERTY _BUILDLOCK_JOB_POOLS)
  get_property(defined GLOBAL PROPERTY JOB_POOLS)
  foreach(pool IN LISTS pools)
    if(NOT pool IN_LIST defined)
      set_property(GLOBAL APPEND PROPERTY JOB_POOLS "${pool}")
    endif()
  endforeach()
endfunction()

function(buildlock_job_pool out_var)
  set(fn "buildlock_job_pool")
  _buildlock_check_out_var(${fn} "${out_var}" "buildlock_job_pool(<out-var> LOCK <name>)")
  _buildlock_parse_options(${fn} "${ARGN}" "LOCK;DIR" "")
  _buildlock_check_lock_name(${fn} "${arg_LOCK}")
  _buildlock_resolve_dir(${fn} "${arg_DIR}" lock_dir)

  _buildlock_define_pool("buildlock" "${arg_LOCK}" "${lock_dir}" 1 pool)
  set(${out_var} "${pool}" PARENT_SCOPE)
endfunction()

