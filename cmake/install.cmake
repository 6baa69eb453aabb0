# Install rules, the CMake package and the pkg-config file of virtactor.
#
# Included last from the top-level CMakeLists.txt, once every target exists.
# The one list to keep up to date is VA_PUBLIC_LIBRARIES: the libraries an
# embedding program links. Everything they link in turn (the protocol, actor,
# driver and transport libraries) is found by walking their link libraries,
# so renaming or splitting an internal library needs no change here.
#
# Each library is exported as virtactor::<name without va_> (va_client ->
# virtactor::client), both from the installed package
# (find_package(virtactor)) and as an ALIAS for add_subdirectory/FetchContent.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The libraries an embedding program links (the blocking facade and the async
# API with every driver); what they need comes along.
set(VA_PUBLIC_LIBRARIES va_client)

option(VA_INSTALL "Generate install rules (libraries, headers, programs, man pages, units)"
       ${VA_TOP_LEVEL})
set(VA_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the prefix or absolute")
set(VA_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE STRING
    "Where the bash completion script goes, relative to the prefix or absolute")

# va_link_closure(<out> <target>...): the non-imported targets <target>...
# link, directly or not, themselves included, dependents before their
# dependencies (the order a static link line needs). Imported targets met on
# the way are returned in <out>_IMPORTED.
function(va_link_closure out)
  set(order)
  set(imported)
  set(seen)
  # An explicit stack of (target, state): state 0 = enter, 1 = leave.
  set(stack)
  foreach(t IN LISTS ARGN)
    list(APPEND stack "${t}|0")
  endforeach()
  while(stack)
    list(POP_BACK stack item)
    string(REPLACE "|" ";" item "${item}")
    list(GET item 0 t)
    list(GET item 1 state)
    if(state STREQUAL "1")
      list(APPEND order ${t})
      continue()
    endif()
    if(t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(alias ${t} ALIASED_TARGET)
    if(alias)
      set(t ${alias})
    endif()
    get_target_property(is_imported ${t} IMPORTED)
    if(is_imported)
      list(APPEND imported ${t})
      get_target_property(deps ${t} INTERFACE_LINK_LIBRARIES)
    else()
      list(APPEND stack "${t}|1")
      get_target_property(deps ${t} LINK_LIBRARIES)
    endif()
    if(NOT deps)
      continue()
    endif()
    foreach(d IN LISTS deps)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" d "${d}")
      if(TARGET ${d} AND NOT d IN_LIST seen)
        list(APPEND stack "${d}|0")
      elseif(NOT TARGET ${d} AND NOT d MATCHES "^-")
        message(FATAL_ERROR "cmake/install.cmake: '${t}' links '${d}', which is not a target; "
                            "link an imported target so the package can carry it")
      endif()
    endforeach()
  endwhile()
  # Post-order lists dependencies first; a link line wants dependents first.
  list(REVERSE order)
  list(REMOVE_DUPLICATES imported)
  set(${out} ${order} PARENT_SCOPE)
  set(${out}_IMPORTED ${imported} PARENT_SCOPE)
endfunction()

va_link_closure(VA_EXPORTED_LIBRARIES ${VA_PUBLIC_LIBRARIES})

# Names and usage requirements of every exported library, and the names
# add_subdirectory/FetchContent users link: virtactor::<name>.
set(VA_BUILD_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
foreach(t IN LISTS VA_EXPORTED_LIBRARIES)
  string(REGEX REPLACE "^va_" "" name ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${name})
  # Users of the headers need C++20 too.
  target_compile_features(${t} PUBLIC cxx_std_20)
  if(TARGET virtactor::${name})
    continue()
  endif()
  if(t IN_LIST VA_PUBLIC_LIBRARIES)
    # In the build tree, <virtactor/client/async.hpp> works as it does once
    # installed (include/virtactor/client/async.hpp); only for users, so
    # virtactor's own compile lines stay as they are.
    add_library(${t}_public INTERFACE)
    target_link_libraries(${t}_public INTERFACE ${t})
    target_include_directories(${t}_public INTERFACE ${VA_BUILD_INCLUDE_DIR})
    add_library(virtactor::${name} ALIAS ${t}_public)
  else()
    add_library(virtactor::${name} ALIAS ${t})
  endif()
endforeach()
file(MAKE_DIRECTORY ${VA_BUILD_INCLUDE_DIR})
if(NOT EXISTS ${VA_BUILD_INCLUDE_DIR}/virtactor)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR} ${VA_BUILD_INCLUDE_DIR}/virtactor SYMBOLIC)
endif()

if(NOT VA_INSTALL)
  return()
endif()

set(VA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/virtactor)
set(VA_INCLUDE_DIR ${CMAKE_INSTALL_INCLUDEDIR}/virtactor)

# --- libraries and headers -------------------------------------------------------
# Installed headers keep their tree paths under include/virtactor, and both
# include/ and include/virtactor are on the include path of the exported
# targets: the headers include each other as "protocol/xdr.hpp", users write
# <virtactor/client/async.hpp>.
install(TARGETS ${VA_EXPORTED_LIBRARIES} EXPORT virtactorTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${VA_INCLUDE_DIR})

# The headers of every directory that holds a source of an exported library.
set(va_header_dirs)
foreach(t IN LISTS VA_EXPORTED_LIBRARIES)
  get_target_property(srcs ${t} SOURCES)
  get_target_property(dir ${t} SOURCE_DIR)
  foreach(s IN LISTS srcs)
    get_filename_component(s ${s} ABSOLUTE BASE_DIR ${dir})
    get_filename_component(d ${s} DIRECTORY)
    list(APPEND va_header_dirs ${d})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES va_header_dirs)
