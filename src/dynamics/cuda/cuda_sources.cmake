# The mass-spring rollout kernels, compiled into maya when CUDA is enabled (MayaCuda.cmake). An
# object library of their own, so that the C++ warning flags of maya's sources stay off nvcc.
if(MAYA_HAVE_CUDA)
  add_library(maya_spring_cuda OBJECT ${CMAKE_CURRENT_LIST_DIR}/spring_rollout.cu)
  target_include_directories(maya_spring_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src
                                                      ${PROJECT_SOURCE_DIR}/include)
  # (CMake 3.25 does not know nvcc 13's language levels, so the flag is given directly.)
  target_compile_options(maya_spring_cuda PRIVATE --std=c++20)
  # -Xptxas=-v: registers, shared memory and spills of each kernel in the build log.
  target_compile_options(maya_spring_cuda PRIVATE -Xptxas=-v)
  set_target_properties(maya_spring_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(maya PRIVATE $<TARGET_OBJECTS:maya_spring_cuda>)
  target_compile_definitions(maya PRIVATE MAYA_HAVE_CUDA=1)
  target_link_libraries(maya PRIVATE CUDA::cudart_static)
endif()
