# install.cmake — installation of Warden for embedders, included at the end of the top-level
# CMakeLists.txt (targets warden, warden_cli, the layers' object libraries, WARDEN_OBJECTS and WARDEN_DEPS
# already exist).
#
# `cmake --install BUILD [--prefix DIR]` installs:
#   ${libdir}/libwarden.so.0.1.0, libwarden.so.0 (SONAME), libwarden.so    the shared library
#   ${libdir}/libwarden.a                                                   the same objects, static
#   ${includedir}/warden.h                                                  the one public header
#   ${bindir}/warden                                                        the command
#   ${libdir}/pkgconfig/warden.pc                                           pkg-config
#   ${libdir}/cmake/Warden/WardenConfig.cmake (+ Version, Targets)          find_package(Warden)
# with ${libdir} etc. from GNUInstallDirs: lib, include and bin under any prefix except /usr
# (where Debian's multiarch rule makes libdir lib/<triplet>). Every destination is relative,
# so `--prefix` and DESTDIR relocate the whole tree, the generated files included.
#
# Sanitized builds (WARDEN_SANITIZE=ON): libwarden.so then needs the ASan/UBSan runtimes, and
# a program that loads it must itself be linked with the same -fsanitize flags (ASan's runtime
# must come first in the process). The installed metadata carries those flags (Libs: in
# warden.pc, INTERFACE_LINK_OPTIONS on Warden::warden), so an outside project links correctly
# against a sanitized install without knowing it is one. A normal build adds nothing.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WARDEN_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Warden)
set(WARDEN_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
set(WARDEN_SANITIZE_LINK_FLAGS "")
if(WARDEN_SANITIZE)
  set(WARDEN_SANITIZE_LINK_FLAGS -fsanitize=address -fsanitize=undefined)
endif()

# --- the static library -------------------------------------------------------------------
# The same objects as libwarden.so. Its dependencies are named for the build tree; installed,
# the package config recreates them (component "static", see WardenConfig.cmake.in).
add_library(warden_static STATIC ${WARDEN_OBJECTS})
set_target_properties(warden_static PROPERTIES OUTPUT_NAME warden)
target_include_directories(warden_static INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
foreach(dep IN LISTS WARDEN_DEPS)
  target_link_libraries(warden_static INTERFACE $<BUILD_INTERFACE:${dep}>)
endforeach()
target_link_libraries(warden_static INTERFACE
  $<INSTALL_INTERFACE:PkgConfig::WardenStaticDeps> $<INSTALL_INTERFACE:Threads::Threads>)

# --- what the installed targets tell their users ------------------------------------------
# The top-level file gives `warden` its include folder as a plain source path, which an
# exported target may not carry; the build tree keeps it, the install gets its own.
set_property(TARGET warden PROPERTY INTERFACE_INCLUDE_DIRECTORIES
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
foreach(flag IN LISTS WARDEN_SANITIZE_LINK_FLAGS)
  foreach(target warden warden_static)
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_OPTIONS $<INSTALL_INTERFACE:${flag}>)
  endforeach()
endforeach()

# The installed command finds the installed library next to it.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set_target_properties(warden_cli PROPERTIES INSTALL_RPATH "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH warden_bin_to_lib "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
  set_target_properties(warden_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${warden_bin_to_lib}")
endif()

# --- install rules -------------------------------------------------------------------------
install(TARGETS warden EXPORT WardenTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS warden_static EXPORT WardenStaticTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(TARGETS warden_cli
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/include/warden.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

install(EXPORT WardenTargets NAMESPACE Warden::
  DESTINATION ${WARDEN_CMAKE_PACKAGE_DIR} COMPONENT development)
install(EXPORT WardenStaticTargets NAMESPACE Warden::
  DESTINATION ${WARDEN_CMAKE_PACKAGE_DIR} COMPONENT development)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/WardenConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/WardenConfig.cmake
  INSTALL_DESTINATION ${WARDEN_CMAKE_PACKAGE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/WardenConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/WardenConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/WardenConfigVersion.cmake
  DESTINATION ${WARDEN_CMAKE_PACKAGE_DIR} COMPONENT development)

# warden.pc names the prefix the tree is installed under, which is only known at install time
# (`cmake --install --prefix` overrides the configured one), so it is made then, from
# values fixed now. libdir and includedir stay relative to ${prefix} unless set absolute.
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(warden_pc_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(warden_pc_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
set(warden_pc_sanitize "")
foreach(flag IN LISTS WARDEN_SANITIZE_LINK_FLAGS)
  string(APPEND warden_pc_sanitize " ${flag}")
endforeach()
install(CODE "
  set(WARDEN_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(WARDEN_PC_LIBDIR [==[${warden_pc_LIBDIR}]==])
  set(WARDEN_PC_INCLUDEDIR [==[${warden_pc_INCLUDEDIR}]==])
  set(WARDEN_PC_VERSION \"${PROJECT_VERSION}\")
  set(WARDEN_PC_SANITIZE \"${warden_pc_sanitize}\")
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/warden.pc.in\" \"${CMAKE_CURRENT_BINARY_DIR}/warden.pc\" @ONLY)
" COMPONENT development)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/warden.pc
  DESTINATION ${WARDEN_PKGCONFIG_DIR} COMPONENT development)

# --- tests -----------------------------------------------------------------------------------
# Only warden_* symbols may be exported by libwarden.so.
add_test(NAME symbols_exported
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/embed/check_symbols.sh $<TARGET_FILE:warden>)

# Install into a temporary prefix, build examples/embed against it as an outside project
# (find_package and pkg-config), and run it on the example policy set's fixtures.
add_test(NAME embed_install
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/embed/install_and_build.sh
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${CMAKE_INSTALL_LIBDIR} ${CMAKE_C_COMPILER}
          ${CMAKE_COMMAND})
set_tests_properties(embed_install PROPERTIES TIMEOUT 180)