foreach(d IN LISTS va_header_dirs)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${d})
  file(GLOB headers ${d}/*.hpp)
  install(FILES ${headers} DESTINATION ${VA_INCLUDE_DIR}/${rel} COMPONENT dev)
endforeach()

# --- the CMake package -----------------------------------------------------------
install(EXPORT virtactorTargets NAMESPACE virtactor:: DESTINATION ${VA_CMAKE_DIR}
  COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/virtactorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/virtactorConfig.cmake INSTALL_DESTINATION ${VA_CMAKE_DIR})
# 0.x: a minor release may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/virtactorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/virtactorConfig.cmake
  ${PROJECT_BINARY_DIR}/virtactorConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindLibSSH2.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindSASL2.cmake
  DESTINATION ${VA_CMAKE_DIR} COMPONENT dev)

# --- pkg-config --------------------------------------------------------------------
# The same closure as a static link line: our archives, dependents first,
# then what the imported targets stand for.
set(VA_PC_LIBS)
foreach(t IN LISTS VA_EXPORTED_LIBRARIES)
  get_target_property(out ${t} OUTPUT_NAME)
  if(NOT out)
    set(out ${t})
  endif()
  string(APPEND VA_PC_LIBS " -l${out}")
endforeach()
set(VA_PC_REQUIRES)
set(va_pc_caf)
foreach(i IN LISTS VA_EXPORTED_LIBRARIES_IMPORTED)
  if(i STREQUAL "OpenSSL::SSL")
    list(APPEND VA_PC_REQUIRES libssl)
  elseif(i STREQUAL "OpenSSL::Crypto")
    list(APPEND VA_PC_REQUIRES libcrypto)
  elseif(i STREQUAL "pugixml::pugixml" OR i STREQUAL "pugixml::shared" OR i STREQUAL "pugixml")
    list(APPEND VA_PC_REQUIRES pugixml)
  elseif(i STREQUAL "libssh2::libssh2")
    list(APPEND VA_PC_REQUIRES libssh2)
  elseif(i STREQUAL "SASL2::sasl2")
    list(APPEND VA_PC_REQUIRES libsasl2)
  elseif(i MATCHES "^CAF::(.*)$")
    list(APPEND va_pc_caf ${CMAKE_MATCH_1})
  elseif(i STREQUAL "Threads::Threads")
    # -pthread below
  else()
    message(FATAL_ERROR "cmake/install.cmake: no pkg-config name for '${i}'; add one")
  endif()
endforeach()
# CAF has no .pc file: name its libraries, most dependent first.
foreach(m openssl io core)
  if(m IN_LIST va_pc_caf)
    string(APPEND VA_PC_LIBS " -lcaf_${m}")
  endif()
endforeach()
string(APPEND VA_PC_LIBS " -pthread")
list(REMOVE_DUPLICATES VA_PC_REQUIRES)
list(JOIN VA_PC_REQUIRES ", " VA_PC_REQUIRES)
# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install build --prefix P` works whatever prefix was configured.
file(RELATIVE_PATH VA_PC_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" VA_PC_PREFIX "${VA_PC_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/virtactor.pc.in ${PROJECT_BINARY_DIR}/virtactor.pc
  @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/virtactor.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# --- programs ------------------------------------------------------------------------
foreach(p virtactor virtactor-ssh-helper)
  if(TARGET ${p})
    install(TARGETS ${p} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
  endif()
endforeach()
if(TARGET virtactord)
  install(TARGETS virtactord RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT bin)
endif()

# --- man pages: made from docs/shell.md and docs/daemon.md by docs/man.py -------------
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  set(va_man_pages)
  foreach(page "shell.md;virtactor.1;man1" "daemon.md;virtactord.8;man8")
    list(GET page 0 md)
    list(GET page 1 out)
    list(GET page 2 section)
    add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/docs/man.py
              ${PROJECT_SOURCE_DIR}/docs/${md} ${PROJECT_BINARY_DIR}/man/${out}
      DEPENDS ${PROJECT_SOURCE_DIR}/docs/man.py ${PROJECT_SOURCE_DIR}/docs/${md}
      COMMENT "Generating man page ${out} from docs/${md}")
    list(APPEND va_man_pages ${PROJECT_BINARY_DIR}/man/${out})
    install(FILES ${PROJECT_BINARY_DIR}/man/${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/${section}
      COMPONENT bin)
  endforeach()
  add_custom_target(va_man ALL DEPENDS ${va_man_pages})
else()
  message(STATUS "python3 not found: no man pages")
endif()

# --- systemd units, bash completion, example configuration, documentation ----------
# The units name the installed virtactord: they are made at install time,
# for the prefix given then (`cmake --install build --prefix P`).
foreach(unit virtactord.service virtactord.socket virtactord-ro.socket)
  install(CODE "
    if(IS_ABSOLUTE \"${CMAKE_INSTALL_SBINDIR}\")
      set(CMAKE_INSTALL_FULL_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
    else()
      set(CMAKE_INSTALL_FULL_SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
    endif()
    configure_file(\"${PROJECT_SOURCE_DIR}/daemon/${unit}.in\"
                   \"${PROJECT_BINARY_DIR}/systemd/${unit}\" @ONLY)" COMPONENT bin)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit} DESTINATION ${VA_SYSTEMD_UNIT_DIR}
    COMPONENT bin)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/client/shell/bash-completion/virtactor
              ${PROJECT_SOURCE_DIR}/daemon/bash-completion/virtactord
  DESTINATION ${VA_BASH_COMPLETION_DIR} COMPONENT bin)
install(FILES ${PROJECT_SOURCE_DIR}/daemon/virtactord.conf
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT bin)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
  COMPONENT bin FILES_MATCHING PATTERN "*.md")
# The embedding examples, ready to build against the installed package.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/embedding
  COMPONENT dev)
