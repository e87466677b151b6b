# install() rules and an exported package config: downstream projects use
#   find_package(maya REQUIRED)  and  target_link_libraries(app PRIVATE maya::maya)
# (maya::tasks and maya::viz, the layers above the engine, are in the same package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS maya maya_tasks maya_viz EXPORT mayaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/maya DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mayaTargets NAMESPACE maya:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/maya)

configure_package_config_file(cmake/mayaConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mayaConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/maya)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mayaConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mayaConfig.cmake ${PROJECT_BINARY_DIR}/mayaConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/maya)
