# `cmake --install build --prefix P` installs the library as a CMake package and the runtime
# with a pkg-config file:
#   P/lib/libneurocell.a, P/lib/libneurocell_runtime.a
#   P/include/neurocell/neurocell.h (umbrella), P/include/neurocell/<folder>/*.h (src/ minus cli/)
#   P/include/neurocell/runtime/*.h (runtime/CMakeLists.txt)
#   P/lib/cmake/neurocell/neurocellConfig.cmake (+ version, targets): find_package(neurocell)
#     gives neurocell::neurocell (LibTorch, OpenBLAS, Sleef, OpenMP, zlib, nlohmann-json found
#     again through find_dependency) and neurocell::runtime (nothing but the C++ library)
#   P/lib/pkgconfig/neurocell-runtime.pc, P/bin/neurocell, P/bin/ncm_stream
# tests/install/run.sh builds one consumer of each kind against such a prefix.
include(CMakePackageConfigHelpers)

install(TARGETS neurocell EXPORT neurocell-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS neurocell_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/neurocell
        FILES_MATCHING PATTERN "*.h"
        PATTERN "cli" EXCLUDE)
install(EXPORT neurocell-targets NAMESPACE neurocell:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/neurocell)

configure_package_config_file(cmake/neurocellConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/neurocellConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/neurocell)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/neurocellConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/neurocellConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/neurocellConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/neurocell)
