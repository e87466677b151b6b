// MAYA_FEM_HD marks the element kernels' functions that nvcc also compiles for the device
// (src/fem/cuda/), so that the GPU rollout runs the CPU step's formulas; plain C++ elsewhere.
#pragma once

#if defined(__CUDACC__)
#define MAYA_FEM_HD __host__ __device__
#else
#define MAYA_FEM_HD
#endif
