# The soft-body rollout kernels, compiled into maya when CUDA is enabled (MayaCuda.cmake). An
# object library of their own, as the mass-spring and rigid kernels': the C++ warning flags of
# maya's sources stay off nvcc, and the kernels share the element kernels (C++20, fixed-size
# Eigen, which nvcc compiles for the device) with the CPU step.
if(MAYA_HAVE_CUDA)
  add_library(maya_fem_cuda OBJECT ${CMAKE_CURRENT_LIST_DIR}/soft_rollout.cu)
  target_include_directories(maya_fem_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src
                                                   ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(maya_fem_cuda PRIVATE Eigen3::Eigen)
  # (CMake 3.25 does not know nvcc 13's language levels, so the flag is given directly.)
  # --expt-relaxed-constexpr: Eigen's constexpr helpers on the device; 20012: Eigen's defaulted
  # members carry __host__ __device__, which nvcc notes it ignores.
  target_compile_options(maya_fem_cuda PRIVATE --std=c++20 --expt-relaxed-constexpr
                                               -diag-suppress=20012 -Xptxas=-v)
  set_target_properties(maya_fem_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(maya PRIVATE $<TARGET_OBJECTS:maya_fem_cuda>)
endif()
