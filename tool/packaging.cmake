# What `cmake --install` adds besides the binary and the CMake package (top-level
# CMakeLists.txt): man pages, shell completions, the licence, the manual. And `cpack -G DEB`,
# which packages exactly what `cmake --install` installs. Included from the top-level
# CMakeLists.txt.
include(GNUInstallDirs)

# Man pages (and the Debian changelog, below) are installed gzip'd, as Debian policy (12.1, 12.7)
# wants and lintian checks; man(1) reads them either way. `gzip -n` stores no name and no time
# stamp, so the package is the same from one build to the next. They are made when buildlock is
# built, so that `--target buildlock` followed by `cmake --install` (the README's install) finds
# them.
find_program(BUILDLOCK_GZIP_EXECUTABLE gzip DOC "gzip, for the installed man pages" REQUIRED)
set(buildlock_compressed_dir "${PROJECT_BINARY_DIR}/compressed")
# _buildlock_gzip(<target> <name> <source>...): <target> makes <name>.gz of each <source>
# (<name> taken from the source's file name) in buildlock_compressed_dir; buildlock depends on it.
function(_buildlock_gzip target)
  set(outputs "")
  foreach(source IN LISTS ARGN)
    get_filename_component(name "${source}" NAME)
    set(copy "${buildlock_compressed_dir}/${name}")
    add_custom_command(OUTPUT "${copy}.gz"
      COMMAND "${CMAKE_COMMAND}" -E copy "${source}" "${copy}"
      COMMAND "${BUILDLOCK_GZIP_EXECUTABLE}" -9nf "${copy}"
      DEPENDS "${source}"
      COMMENT "Compressing ${name}" VERBATIM)
    list(APPEND outputs "${copy}.gz")
  endforeach()
  add_custom_target(${target} DEPENDS ${outputs})
  add_dependencies(buildlock ${target})
endfunction()
_buildlock_gzip(buildlock_man_pages "${PROJECT_SOURCE_DIR}/docs/man/buildlock.1"
                "${PROJECT_SOURCE_DIR}/docs/man/buildlock-cmake.7")

install(FILES "${buildlock_compressed_dir}/buildlock.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${buildlock_compressed_dir}/buildlock-cmake.7.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man7")
# Completions where each shell looks for them on its own: bash-completion loads
# completions/<command> on first use of <command>; zsh's Debian package puts vendor-completions on
# every user's $fpath; fish loads vendor_completions.d/<command>.fish on first use.
install(FILES "${PROJECT_SOURCE_DIR}/tool/completion/buildlock.bash"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME buildlock)
install(FILES "${PROJECT_SOURCE_DIR}/tool/completion/_buildlock"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions")
install(FILES "${PROJECT_SOURCE_DIR}/tool/completion/buildlock.fish"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
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
for custom commands, man pages and bash, zsh and fish completions.")
# What Debian policy asks of every package besides: the licence in Debian's machine-readable
# format (DEP-5, policy 12.5) and, for a native package, a changelog (12.7) for the version being
# built, dated at configure time or SOURCE_DATE_EPOCH when set (reproducible builds).
string(TIMESTAMP buildlock_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file("${PROJECT_SOURCE_DIR}/tool/deb/changelog.in" "${PROJECT_BINARY_DIR}/deb/changelog" @ONLY)
_buildlock_gzip(buildlock_changelog "${PROJECT_BINARY_DIR}/deb/changelog")
install(FILES "${PROJECT_SOURCE_DIR}/tool/deb/copyright" "${buildlock_compressed_dir}/changelog.gz"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
# Why lintian's one error, statically-linked-binary, is accepted (the file says), for the linkage
# that causes it only: an override nothing triggers is a finding too.
if(BUILDLOCK_LINKAGE STREQUAL "static")
  install(FILES "${PROJECT_SOURCE_DIR}/tool/deb/lintian-overrides"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/lintian/overrides" RENAME buildlock)
endif()
set(CPACK_STRIP_FILES ON) # as Debian ships binaries; a Debug tree's package is still small
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "") # no source package: `git archive` does that better
include(CPack)
