// The mass-spring model: validation, each particle's spring list, and recording the fused step
// (run by mass_spring_step.cpp) with its hand-derived adjoint.
#include "maya/dynamics/mass_spring.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "dynamics/mass_spring_kernels.hpp"
#include "dynamics/mass_spring_step.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::dynamics {

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
  (void)check_positive(dt, "mass_spring_step: dt");
  for (const double m : params.mass.view().data()) {
    if (!(m > 0.0 && m <= std::numeric_limits<double>::max())) {
      (void)check_positive(m, "mass_spring_step: every mass");
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
      [&](MutableTensorView out) { detail::mass_spring_forward(dim_, system, in, dt, out.values); },
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
  const detail::SpringSystem system = model.system();
  detail::mass_spring_backward(model.dim_, system, in, dt, g_out, grads);
}

}  // namespace maya::dynamics
