#include "dynamics/mass_spring_step.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "dynamics/mass_spring_kernels.hpp"

namespace maya::dynamics::detail {
namespace {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

// The kernels per dimension, way of summing and range, each compiled for several instruction
// sets (run_kernel<ByShape<Kernel>> runs the copy core::simd::kernel_copy() names). `scatter`:
// one thread adds each spring's values to its ends (spring_pulls's Scatter); otherwise springs
// store them and each particle sums its own.
template <template <std::size_t, bool> class Kernel, class... Args>
MAYA_INLINE void dispatch(std::size_t dim, bool scatter, Args&&... args) {
  switch (dim * 2 + (scatter ? 1 : 0)) {
    case 2: Kernel<1, false>::run(args...); break;
    case 3: Kernel<1, true>::run(args...); break;
    case 4: Kernel<2, false>::run(args...); break;
    case 5: Kernel<2, true>::run(args...); break;
    case 6: Kernel<3, false>::run(args...); break;
    default: Kernel<3, true>::run(args...); break;
  }
}

template <template <std::size_t, bool> class Kernel>
struct ByShape {
  template <class... Args>
  MAYA_INLINE static void run(std::size_t dim, bool scatter, Args&&... args) {
    dispatch<Kernel>(dim, scatter, args...);
  }
};

template <std::size_t D, bool Scatter>
struct Pulls {
  MAYA_INLINE static void run(const SpringSystem& system, const SpringInputs& in, double* target,
                              std::size_t begin, std::size_t end) {
    spring_pulls<D, Scatter>(system, in, target, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct StepParticles {
  MAYA_INLINE static void run(const SpringSystem& system, const SpringInputs& in, double dt,
                              const double* pulls, double* out, std::size_t begin,
                              std::size_t end) {
    spring_step_particles<D, Scatter>(system, in, dt, pulls, out, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointFirst {
  MAYA_INLINE static void run(const SpringSystem& system, const SpringInputs& in, double dt,
                              const double* g_out, const SpringGradients& grads,
                              const AdjointScratch& scratch, std::size_t begin, std::size_t end) {
    adjoint_particles_first<D, Scatter>(system, in, dt, g_out, grads, scratch, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointSprings {
  MAYA_INLINE static void run(const SpringSystem& system, const SpringInputs& in,
                              const SpringGradients& grads, const AdjointScratch& scratch,
                              std::size_t begin, std::size_t end) {
    adjoint_springs<D, Scatter>(system, in, grads, scratch, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointLast {
  MAYA_INLINE static void run(const SpringSystem& system, const SpringInputs& in,
                              const SpringGradients& grads, const AdjointScratch& scratch,
                              std::size_t begin, std::size_t end) {
    adjoint_particles_last<D, Scatter>(system, in, grads, scratch, begin, end);
  }
};

void pulls_of(std::size_t dim, bool scatter, const SpringSystem& system, const SpringInputs& in,
              double* target, std::size_t begin, std::size_t end) {
  run_kernel<ByShape<Pulls>>(dim, scatter, system, in, target, begin, end);
}

void step_particles(std::size_t dim, bool scatter, const SpringSystem& system,
                    const SpringInputs& in, double dt, const double* pulls, double* out,
                    std::size_t begin, std::size_t end) {
  run_kernel<ByShape<StepParticles>>(dim, scatter, system, in, dt, pulls, out, begin, end);
}

void adjoint_first(std::size_t dim, bool scatter, const SpringSystem& system,
                   const SpringInputs& in, double dt, const double* g_out,
                   const SpringGradients& grads, const AdjointScratch& scratch, std::size_t begin,
                   std::size_t end) {
  run_kernel<ByShape<AdjointFirst>>(dim, scatter, system, in, dt, g_out, grads, scratch, begin,
                                    end);
}

void adjoint_of_springs(std::size_t dim, bool scatter, const SpringSystem& system,
                        const SpringInputs& in, const SpringGradients& grads,
                        const AdjointScratch& scratch, std::size_t begin, std::size_t end) {
  run_kernel<ByShape<AdjointSprings>>(dim, scatter, system, in, grads, scratch, begin, end);
}

void adjoint_last(std::size_t dim, bool scatter, const SpringSystem& system, const SpringInputs& in,
                  const SpringGradients& grads, const AdjointScratch& scratch, std::size_t begin,
                  std::size_t end) {
  run_kernel<ByShape<AdjointLast>>(dim, scatter, system, in, grads, scratch, begin, end);
}

// A thread takes at least this many springs or particles of a step (some microseconds of work):
// smaller systems step on one thread. Ranges start at multiples of 4, as the vector loops need.
constexpr std::size_t kSpringGrain = 2048;
constexpr std::size_t kParticleGrain = 1024;
constexpr std::size_t kAlign = 4;

// Whether a step splits across threads; if not, it scatters (fewer instructions on one thread).
// Both sum each particle's springs in spring order, so the results agree bit for bit.
bool splits(const SpringSystem& system) {
  return core::detail::pool_threads() > 1 &&
         (system.num_springs >= 2 * kSpringGrain || system.num_particles >= 2 * kParticleGrain);
}

}  // namespace

void mass_spring_forward(std::size_t dim, const SpringSystem& system, const SpringInputs& in,
                         double dt, double* out, Workspace& work) {
  const std::size_t n = system.num_particles;
  if (!splits(system)) {
    double* force = out + n * dim;
    std::fill(force, force + n * dim, 0.0);
    pulls_of(dim, true, system, in, force, 0, system.num_springs);
    step_particles(dim, true, system, in, dt, nullptr, out, 0, n);
    return;
  }
  auto pulls_memory = work.borrow_unset<double>(2 * system.num_springs * dim);
  double* pulls = pulls_memory->data();  // each pull and its negation
  core::detail::parallel_for(
      system.num_springs, kSpringGrain, kAlign,
      [&](std::size_t b, std::size_t e) { pulls_of(dim, false, system, in, pulls, b, e); });
  core::detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t e) {
    step_particles(dim, false, system, in, dt, pulls, out, b, e);
  });
}

void mass_spring_backward(std::size_t dim, const SpringSystem& system, const SpringInputs& in,
                          double dt, const double* g_out, const SpringGradients& grads,
                          Workspace& work) {
  const std::size_t n = system.num_particles;
  const std::size_t e = system.num_springs;
  const std::size_t nd = n * dim;
  const bool split = splits(system);
  // Split, the springs store their pulls (for the mass gradient), then their adjoints, each with
  // its negation: 4 E D doubles. On one thread they scatter and store nothing.
  auto scratch_memory = work.borrow_unset<double>(2 * nd + (split ? 4 * e * dim : 0));
  double* memory = scratch_memory->data();
  const AdjointScratch scratch{memory, grads.mass != nullptr ? memory + nd : nullptr,
                               memory + 2 * nd};
  if (!split) {
    if (scratch.force) {
      std::fill(scratch.force, scratch.force + n * dim, 0.0);
      pulls_of(dim, true, system, in, scratch.force, 0, e);
    }
    adjoint_first(dim, true, system, in, dt, g_out, grads, scratch, 0, n);
    adjoint_of_springs(dim, true, system, in, grads, scratch, 0, e);
    adjoint_last(dim, true, system, in, grads, scratch, 0, n);
    return;
  }
  if (scratch.force) {
    core::detail::parallel_for(e, kSpringGrain, kAlign, [&](std::size_t b, std::size_t end) {
      pulls_of(dim, false, system, in, scratch.per_spring, b, end);
    });
  }
  core::detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_first(dim, false, system, in, dt, g_out, grads, scratch, b, end);
  });
  core::detail::parallel_for(e, kSpringGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_of_springs(dim, false, system, in, grads, scratch, b, end);
  });
  core::detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_last(dim, false, system, in, grads, scratch, b, end);
  });
}

}  // namespace maya::dynamics::detail
