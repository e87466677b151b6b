// Kernel launches of the CUDA backend. Each kernel is launched with programmatic dependent launch
// (Hopper and later): it may be scheduled while the kernel before it still runs, waits at its
// first line (MAYA_KERNEL_BEGIN) until that kernel has finished and its writes are visible, and
// then lets the next kernel be scheduled. A chain of small kernels, eager or in a CUDA graph, so
// hides most of each launch's latency. MAYA_CUDA_PDL=0 in the environment turns it off.
#pragma once

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "maya/core/error.hpp"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail::kernels {

// Every kernel's first statement.
#define MAYA_KERNEL_BEGIN()        \
  cudaGridDependencySynchronize(); \
  cudaTriggerProgrammaticLaunchCompletion()

inline bool programmatic_launch() {
  static const bool enabled = [] {
    const char* setting = std::getenv("MAYA_CUDA_PDL");
    return setting == nullptr || std::strcmp(setting, "0") != 0;
  }();
  return enabled;
}

template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), unsigned blocks, unsigned threads,
            Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks);
  config.blockDim = dim3(threads);
  config.dynamicSmemBytes = 0;
  config.stream = static_cast<cudaStream_t>(stream());
  cudaLaunchAttribute attribute[1] = {};
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = programmatic_launch() ? 1 : 0;
  const cudaError_t error = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (error != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError(std::string("CUDA kernel ") + name + ": " + cudaGetErrorString(error));
  }
}

}  // namespace maya::tensor::detail::kernels
