// The mass-spring model: validation and the fused step with its hand-derived adjoint.
#include "maya/dynamics/mass_spring.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../core/parallel.hpp"
#include "mass_spring_kernels.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya {
namespace {

// The kernels per dimension, way of summing and range, each compiled for several instruction
// sets. `scatter`: one thread adds each spring's values to its ends (spring_pulls's Scatter);
// otherwise springs store them and each particle sums its own.
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

template <std::size_t D, bool Scatter>
struct Pulls {
  MAYA_INLINE static void run(const detail::SpringSystem& system, const detail::SpringInputs& in,
                              double* target, std::size_t begin, std::size_t end) {
    detail::spring_pulls<D, Scatter>(system, in, target, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct StepParticles {
  MAYA_INLINE static void run(const detail::SpringSystem& system, const detail::SpringInputs& in,
                              double dt, const double* pulls, double* out, std::size_t begin,
                              std::size_t end) {
    detail::spring_step_particles<D, Scatter>(system, in, dt, pulls, out, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointFirst {
  MAYA_INLINE static void run(const detail::SpringSystem& system, const detail::SpringInputs& in,
                              double dt, const double* g_out, const detail::SpringGradients& grads,
                              const detail::AdjointScratch& scratch, std::size_t begin,
                              std::size_t end) {
    detail::adjoint_particles_first<D, Scatter>(system, in, dt, g_out, grads, scratch, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointSprings {
  MAYA_INLINE static void run(const detail::SpringSystem& system, const detail::SpringInputs& in,
                              const detail::SpringGradients& grads,
                              const detail::AdjointScratch& scratch, std::size_t begin,
                              std::size_t end) {
    detail::adjoint_springs<D, Scatter>(system, in, grads, scratch, begin, end);
  }
};
template <std::size_t D, bool Scatter>
struct AdjointLast {
  MAYA_INLINE static void run(const detail::SpringSystem& system, const detail::SpringInputs& in,
                              const detail::SpringGradients& grads,
                              const detail::AdjointScratch& scratch, std::size_t begin,
                              std::size_t end) {
    detail::adjoint_particles_last<D, Scatter>(system, in, grads, scratch, begin, end);
  }
};

MAYA_KERNEL_CLONES void pulls_of(std::size_t dim, bool scatter, const detail::SpringSystem& system,
                                 const detail::SpringInputs& in, double* target, std::size_t begin,
                                 std::size_t end) {
  dispatch<Pulls>(dim, scatter, system, in, target, begin, end);
}

MAYA_KERNEL_CLONES void step_particles(std::size_t dim, bool scatter,
                                       const detail::SpringSystem& system,
                                       const detail::SpringInputs& in, double dt,
                                       const double* pulls, double* out, std::size_t begin,
                                       std::size_t end) {
  dispatch<StepParticles>(dim, scatter, system, in, dt, pulls, out, begin, end);
}

MAYA_KERNEL_CLONES void adjoint_first(std::size_t dim, bool scatter,
                                      const detail::SpringSystem& system,
                                      const detail::SpringInputs& in, double dt,
                                      const double* g_out, const detail::SpringGradients& grads,
                                      const detail::AdjointScratch& scratch, std::size_t begin,
                                      std::size_t end) {
  dispatch<AdjointFirst>(dim, scatter, system, in, dt, g_out, grads, scratch, begin, end);
}

MAYA_KERNEL_CLONES void adjoint_of_springs(std::size_t dim, bool scatter,
                                           const detail::SpringSystem& system,
                                           const detail::SpringInputs& in,
                                           const detail::SpringGradients& grads,
                                           const detail::AdjointScratch& scratch, std::size_t begin,
                                           std::size_t end) {
  dispatch<AdjointSprings>(dim, scatter, system, in, grads, scratch, begin, end);
}

MAYA_KERNEL_CLONES void adjoint_last(std::size_t dim, bool scatter,
                                     const detail::SpringSystem& system,
                                     const detail::SpringInputs& in,
                                     const detail::SpringGradients& grads,
                                     const detail::AdjointScratch& scratch, std::size_t begin,
                                     std::size_t end) {
  dispatch<AdjointLast>(dim, scatter, system, in, grads, scratch, begin, end);
}

// A thread takes at least this many springs or particles of a step (some microseconds of work):
// smaller systems step on one thread. Ranges start at multiples of 4, as the vector loops need.
constexpr std::size_t kSpringGrain = 2048;
constexpr std::size_t kParticleGrain = 1024;
constexpr std::size_t kAlign = 4;

// Whether a step splits across threads; if not, it scatters (fewer instructions on one thread).
// Both sum each particle's springs in spring order, so the results agree bit for bit.
bool splits(const detail::SpringSystem& system) {
  return detail::pool_threads() > 1 &&
         (system.num_springs >= 2 * kSpringGrain || system.num_particles >= 2 * kParticleGrain);
}

// `pulls` holds 2 E D doubles (used only when the step splits).
void step_forward(std::size_t dim, const detail::SpringSystem& system,
                  const detail::SpringInputs& in, double dt, double* out, double* pulls) {
  const std::size_t n = system.num_particles;
  if (!splits(system)) {
    double* force = out + n * dim;
    std::fill(force, force + n * dim, 0.0);
    pulls_of(dim, true, system, in, force, 0, system.num_springs);
    step_particles(dim, true, system, in, dt, nullptr, out, 0, n);
    return;
  }
  detail::parallel_for(system.num_springs, kSpringGrain, kAlign, [&](std::size_t b, std::size_t e) {
    pulls_of(dim, false, system, in, pulls, b, e);
  });
  detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t e) {
    step_particles(dim, false, system, in, dt, pulls, out, b, e);
  });
}

void step_backward(std::size_t dim, const detail::SpringSystem& system,
                   const detail::SpringInputs& in, double dt, const double* g_out,
                   const detail::SpringGradients& grads, const detail::AdjointScratch& scratch) {
  const std::size_t n = system.num_particles;
  const std::size_t e = system.num_springs;
  if (!splits(system)) {
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
    detail::parallel_for(e, kSpringGrain, kAlign, [&](std::size_t b, std::size_t end) {
      pulls_of(dim, false, system, in, scratch.per_spring, b, end);
    });
  }
  detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_first(dim, false, system, in, dt, g_out, grads, scratch, b, end);
  });
  detail::parallel_for(e, kSpringGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_of_springs(dim, false, system, in, grads, scratch, b, end);
  });
  detail::parallel_for(n, kParticleGrain, kAlign, [&](std::size_t b, std::size_t end) {
    adjoint_last(dim, false, system, in, grads, scratch, b, end);
  });
}

// Working memory of the kernels, kept per thread so that steady stepping allocates nothing.
double* kernel_scratch(std::size_t size) {
  thread_local std::vector<double> scratch;
  if (scratch.size() < size) scratch.resize(size);
  return scratch.data();
}

}  // namespace

MassSpringModel::MassSpringModel(std::size_t num_particles, std::size_t dim,
                                 std::vector<std::int64_t> first, std::vector<std::int64_t> second,
                                 std::vector<double> gravity, GroundContact ground)
    : num_particles_(num_particles),
      dim_(dim),
      first_(std::move(first)),
      second_(std::move(second)),
      gravity_(std::move(gravity)),
      ground_(ground) {
  if (dim_ == 0) throw ValueError("MassSpringModel: dimension must be at least 1");
  if (first_.size() != second_.size()) {
    throw ValueError("MassSpringModel: " + std::to_string(first_.size()) + " first ends but " +
                     std::to_string(second_.size()) + " second ends");
  }
  const auto n = static_cast<std::int64_t>(num_particles_);
  for (std::size_t e = 0; e < first_.size(); ++e) {
    if (first_[e] < 0 || first_[e] >= n || second_[e] < 0 || second_[e] >= n) {
      throw ValueError("MassSpringModel: spring " + std::to_string(e) + " joins particles " +
                       std::to_string(first_[e]) + " and " + std::to_string(second_[e]) +
                       ", but particles are numbered 0.." + std::to_string(n - 1));
    }
    if (first_[e] == second_[e]) {
      throw ValueError("MassSpringModel: spring " + std::to_string(e) + " joins particle " +
                       std::to_string(first_[e]) + " to itself");
    }
  }
  if (gravity_.size() != dim_) {
    throw ValueError("MassSpringModel: gravity has " + std::to_string(gravity_.size()) +
                     " components for a " + std::to_string(dim_) + "-dimensional system");
  }
  if (ground_.enabled && ground_.up_axis >= dim_) {
    throw ValueError("MassSpringModel: ground up axis " + std::to_string(ground_.up_axis) +
                     " is not an axis of a " + std::to_string(dim_) + "-dimensional system");
  }
  build_incidence();
}

void MassSpringModel::build_incidence() {
  // Codes 2 e + 1 and offsets up to 2 E fit 32 bits.
  if (first_.size() >= (std::size_t{1} << 31)) {
    throw ValueError("MassSpringModel: " + std::to_string(first_.size()) +
                     " springs; at most 2^31 - 1 are supported");
  }
  incidence_offsets_.assign(num_particles_ + 1, 0);
  for (std::size_t e = 0; e < first_.size(); ++e) {
    ++incidence_offsets_[static_cast<std::size_t>(first_[e]) + 1];
    ++incidence_offsets_[static_cast<std::size_t>(second_[e]) + 1];
  }
  for (std::size_t i = 0; i < num_particles_; ++i) {
    incidence_offsets_[i + 1] += incidence_offsets_[i];
  }
  // Filled in spring order, so each particle's list is in spring order.
  incidence_.resize(2 * first_.size());
  std::vector<std::uint32_t> next(incidence_offsets_.begin(), incidence_offsets_.end() - 1);
  for (std::size_t e = 0; e < first_.size(); ++e) {
    const auto code = static_cast<std::uint32_t>(2 * e);
    incidence_[next[static_cast<std::size_t>(first_[e])]++] = code + 1;
    incidence_[next[static_cast<std::size_t>(second_[e])]++] = code;
  }
}

MassSpringModel::MassSpringModel(const MassSpringModel& other)
    : num_particles_(other.num_particles_),
      dim_(other.dim_),
      first_(other.first_),
      second_(other.second_),
      gravity_(other.gravity_),
      ground_(other.ground_),
      incidence_offsets_(other.incidence_offsets_),
      incidence_(other.incidence_) {}

MassSpringModel& MassSpringModel::operator=(const MassSpringModel& other) {
  num_particles_ = other.num_particles_;
  dim_ = other.dim_;
  first_ = other.first_;
  second_ = other.second_;
  gravity_ = other.gravity_;
  ground_ = other.ground_;
  incidence_offsets_ = other.incidence_offsets_;
  incidence_ = other.incidence_;
  return *this;
}

Tensor MassSpringModel::rest_lengths_of(const Tensor& positions) const {
  if (positions.shape() != Shape{num_particles_, dim_}) {
    throw ShapeError("MassSpringModel::rest_lengths_of: positions of shape " +
                     shape_string(positions.shape()) + ", expected " +
                     shape_string(Shape{num_particles_, dim_}));
  }
  std::vector<double> lengths(first_.size());
  const auto x = positions.data();
  for (std::size_t e = 0; e < first_.size(); ++e) {
    double squared = 0.0;
    for (std::size_t k = 0; k < dim_; ++k) {
      const double d = x[static_cast<std::size_t>(second_[e]) * dim_ + k] -
                       x[static_cast<std::size_t>(first_[e]) * dim_ + k];
      squared += d * d;
    }
    lengths[e] = std::sqrt(squared);
  }
  return Tensor::from_data(std::move(lengths), {first_.size()});
}

Tensor MassSpringModel::make_state(const Tensor& positions, const Tensor& velocities) {
  if (positions.shape() != velocities.shape() || positions.ndim() != 2) {
    throw ShapeError("MassSpringModel::make_state: positions " + shape_string(positions.shape()) +
                     " and velocities " + shape_string(velocities.shape()) +
                     " must both be [N, D]");
  }
  std::vector<double> values(positions.data().begin(), positions.data().end());
  values.insert(values.end(), velocities.data().begin(), velocities.data().end());
  return Tensor::from_data(std::move(values), {2, positions.shape()[0], positions.shape()[1]});
}

void MassSpringModel::check_inputs(TensorVar state, const SpringParameters& params,
                                   double dt) const {
  expect_shape(state.shape(), {2, num_particles_, dim_}, "mass_spring_step", "state");
  expect_shape(params.mass.shape(), {num_particles_}, "mass_spring_step", "mass");
  expect_shape(params.stiffness.shape(), {first_.size()}, "mass_spring_step", "stiffness");
  expect_shape(params.damping.shape(), {first_.size()}, "mass_spring_step", "damping");
  expect_shape(params.rest_length.shape(), {first_.size()}, "mass_spring_step", "rest_length");
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValueError("mass_spring_step: dt must be positive and finite, got " + std::to_string(dt));
  }
  for (const double m : params.mass.view().data()) {
    if (!(m > 0.0)) {
      throw ValueError("mass_spring_step: every mass must be positive, got " + std::to_string(m));
    }
  }
}

detail::SpringSystem MassSpringModel::system() const noexcept {
  return {num_particles_,
          first_.size(),
          first_.data(),
          second_.data(),
          gravity_.data(),
          ground_,
          incidence_offsets_.data(),
          incidence_.data()};
}

TensorVar MassSpringModel::step(TensorVar state, const SpringParameters& params, double dt) const {
  if (dim_ > 3) throw ValueError("mass_spring_step: the fused step supports 1 to 3 dimensions");
  check_inputs(state, params, dt);
  TensorTape& tape = state.tape();
  const detail::SpringInputs in{
      tape.view(state).values, tape.view(params.mass).values, tape.view(params.stiffness).values,
      tape.view(params.damping).values, tape.view(params.rest_length).values};
  const detail::SpringSystem system = this->system();
  const double saved[] = {dt};
  return tape.record(
      step_op_, {state, params.mass, params.stiffness, params.damping, params.rest_length},
      Shape{2, num_particles_, dim_},
      [&](MutableTensorView out) {
        double* pulls = kernel_scratch(2 * first_.size() * dim_);
        step_forward(dim_, system, in, dt, out.values, pulls);
      },
      SavedData{saved, {}});
}

void MassSpringModel::StepOp::backward(BackwardContext& context) const {
  const MassSpringModel& model = *model_;
  const detail::SpringInputs in{context.input(0).values, context.input(1).values,
                                context.input(2).values, context.input(3).values,
                                context.input(4).values};
  const auto slot_of = [&](std::size_t input) {
    if (!context.needs_grad(input)) return detail::GradientSlot{};
    const BackwardContext::GradientTarget target = context.grad_input_target(input);
    return detail::GradientSlot{target.view.values, target.fresh};
  };
  const detail::SpringGradients grads{
      slot_of(0), context.needs_grad(1) ? context.grad_input(1).values : nullptr, slot_of(2),
      slot_of(3), slot_of(4)};
  const double dt = context.saved()[0];
  const double* g_out = context.grad_output().values;
  const std::size_t nd = model.num_particles_ * model.dim_;
  double* memory = kernel_scratch(2 * nd + 4 * model.num_springs() * model.dim_);
  const detail::AdjointScratch scratch{memory, grads.mass ? memory + nd : nullptr, memory + 2 * nd};
  const detail::SpringSystem system = model.system();
  step_backward(model.dim_, system, in, dt, g_out, grads, scratch);
}

}  // namespace maya
