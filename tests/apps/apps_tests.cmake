# Included from apps/maya/CMakeLists.txt: the program's tests (tests/apps/*.cpp, built by
# tests/CMakeLists.txt as maya_apps_tests) run the built binary, found through MAYA_CLI_PATH.
if(TARGET maya_apps_tests)
  target_compile_definitions(maya_apps_tests PRIVATE MAYA_CLI_PATH="$<TARGET_FILE:maya_cli>"
                                                     MAYA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(maya_apps_tests maya_cli)
  # The viewer test decodes Chromium's screenshots (libpng-dev, a test-only package).
  find_package(PNG)
  if(PNG_FOUND)
    target_link_libraries(maya_apps_tests PRIVATE PNG::PNG)
    target_compile_definitions(maya_apps_tests PRIVATE MAYA_HAVE_PNG=1)
  endif()
endif()
