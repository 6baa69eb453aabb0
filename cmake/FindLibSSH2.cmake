# FindLibSSH2: libssh2 (Debian: libssh2-1-dev, which has no CMake package).
# Defines the imported target libssh2::libssh2 (the name libssh2's own
# package uses) and LibSSH2_FOUND. Used by virtactor's build and installed
# with its CMake package.
include(FindPackageHandleStandardArgs)
find_path(LIBSSH2_INCLUDE_DIR libssh2.h)
find_library(LIBSSH2_LIBRARY NAMES ssh2)
find_package_handle_standard_args(LibSSH2
  REQUIRED_VARS LIBSSH2_INCLUDE_DIR LIBSSH2_LIBRARY
  REASON_FAILURE_MESSAGE "install the Debian package libssh2-1-dev")
if(LibSSH2_FOUND AND NOT TARGET libssh2::libssh2)
  add_library(libssh2::libssh2 UNKNOWN IMPORTED)
  set_target_properties(libssh2::libssh2 PROPERTIES
    IMPORTED_LOCATION "${LIBSSH2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LIBSSH2_INCLUDE_DIR}")
endif()
mark_as_advanced(LIBSSH2_INCLUDE_DIR LIBSSH2_LIBRARY)
