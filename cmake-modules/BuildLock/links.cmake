# buildlock_limit_links(): link steps under a lock (BuildLock.cmake).

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
# script reads buildlock's path from a file written at configure or generate time: neither
# RULE_LAUNCH_LINK nor <LANG>_LINKER_LAUNCHER evaluates generator expressions in CMake 3.25, and
# $<TARGET_FILE:...> is the only way to learn where an in-tree buildlock lands.
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
    _buildlock_executable(${fn} BUILD buildlock)
    get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
    if(NOT buildlock MATCHES "^\\$<")
      file(WRITE "${path_file}" "${buildlock}\n") # BUILDLOCK_EXECUTABLE
    elseif(NOT multi_config)
      file(GENERATE OUTPUT "${path_file}" CONTENT "${buildlock}\n")
    else()
      # One file for every configuration. In-tree, each configuration's buildlock is a file of
      # its own, of which only the one of the configuration being built is sure to exist: the
      # buildlock project copies it, when linked, to one place (tool/CMakeLists.txt). Imported,
      # every configuration has the same file.
      _buildlock_in_tree(buildlock_target buildlock_top_dir buildlock_closure)
      if(buildlock_target STREQUAL "")
        list(GET CMAKE_CONFIGURATION_TYPES 0 first_config)
        file(GENERATE OUTPUT "${path_file}" CONTENT "${buildlock}\n"
             CONDITION "$<CONFIG:${first_config}>")
      else()
        get_target_property(any_config_file ${buildlock_target} BUILDLOCK_ANY_CONFIG_FILE)
        file(WRITE "${path_file}" "${any_config_file}\n")
      endif()
    endif()
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

function(buildlock_limit_links)
  set(fn "buildlock_limit_links")
  set(value_keywords LOCK DIR SLOTS TIMEOUT STALE_AFTER)
  set(flag_keywords ALL SHARED QUIET VERBOSE NO_DIE_WITH_PARENT KEEP_RUNNING_IF_LOST STOP_IF_LOST)
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
          "SHARED, SLOTS, TIMEOUT, STALE_AFTER, QUIET, VERBOSE, NO_DIE_WITH_PARENT, "
          "KEEP_RUNNING_IF_LOST or STOP_IF_LOST)")
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
  # RULE_LAUNCH_LINK is honoured by the Makefile and Ninja generators only: Visual Studio and
  # Xcode would ignore it without a word.
  if(NOT CMAKE_GENERATOR MATCHES "^(Ninja|Ninja Multi-Config|Unix Makefiles)$")
    message(FATAL_ERROR
      "${fn}: works with the Ninja, Ninja Multi-Config and Unix Makefiles generators only, not "
      "${CMAKE_GENERATOR}, which ignores link launchers")
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
    _buildlock_define_pool("buildlock-links" "${arg_LOCK}" "${lock_dir}" ${depth} pool)
  endif()
  # A claim on a target or a directory is the launcher word; the pool goes with the launcher.
  set(claim "${launcher}")
  set_property(GLOBAL PROPERTY "_BUILDLOCK_LINK_POOL_${launcher}" "${pool}")

  _buildlock_in_tree(buildlock_target buildlock_top_dir buildlock_closure)
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
    _buildlock_check_not_of_buildlock(${fn} "${target}")
    get_target_property(known_claim "${target}" _BUILDLOCK_LINK_CLAIM)
    if(known_claim AND NOT known_claim STREQUAL claim)
      message(FATAL_ERROR
        "${fn}: TARGETS: the links of \"${target}\" are already limited by an earlier call on "
        "another lock; a target's links take one lock")
    endif()
    set_property(TARGET "${target}" PROPERTY _BUILDLOCK_LINK_CLAIM "${claim}")
    set_property(GLOBAL APPEND PROPERTY _BUILDLOCK_CLAIMED_TARGETS "${target}")
  endforeach()

  set(directories "${arg_DIRECTORIES}")
  if(arg_ALL)
    # The calling project, not the whole build: a subproject limits its own links only.
    list(APPEND directories "${PROJECT_SOURCE_DIR}")
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
  _buildlock_in_tree(buildlock_target buildlock_top_dir buildlock_closure)
  # Targets named by TARGETS before the whole closure was known.
  get_property(claimed_targets GLOBAL PROPERTY _BUILDLOCK_CLAIMED_TARGETS)
  foreach(target IN LISTS claimed_targets)
    _buildlock_check_not_of_buildlock(buildlock_limit_links "${target}")
  endforeach()
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
    if(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY|STATIC_LIBRARY)$"
       OR target IN_LIST buildlock_closure)
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
    if(NOT buildlock_target STREQUAL "" AND BUILDLOCK_EXECUTABLE STREQUAL "")
      add_dependencies(${target} ${buildlock_target})
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    _buildlock_limit_directory("${subdirectory}" "${claim}")
  endforeach()
endfunction()

# Stops when <target> is part of the in-tree buildlock: defined at or below its top directory
# (following the add_subdirectory() tree up, not the paths: a project may live inside buildlock's
# sources), or linked by it. Every limited link runs buildlock, so these cannot wait for it.
# Reads buildlock_top_dir and buildlock_closure of the caller.
function(_buildlock_check_not_of_buildlock function_name target)
  get_target_property(dir "${target}" SOURCE_DIR)
  set(of_buildlock FALSE)
  if(target IN_LIST buildlock_closure)
    set(of_buildlock TRUE)
  endif()
  while(NOT of_buildlock AND NOT buildlock_top_dir STREQUAL "" AND NOT dir STREQUAL "")
    if(dir STREQUAL buildlock_top_dir)
      set(of_buildlock TRUE)
    endif()
    get_directory_property(dir DIRECTORY "${dir}" PARENT_DIRECTORY)
  endwhile()
  if(of_buildlock)
    message(FATAL_ERROR
      "${function_name}: TARGETS: \"${target}\" is part of buildlock itself, which every limited "
      "link runs: it cannot wait for a lock")
  endif()
endfunction()
