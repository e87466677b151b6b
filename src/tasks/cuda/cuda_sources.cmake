# The walking robots' rollout kernels (walker_rollout.cu), compiled into maya_tasks when CUDA is
# enabled (MayaCuda.cmake). An object library of their own, as the physics kernels': the C++
# warning flags stay off nvcc, and the kernels share tasks/walker_kernel.hpp with the CPU.
if(MAYA_HAVE_CUDA)
  add_library(maya_walker_cuda OBJECT ${CMAKE_CURRENT_LIST_DIR}/walker_rollout.cu)
  target_include_directories(maya_walker_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src
                                                      ${PROJECT_SOURCE_DIR}/include)
  # (CMake 3.25 does not know nvcc 13's language levels, so the flag is given directly.)
  target_compile_options(maya_walker_cuda PRIVATE --std=c++20 -Xptxas=-v)
  set_target_properties(maya_walker_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(maya_tasks PRIVATE $<TARGET_OBJECTS:maya_walker_cuda>)
  target_compile_definitions(maya_tasks PRIVATE MAYA_HAVE_CUDA=1)
  target_link_libraries(maya_tasks PRIVATE CUDA::cudart_static)
endif()
