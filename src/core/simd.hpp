// Hand-vectorized kernels: a vector of four doubles, and the attribute that compiles a kernel
// for several instruction sets. Private to maya's sources.
#pragma once

#include <cstring>

// Hot loops are compiled three times (baseline x86-64, v3 with AVX2 and FMA, v4 with AVX-512)
// and the loader picks the copy the CPU runs, so a portable build still uses the wide units.
// Helpers they call must be inlined into them (MAYA_INLINE) to be compiled for the same units.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAYA_KERNEL_CLONES \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MAYA_KERNEL_CLONES
#endif
#define MAYA_INLINE [[gnu::always_inline]] inline

// Values of V4 never cross a call (the helpers are always inlined), so GCC's note that their
// calling convention depends on AVX does not apply; it is silenced for the including file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace maya::detail {

// Four doubles as one value (GCC/Clang vector extension): one AVX register in the copies of a
// kernel compiled for x86-64-v3 or v4, two SSE2 registers in the baseline copy.
using V4 = double __attribute__((vector_size(32)));

// Two doubles (one SSE register): a 2-D point.
using V2 = double __attribute__((vector_size(16)));

MAYA_INLINE V2 load2(const double* p) noexcept {
  V2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
MAYA_INLINE void store2(double* p, const V2& v) noexcept { std::memcpy(p, &v, sizeof v); }

MAYA_INLINE V4 load4(const double* p) noexcept {
  V4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
MAYA_INLINE void store4(double* p, const V4& v) noexcept { std::memcpy(p, &v, sizeof v); }
MAYA_INLINE V4 splat4(double x) noexcept { return V4{x, x, x, x}; }
MAYA_INLINE double lane_sum(const V4& v) noexcept { return (v[0] + v[1]) + (v[2] + v[3]); }

}  // namespace maya::detail
