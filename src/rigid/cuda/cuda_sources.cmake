# The rigid rollout kernels, compiled into maya when CUDA is enabled (MayaCuda.cmake). An object
# library of their own, as the mass-spring kernels': the C++ warning flags of maya's sources stay
# off nvcc, and the kernels share contact_kernel.hpp (C++20) with the CPU step.
if(MAYA_HAVE_CUDA)
  add_library(maya_rigid_cuda OBJECT ${CMAKE_CURRENT_LIST_DIR}/rigid_rollout.cu)
  target_include_directories(maya_rigid_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src
                                                     ${PROJECT_SOURCE_DIR}/include)
  # (CMake 3.25 does not know nvcc 13's language levels, so the flag is given directly.)
  target_compile_options(maya_rigid_cuda PRIVATE --std=c++20 -Xptxas=-v)
  set_target_properties(maya_rigid_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(maya PRIVATE $<TARGET_OBJECTS:maya_rigid_cuda>)
endif()
