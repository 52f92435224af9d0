# What `cmake --install` adds besides the binary and the CMake package (top-level
# CMakeLists.txt): man pages, bash completion, the manual. And `cpack -G DEB`, which packages
# exactly what `cmake --install` installs. Included from the top-level CMakeLists.txt.
include(GNUInstallDirs)

install(FILES "${PROJECT_SOURCE_DIR}/docs/man/buildlock.1" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${PROJECT_SOURCE_DIR}/docs/man/buildlock-cmake.7" DESTINATION "${CMAKE_INSTALL_MANDIR}/man7")
# bash-completion loads completions/<command> on first use of <command>.
install(FILES "${PROJECT_SOURCE_DIR}/tool/completion/buildlock.bash"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME buildlock)
# The manual: README.md and docs/*.md keep their relative links (README.md links docs/x.md).
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs"
        FILES_MATCHING PATTERN "*.md" PATTERN "man" EXCLUDE)

if(NOT buildlock_is_top_level)
  return() # a project that embeds buildlock packages itself
endif()

# `cpack -G DEB` in the build tree. The package installs under /usr (the paths below it are the
# ones computed at configure time: <libdir>/cmake/buildlock is on find_package()'s search path).
set(CPACK_PACKAGE_NAME "buildlock")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "buildlock maintainers <maintainers@users.noreply.b-seed-db7a8eef.example>"
    CACHE STRING "Maintainer field of the packages cpack builds")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # buildlock_<version>_<arch>.deb
# The Depends line from the shared libraries the binary really links (none when fully static, the
# default; libc6, libstdc++6, libgcc-s1 with BUILDLOCK_LINKAGE=shared),
# with the versions dpkg-shlibdeps (dpkg-dev) derives from the symbols it uses.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.25), bash-completion")
# The long description; CPack indents it and turns the empty line into Debian's " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "buildlock runs a command, or a whole build, under an exclusive lock file in a
shared lock directory, so that concurrent builds sharing a cache (ccache,
FetchContent and ExternalProject prefixes, toolchain downloads) wait for each
other. A lock whose holder died (Ctrl+C, kill -9, OOM, a cancelled CI job, a
reboot) is reclaimed on the spot, and a live holder is never robbed.

Includes the CMake package (find_package(buildlock)) with buildlock_wrap()
for custom commands, man pages and bash completion.")
set(CPACK_STRIP_FILES ON) # as Debian ships binaries; a Debug tree's package is still small
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "") # no source package: `git archive` does that better
include(CPack)
