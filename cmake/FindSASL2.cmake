# FindSASL2: Cyrus SASL (Debian: libsasl2-dev, which has no CMake package).
# Defines the imported target SASL2::sasl2 and SASL2_FOUND. Used by
# virtactor's build and installed with its CMake package.
include(FindPackageHandleStandardArgs)
find_path(SASL2_INCLUDE_DIR sasl/sasl.h)
find_library(SASL2_LIBRARY NAMES sasl2)
find_package_handle_standard_args(SASL2
  REQUIRED_VARS SASL2_INCLUDE_DIR SASL2_LIBRARY
  REASON_FAILURE_MESSAGE "install the Debian package libsasl2-dev")
if(SASL2_FOUND AND NOT TARGET SASL2::sasl2)
  add_library(SASL2::sasl2 UNKNOWN IMPORTED)
  set_target_properties(SASL2::sasl2 PROPERTIES
    IMPORTED_LOCATION "${SASL2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SASL2_INCLUDE_DIR}")
endif()
mark_as_advanced(SASL2_INCLUDE_DIR SASL2_LIBRARY)
