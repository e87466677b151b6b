# Installs the python component of a build into a fresh prefix and imports maya from there
# (not from the build tree; the working directory is the prefix, so no maya/ folder shadows it). -DBUILD_DIR, -DPREFIX, -DPYTHON, -DINSTALL_DIR (relative to PREFIX).
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --component python --prefix ${PREFIX}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install of the python component failed (${status})")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH PYTHONPATH=${PREFIX}/${INSTALL_DIR}
          ${PYTHON} -c "import maya, maya.torch, pathlib, sys; t = maya.Tape(); x = t.var(2.0); \
assert t.grad(x * x)[x] == 4.0; \
assert pathlib.Path(maya.__file__).resolve().is_relative_to(pathlib.Path(sys.argv[1]).resolve()), maya.__file__" ${PREFIX}
  WORKING_DIRECTORY ${PREFIX}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "import maya from ${PREFIX}/${INSTALL_DIR} failed (${status})")
endif()
