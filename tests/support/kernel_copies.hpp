// A test fixture run once per compiled copy of maya's hot loops (baseline x86-64, x86-64-v3,
// x86-64-v4: core/simd.hpp): each test forces its copy, and skips, saying why, on a CPU that
// cannot run it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "../../src/core/simd.hpp"

namespace kernel_copies {

using maya::core::simd::KernelCopy;

class EveryKernelCopy : public testing::TestWithParam<KernelCopy> {
 protected:
  void SetUp() override {
    const KernelCopy supported = maya::core::simd::supported_kernel_copy();
    if (static_cast<int>(GetParam()) > static_cast<int>(supported)) {
      GTEST_SKIP() << "this CPU (or this build) runs at most the "
                   << maya::core::simd::kernel_copy_name(supported) << " copy of the kernels, not "
                   << maya::core::simd::kernel_copy_name(GetParam());
    }
    maya::core::simd::use_kernel_copy(GetParam());
  }
  void TearDown() override {
    maya::core::simd::use_kernel_copy(maya::core::simd::supported_kernel_copy());
  }
};

inline std::string copy_name(const testing::TestParamInfo<KernelCopy>& info) {
  switch (info.param) {
    case KernelCopy::kV4: return "X86_64_v4";
    case KernelCopy::kV3: return "X86_64_v3";
    case KernelCopy::kBaseline: break;
  }
  return "Baseline";
}

// Runs `compute` (which returns a vector of doubles) with each copy the CPU has; the results by
// copy, in the order baseline, v3, v4 (absent copies are left out). Restores the widest copy.
template <class Compute>
auto results_by_copy(Compute compute) {
  std::vector<std::pair<KernelCopy, decltype(compute())>> results;
  for (const KernelCopy copy : {KernelCopy::kBaseline, KernelCopy::kV3, KernelCopy::kV4}) {
    if (static_cast<int>(copy) > static_cast<int>(maya::core::simd::supported_kernel_copy())) {
      break;
    }
    maya::core::simd::use_kernel_copy(copy);
    results.emplace_back(copy, compute());
  }
  maya::core::simd::use_kernel_copy(maya::core::simd::supported_kernel_copy());
  return results;
}

}  // namespace kernel_copies

#define MAYA_INSTANTIATE_FOR_EVERY_KERNEL_COPY(suite)                                       \
  INSTANTIATE_TEST_SUITE_P(                                                                 \
      KernelCopies, suite,                                                                  \
      testing::Values(kernel_copies::KernelCopy::kBaseline, kernel_copies::KernelCopy::kV3, \
                      kernel_copies::KernelCopy::kV4),                                      \
      kernel_copies::copy_name)
