# The CUDA backend's build switch. MAYA_CUDA = AUTO (default: on where a CUDA toolkit is found),
# ON (the toolkit is required) or OFF. Sets MAYA_WITH_CUDA, and maya_cuda_sources() /
# maya_link_cuda() for the library. CUDA code compiles for Hopper (sm_90) and embeds compute_90
# PTX, which newer GPUs compile at load time. Only src/**/cuda/*.cu goes through nvcc; the host
# side of the backend is plain C++.
set(MAYA_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE MAYA_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${MAYA_CUDA}" _maya_cuda)
if(NOT _maya_cuda MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "MAYA_CUDA must be AUTO, ON or OFF, got '${MAYA_CUDA}'")
endif()

set(MAYA_WITH_CUDA OFF)
if(NOT _maya_cuda STREQUAL "OFF")
  # The toolkit's usual home when nvcc is not on PATH and CUDACXX is unset.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(MAYA_NVCC nvcc HINTS ENV CUDA_PATH PATH_SUFFIXES bin PATHS /usr/local/cuda/bin)
    if(MAYA_NVCC)
      set(CMAKE_CUDA_COMPILER ${MAYA_NVCC})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(MAYA_WITH_CUDA ON)
  elseif(_maya_cuda STREQUAL "ON")
    message(FATAL_ERROR "MAYA_CUDA=ON but no CUDA compiler was found (set CUDACXX or put nvcc "
                        "on PATH), or configure with MAYA_CUDA=AUTO/OFF")
  endif()
endif()
message(STATUS "maya: CUDA backend ${MAYA_WITH_CUDA} (MAYA_CUDA=${MAYA_CUDA})")
# The name the GPU physics kernels (src/dynamics/cuda/cuda_sources.cmake) test.
set(MAYA_HAVE_CUDA ${MAYA_WITH_CUDA})

# Sources of the backend: with CUDA, every src/**/cuda/*.cu and *.cpp (but those of a cuda/
# folder that builds itself with a cuda_sources.cmake); without it, only the src/**/no_cuda/*.cpp
# stand-ins, which throw DeviceError at the first use of Device::kCuda.
function(maya_cuda_sources source_dir out_var)
  if(MAYA_WITH_CUDA)
    file(GLOB_RECURSE found CONFIGURE_DEPENDS ${source_dir}/*/cuda/*.cu ${source_dir}/*/cuda/*.cpp)
    set(sources "")
    foreach(file ${found})
      get_filename_component(folder ${file} DIRECTORY)
      if(NOT EXISTS ${folder}/cuda_sources.cmake)
        list(APPEND sources ${file})
      endif()
    endforeach()
  else()
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${source_dir}/*/no_cuda/*.cpp)
  endif()
  set(${out_var} ${sources} PARENT_SCOPE)
endfunction()

function(maya_link_cuda target)
  if(NOT MAYA_WITH_CUDA)
    return()
  endif()
  # The static runtime, as the GPU physics kernels link it: one runtime in the library. NVRTC
  # compiles each fused elementwise program to a kernel of its own at first use.
  target_link_libraries(${target} PRIVATE CUDA::cudart_static CUDA::cublas CUDA::nvrtc)
  # The kernels need C++17 only (CMake 3.25 knows no C++20 flag for nvcc).
  set_target_properties(${target} PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
                                             CUDA_EXTENSIONS OFF)
  # Warnings of the .cu files as errors too; maya_target_options' flags are for the host compiler.
  target_compile_options(${target} PRIVATE
                         $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-Wall>)
  if(MAYA_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
  endif()
endfunction()
