// Which compiled copy of the hot loops runs (core/simd.hpp): the widest the CPU has, unless the
// environment or a test asks for a narrower one.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/simd.hpp"
#include "maya/core/error.hpp"

namespace maya::core::simd {

namespace detail {

std::atomic<int> active_kernel_copy{-1};

int choose_kernel_copy() noexcept {
  int copy = static_cast<int>(supported_kernel_copy());
  if (const char* asked = std::getenv("MAYA_KERNEL_COPY"); asked != nullptr && *asked != '\0') {
    int named = -1;
    for (const KernelCopy c : {KernelCopy::kBaseline, KernelCopy::kV3, KernelCopy::kV4}) {
      if (std::strcmp(asked, kernel_copy_name(c)) == 0) named = static_cast<int>(c);
    }
    if (named < 0) {
      std::fprintf(stderr,
                   "maya: MAYA_KERNEL_COPY=%s is not baseline, x86-64-v3 or x86-64-v4; "
                   "running %s\n",
                   asked, kernel_copy_name(static_cast<KernelCopy>(copy)));
    } else if (named < copy) {
      copy = named;
    }
  }
  int unset = -1;
  // A thread that lost the race keeps the winner's choice (the same one).
  if (!active_kernel_copy.compare_exchange_strong(unset, copy, std::memory_order_relaxed)) {
    return unset;
  }
  return copy;
}

}  // namespace detail

KernelCopy supported_kernel_copy() noexcept {
#if MAYA_KERNEL_COPIES
  static const KernelCopy supported = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return KernelCopy::kV4;
    if (__builtin_cpu_supports("x86-64-v3")) return KernelCopy::kV3;
    return KernelCopy::kBaseline;
  }();
  return supported;
#else
  return KernelCopy::kBaseline;
#endif
}

void use_kernel_copy(KernelCopy copy) {
  if (static_cast<int>(copy) > static_cast<int>(supported_kernel_copy())) {
    throw ValueError(std::string("use_kernel_copy: this CPU (or build) runs at most the ") +
                     kernel_copy_name(supported_kernel_copy()) + " copy, asked for " +
                     kernel_copy_name(copy));
  }
  detail::active_kernel_copy.store(static_cast<int>(copy), std::memory_order_relaxed);
}

const char* kernel_copy_name(KernelCopy copy) noexcept {
  switch (copy) {
    case KernelCopy::kV4: return "x86-64-v4";
    case KernelCopy::kV3: return "x86-64-v3";
    case KernelCopy::kBaseline: break;
  }
  return "baseline";
}

}  // namespace maya::core::simd
