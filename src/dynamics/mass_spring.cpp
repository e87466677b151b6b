// The mass-spring model: validation, each particle's spring list, and recording the fused step
// (run by mass_spring_step.cpp) with its hand-derived adjoint.
#include "maya/dynamics/mass_spring.hpp"

#include <atomic>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "dynamics/mass_spring_kernels.hpp"
#include "dynamics/mass_spring_step.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::dynamics {

namespace {

// One workspace per world of a batch, kept in the tape's workspace: worlds step on several
// threads at once, and each borrows only from its own.
std::vector<Workspace>& world_workspaces(Workspace& tape_work, std::size_t worlds) {
  static const char kWorldWorkspaces = 0;
  std::vector<Workspace>& work = tape_work.kept<Workspace>(&kWorldWorkspaces);
  if (work.size() < worlds) work.resize(worlds);
  return work;
}

}  // namespace

std::uint64_t detail::TopologyId::next() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

MassSpringModel::MassSpringModel(std::size_t num_particles, std::size_t dim,
                                 std::vector<std::int64_t> first, std::vector<std::int64_t> second,
                                 std::vector<double> gravity, GroundContact ground)
    : num_particles_(num_particles),
      dim_(dim),
      first_(std::move(first)),
      second_(std::move(second)),
      gravity_(std::move(gravity)),
      ground_(ground) {
  (void)check_at_least(dim_, 1, "MassSpringModel: dimension");
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
  if (ground_.enabled) {
    (void)check_non_negative(ground_.friction, "MassSpringModel: ground friction");
    if (ground_.friction > 0.0) {
      (void)check_positive(ground_.slip_velocity, "MassSpringModel: ground slip_velocity");
    }
  }
  build_incidence();
  step_op_ = std::make_shared<const StepOp>(std::make_shared<const MassSpringModel>(*this));
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

std::size_t MassSpringModel::check_inputs(TensorVar state, const SpringParameters& params,
                                          double dt) const {
  const ShapeView shape = state.shape();
  if (shape.size() == 4) {
    // E worlds: state [E, 2, N, D], each parameter with the same leading E.
    const std::size_t worlds = shape[0];
    expect_shape(shape, {worlds, 2, num_particles_, dim_}, "mass_spring_step", "state");
    const auto check = [&](TensorVar param, std::size_t per_world, const char* what) {
      const ShapeView p = param.shape();
      if (p.size() == 2 && p[1] == per_world && p[0] != worlds) {
        throw ShapeError(std::string("mass_spring_step: ") + what + " of shape " + shape_string(p) +
                         " holds " + std::to_string(p[0]) + " worlds but state of shape " +
                         shape_string(shape) + " holds " + std::to_string(worlds));
      }
      expect_shape(p, {worlds, per_world}, "mass_spring_step", what);
    };
    check(params.mass, num_particles_, "mass");
    check(params.stiffness, first_.size(), "stiffness");
    check(params.damping, first_.size(), "damping");
    check(params.rest_length, first_.size(), "rest_length");
  } else {
    expect_shape(shape, {2, num_particles_, dim_}, "mass_spring_step", "state");
    expect_shape(params.mass.shape(), {num_particles_}, "mass_spring_step", "mass");
    expect_shape(params.stiffness.shape(), {first_.size()}, "mass_spring_step", "stiffness");
    expect_shape(params.damping.shape(), {first_.size()}, "mass_spring_step", "damping");
    expect_shape(params.rest_length.shape(), {first_.size()}, "mass_spring_step", "rest_length");
  }
  (void)check_positive(dt, "mass_spring_step: dt");
  for (const double m : params.mass.view().data()) {
    if (!(m > 0.0 && m <= std::numeric_limits<double>::max())) {
      (void)check_positive(m, "mass_spring_step: every mass");
    }
  }
  return shape.size() == 4 ? shape[0] : 0;
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
  const std::size_t worlds = check_inputs(state, params, dt);
  TensorTape& tape = state.tape();
  const detail::SpringInputs in{
      tape.view(state).values, tape.view(params.mass).values, tape.view(params.stiffness).values,
      tape.view(params.damping).values, tape.view(params.rest_length).values};
  const detail::SpringSystem system = this->system();
  const double saved[] = {dt};
  Shape shape{2, num_particles_, dim_};
  if (worlds > 0) shape.insert(shape.begin(), worlds);
  const bool finite_check = tape.finite_check();
  tape.keep_alive(step_op_);
  return tape.record(
      *step_op_, {state, params.mass, params.stiffness, params.damping, params.rest_length}, shape,
      [&](MutableTensorView out) {
        if (worlds == 0) {
          detail::mass_spring_forward(dim_, system, in, dt, out.values, tape.workspace());
          return;
        }
        // One world per task; a world's step inside a task runs on that task's thread, with that
        // world's own workspace.
        const std::size_t size = 2 * num_particles_ * dim_;
        std::vector<Workspace>& work = world_workspaces(tape.workspace(), worlds);
        core::detail::parallel_for(worlds, 1, 1, [&](std::size_t begin, std::size_t end) {
          for (std::size_t w = begin; w < end; ++w) {
            detail::mass_spring_forward(dim_, system, world_inputs(in, w), dt,
                                        out.values + w * size, work[w]);
          }
        });
        if (finite_check) check_worlds_finite(out.values, worlds, size);
      },
      SavedData{saved, {}});
}

detail::SpringInputs MassSpringModel::world_inputs(const detail::SpringInputs& in,
                                                   std::size_t world) const noexcept {
  const std::size_t n = num_particles_;
  const std::size_t s = first_.size();
  return {in.x + world * 2 * n * dim_, in.mass + world * n, in.stiffness + world * s,
          in.damping + world * s, in.rest + world * s};
}

void MassSpringModel::check_worlds_finite(const double* states, std::size_t worlds,
                                          std::size_t size) {
  for (std::size_t w = 0; w < worlds; ++w) {
    for (std::size_t j = 0; j < size; ++j) {
      const double value = states[w * size + j];
      if (!std::isfinite(value)) {
        throw NonFiniteError("finite check: mass_spring_step produced " + std::to_string(value) +
                             " in world " + std::to_string(w) + " of " + std::to_string(worlds) +
                             " (element " + std::to_string(j) + " of its [2, N, D] state)");
      }
    }
  }
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
  if (context.input(0).ndim() == 3) {
    detail::mass_spring_backward(model.dim_, system, in, dt, g_out, grads, context.workspace());
    return;
  }
  // E worlds, each its own slice of every input and gradient.
  const std::size_t worlds = context.input(0).shape[0];
  const std::size_t n = model.num_particles_;
  const std::size_t s = model.first_.size();
  const std::size_t size = 2 * n * model.dim_;
  const auto offset = [](detail::GradientSlot slot, std::size_t by) {
    if (slot) slot.values += by;
    return slot;
  };
  std::vector<Workspace>& work = world_workspaces(context.workspace(), worlds);
  core::detail::parallel_for(worlds, 1, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t w = begin; w < end; ++w) {
      const detail::SpringGradients world{
          offset(grads.state, w * size), grads.mass ? grads.mass + w * n : nullptr,
          offset(grads.stiffness, w * s), offset(grads.damping, w * s), offset(grads.rest, w * s)};
      detail::mass_spring_backward(model.dim_, system, model.world_inputs(in, w), dt,
                                   g_out + w * size, world, work[w]);
    }
  });
}

}  // namespace maya::dynamics
