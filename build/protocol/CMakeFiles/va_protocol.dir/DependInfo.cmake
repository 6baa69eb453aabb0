
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/protocol/error_codes.cpp" "protocol/CMakeFiles/va_protocol.dir/error_codes.cpp.o" "gcc" "protocol/CMakeFiles/va_protocol.dir/error_codes.cpp.o.d"
  "/work/main/protocol/header.cpp" "protocol/CMakeFiles/va_protocol.dir/header.cpp.o" "gcc" "protocol/CMakeFiles/va_protocol.dir/header.cpp.o.d"
  "/work/main/protocol/procedure_numbers.cpp" "protocol/CMakeFiles/va_protocol.dir/procedure_numbers.cpp.o" "gcc" "protocol/CMakeFiles/va_protocol.dir/procedure_numbers.cpp.o.d"
  "/work/main/protocol/procedures.cpp" "protocol/CMakeFiles/va_protocol.dir/procedures.cpp.o" "gcc" "protocol/CMakeFiles/va_protocol.dir/procedures.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
