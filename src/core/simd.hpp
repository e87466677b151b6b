// Hand-vectorized kernels: vectors of four and of eight doubles, and the attributes that compile
// a kernel for several instruction sets. Private to maya's sources.
#pragma once

#include <atomic>
#include <cstddef>

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
// GCC only: clang (14) rejects target_clones on function templates, which the kernels are.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(MAYA_THREAD_SANITIZER)
#define MAYA_KERNEL_CLONES \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MAYA_KERNEL_CLONES
#endif
#define MAYA_INLINE [[gnu::always_inline]] inline

// Kernels written for eight-double vectors (V8) are compiled once, for x86-64-v4, and called only
// where the CPU has AVX-512 (wide_vectors()); their four-double twins cover the rest, compiled
// for baseline x86-64 and v3 (MAYA_NARROW_CLONES).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAYA_HAS_WIDE_KERNELS 1
#define MAYA_WIDE_KERNEL __attribute__((target("arch=x86-64-v4")))
#if defined(MAYA_THREAD_SANITIZER)
#define MAYA_NARROW_CLONES
#else
#define MAYA_NARROW_CLONES __attribute__((target_clones("default", "arch=x86-64-v3")))
#endif
#else
#define MAYA_HAS_WIDE_KERNELS 0
#define MAYA_NARROW_CLONES
#endif

// Values of V4 never cross a call (the helpers are always inlined), so GCC's note that their
// calling convention depends on AVX does not apply; it is silenced for the including file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace maya::core::simd {

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

// Eight doubles: one AVX-512 register, in kernels compiled with MAYA_WIDE_KERNEL only.
using V8 = double __attribute__((vector_size(64)));
using V8Unaligned = double __attribute__((vector_size(64), aligned(8), may_alias));

template <class V>
inline constexpr std::size_t kLanes = sizeof(V) / sizeof(double);

// The vector registers a kernel of V's width may hold: 16 below AVX-512, 32 with it.
template <class V>
inline constexpr std::size_t kRegisters = kLanes<V> == 8 ? 32 : 16;

// load4, store4 and splat4 for either width.
template <class V>
MAYA_INLINE V load(const double* p) noexcept {
  if constexpr (kLanes<V> == 8) {
    return *reinterpret_cast<const V8Unaligned*>(p);
  } else {
    return load4(p);
  }
}
MAYA_INLINE void store(double* p, const V4& v) noexcept { store4(p, v); }
MAYA_INLINE void store(double* p, const V8& v) noexcept { *reinterpret_cast<V8Unaligned*>(p) = v; }
template <class V>
MAYA_INLINE V splat(double x) noexcept {
  if constexpr (kLanes<V> == 8) {
    const V8 all = {x, x, x, x, x, x, x, x};
    return __builtin_shufflevector(all, all, 0, 0, 0, 0, 0, 0, 0, 0);
  } else {
    return splat4(x);
  }
}

// The four-lane partial sums of a vector: its two halves added, for V8.
MAYA_INLINE V4 fold4(const V4& v) noexcept { return v; }
MAYA_INLINE V4 fold4(const V8& v) noexcept {
  return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
}

// Tests switch the wide copies off to check the four-double ones on the same CPU.
inline std::atomic<bool>& wide_vectors_allowed() noexcept {
  static std::atomic<bool> allowed{true};
  return allowed;
}

// Whether this CPU runs the MAYA_WIDE_KERNEL copies (the features of x86-64-v4), asked once.
inline bool wide_vectors() noexcept {
#if MAYA_HAS_WIDE_KERNELS
  static const bool supported =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma");
  return supported && wide_vectors_allowed().load(std::memory_order_relaxed);
#else
  return false;
#endif
}

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

}  // namespace maya::core::simd
