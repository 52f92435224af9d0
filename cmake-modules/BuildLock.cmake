# BuildLock.cmake: run build steps under a buildlock lock that concurrent builds share.
#
#   buildlock_wrap(<out-var> LOCK <name> [DIR <dir>] [TIMEOUT <seconds>] [STALE_AFTER <seconds>]
#                  [QUIET | VERBOSE] [NO_DIE_WITH_PARENT]
#                  COMMAND <cmd> [<arg>...] [COMMAND <cmd> [<arg>...]]...)
#     Sets <out-var> to a command line that runs every COMMAND in order under one hold of the
#     lock, stopping at the first failure. Use it as `COMMAND ${<out-var>} VERBATIM` in
#     add_custom_command()/add_custom_target(), as an ExternalProject step command, or in
#     add_test(NAME ... COMMAND ${<out-var>}).
#
#   buildlock_job_pool(<out-var> LOCK <name> [DIR <dir>])
#     Defines a Ninja job pool of depth 1 for that lock and sets <out-var> to its name, for the
#     JOB_POOL option of add_custom_command()/add_custom_target().
#
#   BUILDLOCK_LOCK_DIR (cache variable): lock directory used when DIR is not given.
#
# The reference, with the reasons behind each default, is docs/cmake.md.

include_guard(GLOBAL)
# Functions record the policies in effect where they are defined: use ours, not the caller's.
cmake_policy(VERSION 3.25)

set(BUILDLOCK_LOCK_DIR "" CACHE PATH
    "Lock directory for buildlock_wrap() calls without DIR; empty: one per source tree, below buildlock's default directory (docs/cmake.md)")

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

