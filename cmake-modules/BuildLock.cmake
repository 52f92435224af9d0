# BuildLock.cmake: run build steps under a buildlock lock that concurrent builds share.
#
#   buildlock_wrap(<out-var> LOCK <name> [DIR <dir>] [SHARED | SLOTS <n>] [TIMEOUT <seconds>]
#                  [STALE_AFTER <seconds>] [QUIET | VERBOSE] [NO_DIE_WITH_PARENT]
#                  COMMAND <cmd> [<arg>...] [COMMAND <cmd> [<arg>...]]...)
#     Sets <out-var> to a command line that runs every COMMAND in order under one hold of the
#     lock, stopping at the first failure. Use it as `COMMAND ${<out-var>} VERBATIM` in
#     add_custom_command()/add_custom_target(), as an ExternalProject step command, or in
#     add_test(NAME ... COMMAND ${<out-var>}).
#
#   buildlock_limit_links(LOCK <name> [TARGETS <target>...] [DIRECTORIES <dir>...] [ALL]
#                         [DIR <dir>] [SHARED | SLOTS <n>] [TIMEOUT <seconds>]
#                         [STALE_AFTER <seconds>] [QUIET | VERBOSE] [NO_DIE_WITH_PARENT])
#     Runs the link steps (executables, shared libraries, modules, static archives) of the
#     chosen targets under the lock, so that at most <n> of them run at once across every build
#     that uses it. Applied when the top-level CMakeLists.txt has been read.
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
    "Lock directory for the calls of the BuildLock module without DIR; empty: one per source tree, below buildlock's default directory (docs/cmake.md)")

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

# Checks the lock options the caller parsed into arg_LOCK, arg_DIR, arg_SHARED, arg_SLOTS,
# arg_TIMEOUT, arg_STALE_AFTER, arg_QUIET, arg_VERBOSE and arg_NO_DIE_WITH_PARENT, and sets
# <dir_var> to the lock directory and <options_var> to the `buildlock run` options after
# `--dir <dir>` (all plain words).
function(_buildlock_run_options function_name dir_var options_var)
  set(fn ${function_name})
  _buildlock_check_lock_name(${fn} "${arg_LOCK}")
  _buildlock_mode_options(${fn} options)
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
  _buildlock_register_slots(${fn} "${lock_dir}" "${arg_LOCK}" "${arg_SLOTS}")
  if(NOT TARGET buildlock::buildlock)
    message(FATAL_ERROR
      "${fn}: there is no target buildlock::buildlock here: call find_package(buildlock CONFIG "
      "REQUIRED) or add_subdirectory()/FetchContent_MakeAvailable() the buildlock sources first")
  endif()

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
  if(NOT arg_NO_DIE_WITH_PARENT)
    # A step whose build was killed has no one left to use its result: stop it and free the lock
    # rather than make the next build wait for it.
    list(APPEND options --die-with-parent)
  endif()
  set(${dir_var} "${lock_dir}" PARENT_SCOPE)
  set(${options_var} "${options}" PARENT_SCOPE)
endfunction()

function(buildlock_wrap out_var)
  set(fn "buildlock_wrap")
  if(ARGC LESS 1 OR out_var STREQUAL "")
    message(FATAL_ERROR "${fn}: missing the output variable: buildlock_wrap(<out-var> LOCK <name> COMMAND ...)")
  endif()
  set(value_keywords LOCK DIR SLOTS TIMEOUT STALE_AFTER)
  set(flag_keywords SHARED QUIET VERBOSE NO_DIE_WITH_PARENT)
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
        "STALE_AFTER, QUIET, VERBOSE, NO_DIE_WITH_PARENT or COMMAND; options come before the first "
        "COMMAND)")
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
  # A generator expression rather than the bare target name: both make a custom command depend
  # on building buildlock first, but only the expression is also resolved where CMake runs the
  # command from a script (ExternalProject with LOG_* options) or not as the first word.
  set(line "$<TARGET_FILE:buildlock::buildlock>" run --dir "${encoded_dir}" ${options})
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

