# cmake -DSOURCE_DIR=<buildlock source> -P check_etcd_dir.cmake: the module passes an etcd
# location given as DIR (or BUILDLOCK_LOCK_DIR) to buildlock unchanged, instead of refusing it as
# a relative path or normalising it as one (docs/cli.md, "Locks in etcd").
include("${SOURCE_DIR}/cmake-modules/BuildLock/common.cmake")
foreach(location IN ITEMS "etcd://10.0.0.1:2379,10.0.0.2:2379/ci//locks/"
                          "etcds://etcd.ci:2379/ci")
  _buildlock_resolve_dir(check "${location}" resolved)
  if(NOT resolved STREQUAL location)
    message(FATAL_ERROR "DIR \"${location}\" became \"${resolved}\"")
  endif()
  set(BUILDLOCK_LOCK_DIR "${location}")
  _buildlock_resolve_dir(check "" resolved)
  if(NOT resolved STREQUAL location)
    message(FATAL_ERROR "BUILDLOCK_LOCK_DIR \"${location}\" became \"${resolved}\"")
  endif()
endforeach()
