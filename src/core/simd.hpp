// Hand-vectorized kernels: a vector of four doubles, and the attribute that compiles a kernel
// for several instruction sets. Private to maya's sources.
#pragma once

// Hot loops are compiled three times (baseline x86-64, v3 with AVX2 and FMA, v4 with AVX-512)
// and the loader picks the copy the CPU runs, so a portable build still uses the wide units.
// Helpers they call must be inlined into them (MAYA_INLINE) to be compiled for the same units.
// ThreadSanitizer builds compile one copy: the loader runs the copies' resolver before the
// sanitizer's runtime is up, and the instrumented resolver crashes.
#if defined(__SANITIZE_THREAD__)
#define MAYA_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MAYA_THREAD_SANITIZER 1
#endif
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(MAYA_THREAD_SANITIZER)
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

// The same vectors with the alignment of a double and allowed to alias doubles, as the
// compilers' own unaligned intrinsic types are: a read or write through them is one unaligned
// vector move. (GCC's generic tuning splits a memcpy of a V4 into 16-byte pieces, through the
// stack when the value lives in a register.)
using V4Unaligned = double __attribute__((vector_size(32), aligned(8), may_alias));
using V2Unaligned = double __attribute__((vector_size(16), aligned(8), may_alias));

MAYA_INLINE V2 load2(const double* p) noexcept { return *reinterpret_cast<const V2Unaligned*>(p); }
MAYA_INLINE void store2(double* p, const V2& v) noexcept { *reinterpret_cast<V2Unaligned*>(p) = v; }
MAYA_INLINE V4 load4(const double* p) noexcept { return *reinterpret_cast<const V4Unaligned*>(p); }
MAYA_INLINE void store4(double* p, const V4& v) noexcept { *reinterpret_cast<V4Unaligned*>(p) = v; }
// Written as a shuffle, this is one broadcast instruction (vbroadcastsd, from memory where x
// comes from memory) in the cloned kernels; GCC builds the four-element initializer {x, x, x, x}
// from two shuffles, and 0 + x costs an add it may not drop (0 + -0 is +0).
MAYA_INLINE V4 splat4(double x) noexcept {
  const V4 all = {x, x, x, x};
  return __builtin_shufflevector(all, all, 0, 0, 0, 0);
}
MAYA_INLINE double lane_sum(const V4& v) noexcept { return (v[0] + v[1]) + (v[2] + v[3]); }

// {lane_sum(a), lane_sum(b), lane_sum(c), lane_sum(d)} in six shuffles and three adds, where four
// separate lane sums would each move every lane out of the register.
MAYA_INLINE V4 lane_sums(const V4& a, const V4& b, const V4& c, const V4& d) noexcept {
  // {a0 + a1, b0 + b1, a2 + a3, b2 + b3} and the same for c, d.
  const V4 ab =
      __builtin_shufflevector(a, b, 0, 4, 2, 6) + __builtin_shufflevector(a, b, 1, 5, 3, 7);
  const V4 cd =
      __builtin_shufflevector(c, d, 0, 4, 2, 6) + __builtin_shufflevector(c, d, 1, 5, 3, 7);
  return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}

}  // namespace maya::detail