# A word for /bin/sh, single-quoted unless it is plain.
function(_buildlock_shell_quote word out_var)
  if(word MATCHES "^[A-Za-z0-9_./+,:@%=-]+$")
    set(${out_var} "${word}" PARENT_SCOPE)
  else()
    string(REPLACE "'" "'\\''" quoted "${word}")
    set(${out_var} "'${quoted}'" PARENT_SCOPE)
  endif()
endfunction()

# Writes the launcher script of one link lock and sets <out_var> to the word that runs it. The
# script reads buildlock's path from a file that CMake writes when it generates the build system:
# $<TARGET_FILE:...> is the only way to learn where an in-tree buildlock lands, and neither
# RULE_LAUNCH_LINK nor <LANG>_LINKER_LAUNCHER evaluates generator expressions in CMake 3.25.
function(_buildlock_link_launcher function_name lock lock_dir options out_var)
  set(fn ${function_name})
  set(launcher_dir "${CMAKE_BINARY_DIR}/CMakeFiles/buildlock")
  # Ninja reads `$` in a rule as its own escape, and the Makefile generators' link scripts are
  # split by CMake's own parser: keep to paths that both take as written.
  if(launcher_dir MATCHES "[$'\"\\\\`\n]")
    message(FATAL_ERROR
      "${fn}: the build directory ${CMAKE_BINARY_DIR} contains one of $ ' \" \\ ` or a line "
      "break, which a link launcher cannot be written with")
  endif()
  set(path_file "${launcher_dir}/buildlock-executable.txt")
  get_property(path_file_written GLOBAL PROPERTY _BUILDLOCK_EXECUTABLE_FILE SET)
  if(NOT path_file_written)
    file(GENERATE OUTPUT "${path_file}" CONTENT "$<TARGET_FILE:buildlock::buildlock>\n")
    set_property(GLOBAL PROPERTY _BUILDLOCK_EXECUTABLE_FILE "${path_file}")
  endif()

  set(words run --dir "${lock_dir}" ${options} "${lock}" --)
  set(command_text "")
  foreach(word IN LISTS words)
    _buildlock_shell_quote("${word}" quoted)
    string(APPEND command_text " ${quoted}")
  endforeach()
  _buildlock_shell_quote("${path_file}" quoted_path_file)
  set(content "#!/bin/sh
# Written by buildlock_limit_links() (BuildLock.cmake) when CMake configured this build tree: runs
# the link command given as arguments under the lock `${lock}` in ${lock_dir}.
IFS= read -r buildlock <${quoted_path_file} || exit 127
exec \"\$buildlock\"${command_text} \"\$@\"
")
  string(SHA256 dir_hash "${lock_dir}")
  string(SUBSTRING "${dir_hash}" 0 8 dir_hash)
  set(script "${launcher_dir}/link-${lock}-${dir_hash}.sh")
  get_property(known GLOBAL PROPERTY "_BUILDLOCK_LAUNCHER_${script}" SET)
  if(known)
    get_property(known_content GLOBAL PROPERTY "_BUILDLOCK_LAUNCHER_${script}")
    if(NOT content STREQUAL known_content)
      message(FATAL_ERROR
        "${fn}: lock \"${lock}\" in ${lock_dir} was given other options by an earlier "
        "buildlock_limit_links(): every call on one lock must give the same ones")
    endif()
  else()
    set_property(GLOBAL PROPERTY "_BUILDLOCK_LAUNCHER_${script}" "${content}")
    file(WRITE "${script}" "${content}")
    file(CHMOD "${script}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
         GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endif()
  _buildlock_shell_quote("${script}" word)
  set(${out_var} "${word}" PARENT_SCOPE)
endfunction()

# The real name of the in-tree buildlock target and the top directory of the buildlock project
# that defines it; both empty for an imported buildlock, which this build does not link.
function(_buildlock_in_tree out_target out_top_dir)
  set(target "")
  set(top_dir "")
  get_target_property(imported buildlock::buildlock IMPORTED)
  if(NOT imported)
    get_target_property(target buildlock::buildlock ALIASED_TARGET)
    if(NOT target)
      set(target buildlock::buildlock)
    endif()
    get_target_property(target_dir ${target} SOURCE_DIR)
    get_directory_property(top_dir DIRECTORY "${target_dir}" DEFINITION PROJECT_SOURCE_DIR)
  endif()
  set(${out_target} "${target}" PARENT_SCOPE)
  set(${out_top_dir} "${top_dir}" PARENT_SCOPE)
endfunction()

function(buildlock_limit_links)
  set(fn "buildlock_limit_links")
  set(value_keywords LOCK DIR SLOTS TIMEOUT STALE_AFTER)
  set(flag_keywords ALL SHARED QUIET VERBOSE NO_DIE_WITH_PARENT)
  set(list_keywords TARGETS DIRECTORIES)
  foreach(keyword IN LISTS value_keywords flag_keywords list_keywords)
    unset(arg_${keyword}) # not the caller's variable of that name
  endforeach()

  # A list keyword takes every word up to the next keyword.
  set(given_keywords "")
  set(list_keyword "")
  set(index 0)
  while(index LESS ARGC)
    set(word "${ARGV${index}}")
    math(EXPR index "${index} + 1")
    if(NOT word IN_LIST value_keywords AND NOT word IN_LIST flag_keywords
       AND NOT word IN_LIST list_keywords)
      if(list_keyword STREQUAL "")
        message(FATAL_ERROR
          "${fn}: unknown keyword \"${word}\" (expected LOCK, TARGETS, DIRECTORIES, ALL, DIR, "
          "SHARED, SLOTS, TIMEOUT, STALE_AFTER, QUIET, VERBOSE or NO_DIE_WITH_PARENT)")
      endif()
      list(APPEND arg_${list_keyword} "${word}")
      continue()
    endif()
    if(word IN_LIST given_keywords)
      message(FATAL_ERROR "${fn}: ${word} given more than once")
    endif()
    list(APPEND given_keywords ${word})
    set(list_keyword "")
    if(word IN_LIST flag_keywords)
      set(arg_${word} TRUE)
    elseif(word IN_LIST list_keywords)
      set(list_keyword ${word})
      set(arg_${word} "")
    else()
      set(value "${ARGV${index}}")
      if(index GREATER_EQUAL ARGC OR value IN_LIST value_keywords OR value IN_LIST flag_keywords
         OR value IN_LIST list_keywords)
        message(FATAL_ERROR "${fn}: ${word} needs a value")
      endif()
      math(EXPR index "${index} + 1")
      set(arg_${word} "${value}")
    endif()
  endwhile()

  if(NOT "LOCK" IN_LIST given_keywords)
    message(FATAL_ERROR "${fn}: missing LOCK <name>")
  endif()
  foreach(keyword IN LISTS list_keywords)
    if(keyword IN_LIST given_keywords AND arg_${keyword} STREQUAL "")
      message(FATAL_ERROR "${fn}: ${keyword} needs at least one value")
    endif()
  endforeach()
  if(NOT DEFINED arg_TARGETS AND NOT DEFINED arg_DIRECTORIES AND NOT arg_ALL)
    message(FATAL_ERROR "${fn}: nothing to limit: give TARGETS <target>..., DIRECTORIES <dir>... or ALL")
  endif()
  # RULE_LAUNCH_LINK is honoured by the Makefile and Ninja generators only; Ninja Multi-Config
  # would need one launcher per configuration, which a 3.25 launcher cannot name.
  if(NOT CMAKE_GENERATOR MATCHES "^(Ninja|Unix Makefiles)$")
    message(FATAL_ERROR
      "${fn}: works with the Ninja and Unix Makefiles generators only, not ${CMAKE_GENERATOR}")
  endif()
  _buildlock_run_options(${fn} lock_dir options)
  _buildlock_link_launcher(${fn} "${arg_LOCK}" "${lock_dir}" "${options}" launcher)
  # Within one Ninja build, a pool as deep as the lock keeps links that would only wait for it
  # out of the build's job slots (the lock still counts every build's links).
  set(pool "")
  if(NOT arg_SHARED)
    set(depth 1)
    if(DEFINED arg_SLOTS)
      set(depth ${arg_SLOTS})
    endif()
    string(SHA256 dir_hash "${lock_dir}")
    string(SUBSTRING "${dir_hash}" 0 8 dir_hash)
    set(pool "buildlock-links-${arg_LOCK}-${dir_hash}")
    get_property(pools GLOBAL PROPERTY JOB_POOLS)
    if(NOT "${pool}=${depth}" IN_LIST pools)
      set_property(GLOBAL APPEND PROPERTY JOB_POOLS "${pool}=${depth}")
    endif()
  endif()
  # A claim on a target or a directory is the launcher word; the pool goes with the launcher.
  set(claim "${launcher}")
  set_property(GLOBAL PROPERTY "_BUILDLOCK_LINK_POOL_${launcher}" "${pool}")

  _buildlock_in_tree(buildlock_target buildlock_top_dir)
  foreach(target IN LISTS arg_TARGETS)
    if(NOT TARGET "${target}")
      message(FATAL_ERROR "${fn}: TARGETS: there is no target \"${target}\" (define it first)")
    endif()
    get_target_property(aliased "${target}" ALIASED_TARGET)
    if(aliased)
      set(target "${aliased}")
    endif()
    get_target_property(imported "${target}" IMPORTED)
    get_target_property(type "${target}" TYPE)
    if(imported)
      message(FATAL_ERROR "${fn}: TARGETS: \"${target}\" is imported: this build does not link it")
    elseif(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY|STATIC_LIBRARY)$")
      message(FATAL_ERROR "${fn}: TARGETS: \"${target}\" is of type ${type}, which has no link step")
    endif()
    # Whether the target was defined at or below buildlock's top directory, following the
    # add_subdirectory() tree up (not the paths: a project may live inside buildlock's sources).
    get_target_property(dir "${target}" SOURCE_DIR)
    set(of_buildlock FALSE)
    while(NOT buildlock_top_dir STREQUAL "" AND NOT dir STREQUAL "")
      if(dir STREQUAL buildlock_top_dir)
        set(of_buildlock TRUE)
        break()
      endif()
      get_directory_property(dir DIRECTORY "${dir}" PARENT_DIRECTORY)
    endwhile()
    if(of_buildlock)
      message(FATAL_ERROR
        "${fn}: TARGETS: \"${target}\" is part of buildlock itself, which every limited link "
        "runs: it cannot wait for a lock")
    endif()
    get_target_property(known_claim "${target}" _BUILDLOCK_LINK_CLAIM)
    if(known_claim AND NOT known_claim STREQUAL claim)
      message(FATAL_ERROR
        "${fn}: TARGETS: the links of \"${target}\" are already limited by an earlier call on "
        "another lock; a target's links take one lock")
    endif()
    set_property(TARGET "${target}" PROPERTY _BUILDLOCK_LINK_CLAIM "${claim}")
  endforeach()

  set(directories "${arg_DIRECTORIES}")
  if(arg_ALL)
    list(APPEND directories "${CMAKE_SOURCE_DIR}")
  endif()
  foreach(dir IN LISTS directories)
    cmake_path(ABSOLUTE_PATH dir BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE)
    string(REGEX REPLACE "(.)/$" "\\1" dir "${dir}")
    string(SHA256 key "${dir}")
    get_property(known_claim GLOBAL PROPERTY _BUILDLOCK_LINK_DIRECTORY_${key})
    if(known_claim AND NOT known_claim STREQUAL claim)
      message(FATAL_ERROR
        "${fn}: the links of directory ${dir} are already limited by an earlier call on another "
        "lock; a directory's links take one lock")
    endif()
    set_property(GLOBAL PROPERTY _BUILDLOCK_LINK_DIRECTORY_${key} "${claim}")
    set_property(GLOBAL APPEND PROPERTY _BUILDLOCK_LINK_DIRECTORIES "${dir}")
  endforeach()

  # Directories and targets may still be added: apply every call once all of them are known.
  get_property(scheduled GLOBAL PROPERTY _BUILDLOCK_LINK_LIMITS_SCHEDULED)
  if(NOT scheduled)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _buildlock_apply_link_limits)
    set_property(GLOBAL PROPERTY _BUILDLOCK_LINK_LIMITS_SCHEDULED TRUE)
  endif()
endfunction()

# Runs at the end of the top-level CMakeLists.txt: gives every target its link lock.
function(_buildlock_apply_link_limits)
  _buildlock_in_tree(buildlock_target buildlock_top_dir)
  set_property(GLOBAL PROPERTY _BUILDLOCK_VISITED_DIRECTORIES "")
  _buildlock_limit_directory("${CMAKE_SOURCE_DIR}" "")
  get_property(visited GLOBAL PROPERTY _BUILDLOCK_VISITED_DIRECTORIES)
  get_property(claimed GLOBAL PROPERTY _BUILDLOCK_LINK_DIRECTORIES)
  foreach(dir IN LISTS claimed)
    if(NOT dir IN_LIST visited)
      message(FATAL_ERROR
        "buildlock_limit_links: DIRECTORIES: ${dir} is not a directory of this build "
        "(the top-level one or one added by add_subdirectory())")
    endif()
  endforeach()
endfunction()

# Limits the links of the targets of <dir> and of the directories below it: a target named in
# TARGETS takes that call's lock, any other the lock of the closest claimed directory above it.
# buildlock's own project is left alone: its link is what every launcher runs.
function(_buildlock_limit_directory dir inherited_claim)
  set_property(GLOBAL APPEND PROPERTY _BUILDLOCK_VISITED_DIRECTORIES "${dir}")
  if(dir STREQUAL buildlock_top_dir)
    return()
  endif()
  string(SHA256 key "${dir}")
  get_property(claim GLOBAL PROPERTY _BUILDLOCK_LINK_DIRECTORY_${key})
  if(NOT claim)
    set(claim "${inherited_claim}")
  endif()
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY|STATIC_LIBRARY)$")
      continue()
    endif()
    get_target_property(target_claim ${target} _BUILDLOCK_LINK_CLAIM)
    if(NOT target_claim)
      set(target_claim "${claim}")
    endif()
    if(target_claim STREQUAL "")
      continue()
    endif()
    set(launcher "${target_claim}")
    get_property(pool GLOBAL PROPERTY "_BUILDLOCK_LINK_POOL_${launcher}")
    # In front of any launcher already there (ctest's --launch), which then runs inside the lock.
    get_property(launch TARGET ${target} PROPERTY RULE_LAUNCH_LINK)
    string(STRIP "${launcher} ${launch}" launch)
    set_property(TARGET ${target} PROPERTY RULE_LAUNCH_LINK "${launch}")
    if(NOT pool STREQUAL "")
      get_property(has_pool TARGET ${target} PROPERTY JOB_POOL_LINK SET)
      if(NOT has_pool)
        set_property(TARGET ${target} PROPERTY JOB_POOL_LINK "${pool}")
      endif()
    endif()
    if(NOT buildlock_target STREQUAL "")
      add_dependencies(${target} ${buildlock_target})
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    _buildlock_limit_directory("${subdirectory}" "${claim}")
  endforeach()
endfunction()
