# Which buildlock the module runs, and where it is (BuildLock.cmake).
#
# In order: BUILDLOCK_EXECUTABLE when set (a buildlock for the build host, as
# Protobuf_PROTOC_EXECUTABLE is for protoc), else the target buildlock::buildlock, imported by the
# package or built in this build by add_subdirectory()/FetchContent.

# Sets <out_var> to the buildlock to run, for <function_name>:
#   BUILD      a word for a build step: a path, or $<TARGET_FILE:buildlock::buildlock> for an
#              in-tree buildlock (which also makes the step depend on building it);
#   CONFIGURE  a path that exists now, for execute_process() and launchers. An in-tree buildlock
#              is built by this build, after configuration: not one of those.
function(_buildlock_executable function_name use out_var)
  set(fn ${function_name})
  set(hint "set BUILDLOCK_EXECUTABLE to a buildlock built for this machine, or find_package() an installed buildlock")
  if(NOT BUILDLOCK_EXECUTABLE STREQUAL "")
    if(NOT IS_ABSOLUTE "${BUILDLOCK_EXECUTABLE}" OR IS_DIRECTORY "${BUILDLOCK_EXECUTABLE}"
       OR NOT EXISTS "${BUILDLOCK_EXECUTABLE}")
      message(FATAL_ERROR
        "${fn}: BUILDLOCK_EXECUTABLE \"${BUILDLOCK_EXECUTABLE}\" is not the absolute path of an "
        "existing file")
    endif()
    set(${out_var} "${BUILDLOCK_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(NOT TARGET buildlock::buildlock)
    message(FATAL_ERROR
      "${fn}: there is no target buildlock::buildlock here: call find_package(buildlock CONFIG "
      "REQUIRED) or add_subdirectory()/FetchContent_MakeAvailable() the buildlock sources first, "
      "or set BUILDLOCK_EXECUTABLE")
  endif()
  get_target_property(imported buildlock::buildlock IMPORTED)
  if(imported)
    if(use STREQUAL "BUILD")
      set(${out_var} "$<TARGET_FILE:buildlock::buildlock>" PARENT_SCOPE)
    else()
      # An imported executable has one file for every configuration that matters here.
      get_target_property(location buildlock::buildlock LOCATION)
      set(${out_var} "${location}" PARENT_SCOPE)
    endif()
    return()
  endif()
  if(CMAKE_CROSSCOMPILING)
    message(FATAL_ERROR
      "${fn}: buildlock::buildlock is built here with the cross toolchain "
      "(CMAKE_CROSSCOMPILING), for a machine the build does not run on: ${hint}")
  endif()
  if(use STREQUAL "BUILD")
    set(${out_var} "$<TARGET_FILE:buildlock::buildlock>" PARENT_SCOPE)
  else()
    message(FATAL_ERROR
      "${fn}: buildlock::buildlock is built by this build, so it does not exist yet when it "
      "would run: ${hint} (docs/cmake.md)")
  endif()
endfunction()

# Sets <out_target> to the real name of the in-tree buildlock target, <out_top_dir> to the top
# directory of the buildlock project that defines it, and <out_closure> to the targets of this
# build that buildlock links or depends on (itself included). All empty when buildlock is
# imported or absent: then this build does not link it.
function(_buildlock_in_tree out_target out_top_dir out_closure)
  set(target "")
  set(top_dir "")
  set(closure "")
  if(TARGET buildlock::buildlock)
    get_target_property(imported buildlock::buildlock IMPORTED)
    if(NOT imported)
      get_target_property(target buildlock::buildlock ALIASED_TARGET)
      if(NOT target)
        set(target buildlock::buildlock)
      endif()
      get_target_property(target_dir ${target} SOURCE_DIR)
      get_directory_property(top_dir DIRECTORY "${target_dir}" DEFINITION PROJECT_SOURCE_DIR)
      _buildlock_link_closure(${target} closure)
    endif()
  endif()
  set(${out_target} "${target}" PARENT_SCOPE)
  set(${out_top_dir} "${top_dir}" PARENT_SCOPE)
  set(${out_closure} "${closure}" PARENT_SCOPE)
endfunction()

# Sets <out_var> to <target> and every non-imported target it links or depends on, directly or
# not: wherever they are defined (a CLI11 that the project provides through FetchContent with
# OVERRIDE_FIND_PACKAGE, say), their links must not wait for buildlock.
function(_buildlock_link_closure target out_var)
  set(closure "")
  set(queue "${target}")
  while(NOT queue STREQUAL "")
    list(POP_FRONT queue item)
    # A dependency inside a generator expression ($<LINK_ONLY:x>, $<BUILD_INTERFACE:x>,
    # $<$<CONFIG:Release>:x>) may be linked in some configuration: every target the expression
    # names counts. Counting one too many only leaves its links unlimited; one too few makes it
    # wait for the buildlock it is linked into, a dependency cycle.
    if(item MATCHES "\\$<")
      string(REPLACE "$<" ";" parts "${item}")
      string(REGEX REPLACE "[>,]" ";" parts "${parts}")
      foreach(part IN LISTS parts)
        # `NAME:` of an expression, not the `::` of a namespaced target.
        while(part MATCHES "^[A-Za-z0-9_]*:([^:].*)$")
          set(part "${CMAKE_MATCH_1}")
        endwhile()
        if(NOT part STREQUAL "" AND TARGET "${part}")
          list(APPEND queue "${part}")
        endif()
      endforeach()
      continue()
    endif()
    if(item MATCHES "^::@" OR NOT TARGET "${item}")
      continue()
    endif()
    get_target_property(aliased "${item}" ALIASED_TARGET)
    if(aliased)
      set(item "${aliased}")
    endif()
    get_target_property(imported "${item}" IMPORTED)
    if(imported OR item IN_LIST closure)
      continue()
    endif()
    list(APPEND closure "${item}")
    foreach(property IN ITEMS LINK_LIBRARIES INTERFACE_LINK_LIBRARIES MANUALLY_ADDED_DEPENDENCIES)
      get_target_property(items "${item}" ${property})
      if(items)
        list(APPEND queue ${items})
      endif()
    endforeach()
  endwhile()
  set(${out_var} "${closure}" PARENT_SCOPE)
endfunction()
