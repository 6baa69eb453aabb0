file(REMOVE_RECURSE
  "CMakeFiles/va_protocol.dir/error_codes.cpp.o"
  "CMakeFiles/va_protocol.dir/error_codes.cpp.o.d"
  "CMakeFiles/va_protocol.dir/header.cpp.o"
  "CMakeFiles/va_protocol.dir/header.cpp.o.d"
  "CMakeFiles/va_protocol.dir/procedure_numbers.cpp.o"
  "CMakeFiles/va_protocol.dir/procedure_numbers.cpp.o.d"
  "CMakeFiles/va_protocol.dir/procedures.cpp.o"
  "CMakeFiles/va_protocol.dir/procedures.cpp.o.d"
  "libva_protocol.a"
  "libva_protocol.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/va_protocol.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
