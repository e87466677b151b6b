// Hand-vectorized kernels: vectors of four and of eight doubles, and the attributes that compile
// a kernel for several instruction sets. Private to maya's sources.
#pragma once

#include <atomic>
#include <cstddef>

// Hot loops are compiled three times (baseline x86-64, v3 with AVX2 and FMA, v4 with AVX-512)
// and maya picks the copy the CPU runs at the first kernel call (kernel_copy() below), so a
// portable build still uses the wide units and tests can run every copy the CPU has. A kernel is
// a struct whose MAYA_INLINE static run() holds the loop; run_kernel<Kernel>(args...) calls the
// copy. Helpers it calls must be inlined too (MAYA_INLINE) to be compiled for the same units.
// GCC only: clang (14) makes one copy, as does any other compiler or processor.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MAYA_KERNEL_COPIES 1
#define MAYA_TARGET_V3 __attribute__((target("arch=x86-64-v3")))
#define MAYA_TARGET_V4 __attribute__((target("arch=x86-64-v4")))
#else
#define MAYA_KERNEL_COPIES 0
#define MAYA_TARGET_V3
#define MAYA_TARGET_V4
#endif
#define MAYA_INLINE [[gnu::always_inline]] inline

// Kernels written for eight-double vectors (V8) are compiled once, for x86-64-v4, and called only
// where kernel_copy() is kV4 (wide_vectors()); their four-double twins cover the other copies.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAYA_HAS_WIDE_KERNELS 1
#define MAYA_WIDE_KERNEL __attribute__((target("arch=x86-64-v4")))
#else
#define MAYA_HAS_WIDE_KERNELS 0
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

// The copies of a kernel, narrowest first.
enum class KernelCopy : int { kBaseline = 0, kV3 = 1, kV4 = 2 };

namespace detail {
// The copy kernels run, -1 until the first kernel call chooses it (choose_kernel_copy).
extern std::atomic<int> active_kernel_copy;
// The widest copy this CPU runs, lowered to the one named by the environment variable
// MAYA_KERNEL_COPY (baseline, x86-64-v3, x86-64-v4) when that is narrower; stored and returned.
int choose_kernel_copy() noexcept;
}  // namespace detail

// The widest copy this CPU and this build run: kV4 with AVX-512 (F, VL, DQ, BW, CD), kV3 with
// AVX2, FMA, BMI1/2, F16C, LZCNT and MOVBE, else kBaseline; kBaseline where the build makes one copy.
[[nodiscard]] KernelCopy supported_kernel_copy() noexcept;

// The copy every kernel call runs now.
MAYA_INLINE KernelCopy kernel_copy() noexcept {
  int copy = detail::active_kernel_copy.load(std::memory_order_relaxed);
  if (copy < 0) [[unlikely]]
    copy = detail::choose_kernel_copy();
  return static_cast<KernelCopy>(copy);
}

// Makes every later kernel call run `copy` (tests compare the copies on one CPU). Throws
// maya::ValueError for a copy wider than supported_kernel_copy().
void use_kernel_copy(KernelCopy copy);

// "baseline", "x86-64-v3", "x86-64-v4".
[[nodiscard]] const char* kernel_copy_name(KernelCopy copy) noexcept;

// Whether the kernels run their MAYA_WIDE_KERNEL (eight-double) versions.
MAYA_INLINE bool wide_vectors() noexcept {
  return MAYA_HAS_WIDE_KERNELS && kernel_copy() == KernelCopy::kV4;
}

// The three compiled copies of Kernel::run and the call that picks one.
template <class Kernel, class... Args>
MAYA_TARGET_V4 void run_copy_v4(Args&&... args) {
  Kernel::run(static_cast<Args&&>(args)...);
}
template <class Kernel, class... Args>
MAYA_TARGET_V3 void run_copy_v3(Args&&... args) {
  Kernel::run(static_cast<Args&&>(args)...);
}
template <class Kernel, class... Args>
void run_copy_baseline(Args&&... args) {
  Kernel::run(static_cast<Args&&>(args)...);
}
template <class Kernel, class... Args>
MAYA_INLINE void run_kernel(Args&&... args) {
#if MAYA_KERNEL_COPIES
  switch (kernel_copy()) {
    case KernelCopy::kV4: return run_copy_v4<Kernel>(static_cast<Args&&>(args)...);
    case KernelCopy::kV3: return run_copy_v3<Kernel>(static_cast<Args&&>(args)...);
    case KernelCopy::kBaseline: break;
  }
#endif
  run_copy_baseline<Kernel>(static_cast<Args&&>(args)...);
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