# The lock directory for DIR <dir> (empty if not given): DIR, else BUILDLOCK_LOCK_DIR, else
# <buildlock's default directory>/projects/<project>-<hash of the top-level source directory>.
function(_buildlock_resolve_dir function_name dir out_var)
  if(dir STREQUAL "")
    set(dir "${BUILDLOCK_LOCK_DIR}")
    set(origin "BUILDLOCK_LOCK_DIR")
  else()
    set(origin "DIR")
  endif()
  if(NOT dir STREQUAL "")
    if(NOT IS_ABSOLUTE "${dir}")
      message(FATAL_ERROR
        "${function_name}: ${origin} \"${dir}\" is not an absolute path (build steps run in "
        "varying working directories)")
    endif()
    set(${out_var} "${dir}" PARENT_SCOPE)
    return()
  endif()

  # Below the directory buildlock itself defaults to, as the environment of this configure run
  # has it.
  if(NOT "$ENV{BUILDLOCK_DIR}" STREQUAL "")
    set(base "$ENV{BUILDLOCK_DIR}")
  elseif(NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(base "$ENV{XDG_CACHE_HOME}/buildlock")
  elseif(NOT "$ENV{HOME}" STREQUAL "")
    set(base "$ENV{HOME}/.cache/buildlock")
  else()
    message(FATAL_ERROR
      "${function_name}: no default lock directory (none of BUILDLOCK_DIR, XDG_CACHE_HOME and "
      "HOME is set): pass DIR or set BUILDLOCK_LOCK_DIR")
  endif()
  if(NOT IS_ABSOLUTE "${base}")
    message(FATAL_ERROR
      "${function_name}: the default lock directory \"${base}\" is not an absolute path: pass DIR "
      "or set BUILDLOCK_LOCK_DIR")
  endif()
  # Every build tree of one source tree shares these locks; other source trees do not.
  file(REAL_PATH "${CMAKE_SOURCE_DIR}" source_dir)
  string(SHA256 source_hash "${source_dir}")
  string(SUBSTRING "${source_hash}" 0 12 source_hash)
  string(REGEX REPLACE "[^A-Za-z0-9._-]" "_" project_label "${CMAKE_PROJECT_NAME}")
  set(${out_var} "${base}/projects/${project_label}-${source_hash}" PARENT_SCOPE)
endfunction()

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
  if(ARGC LESS 1 OR out_var STREQUAL "")
    message(FATAL_ERROR "${fn}: missing the output variable: buildlock_wrap(<out-var> LOCK <name> COMMAND ...)")
  endif()
  set(value_keywords LOCK DIR TIMEOUT STALE_AFTER)
  set(flag_keywords QUIET VERBOSE NO_DIE_WITH_PARENT)

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
        "${fn}: unknown keyword \"${word}\" (expected LOCK, DIR, TIMEOUT, STALE_AFTER, QUIET, "
        "VERBOSE, NO_DIE_WITH_PARENT or COMMAND; options come before the first COMMAND)")
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
  _buildlock_check_lock_name(${fn} "${arg_LOCK}")
  if(arg_QUIET AND arg_VERBOSE)
    message(FATAL_ERROR "${fn}: QUIET and VERBOSE exclude each other")
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
  if(NOT TARGET buildlock::buildlock)
    message(FATAL_ERROR
      "${fn}: there is no target buildlock::buildlock here: call find_package(buildlock CONFIG "
      "REQUIRED) or add_subdirectory()/FetchContent_MakeAvailable() the buildlock sources first")
  endif()

  _buildlock_encode_word("${lock_dir}" encoded_dir)
  # A generator expression rather than the bare target name: both make a custom command depend
  # on building buildlock first, but only the expression is also resolved where CMake runs the
  # command from a script (ExternalProject with LOG_* options) or not as the first word.
  set(line "$<TARGET_FILE:buildlock::buildlock>" run --dir "${encoded_dir}")
  if(DEFINED arg_TIMEOUT)
    list(APPEND line --timeout "${arg_TIMEOUT}")
  endif()
  if(DEFINED arg_STALE_AFTER)
    list(APPEND line --stale-after "${arg_STALE_AFTER}")
  endif()
  if(arg_QUIET)
    list(APPEND line --quiet)
  elseif(arg_VERBOSE)
    list(APPEND line --verbose)
  endif()
  if(NOT arg_NO_DIE_WITH_PARENT)
    # A step whose build was killed has no one left to use its result: stop it and free the lock
    # rather than make the next build wait for it.
    list(APPEND line --die-with-parent)
  endif()
  list(LENGTH sequence command_count)
  if(command_count GREATER 1)
    list(JOIN sequence "," sequence_text)
    list(APPEND line --sequence "${sequence_text}")
  endif()
  list(APPEND line "${arg_LOCK}" -- ${words})
  set(${out_var} "${line}" PARENT_SCOPE)
endfunction()

function(buildlock_job_pool out_var)
  set(fn "buildlock_job_pool")
  if(ARGC LESS 1 OR out_var STREQUAL "")
    message(FATAL_ERROR "${fn}: missing the output variable: buildlock_job_pool(<out-var> LOCK <name>)")
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "LOCK;DIR" "")
  if(DEFINED arg_UNPARSED_ARGUMENTS)
    list(GET arg_UNPARSED_ARGUMENTS 0 unknown)
    message(FATAL_ERROR "${fn}: unknown keyword \"${unknown}\" (expected LOCK or DIR)")
  endif()
  if(DEFINED arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "${fn}: ${arg_KEYWORDS_MISSING_VALUES} needs a value")
  endif()
  if(NOT DEFINED arg_LOCK)
    message(FATAL_ERROR "${fn}: missing LOCK <name>")
  endif()
  _buildlock_check_lock_name(${fn} "${arg_LOCK}")
  _buildlock_resolve_dir(${fn} "${arg_DIR}" lock_dir)

  # One pool per lock file: the same name in two directories is two locks.
  string(SHA256 dir_hash "${lock_dir}")
  string(SUBSTRING "${dir_hash}" 0 8 dir_hash)
  set(pool "buildlock-${arg_LOCK}-${dir_hash}")
  get_property(pools GLOBAL PROPERTY JOB_POOLS)
  if(NOT "${pool}=1" IN_LIST pools)
    set_property(GLOBAL APPEND PROPERTY JOB_POOLS "${pool}=1")
  endif()
  set(${out_var} "${pool}" PARENT_SCOPE)
endfunction()
