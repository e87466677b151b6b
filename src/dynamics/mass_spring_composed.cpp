// The mass-spring step composed of tensor ops: the readable reference for the fused node.
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::dynamics {

TensorVar positions_of(TensorVar state) { return select(state, 0, 0); }
TensorVar velocities_of(TensorVar state) { return select(state, 0, 1); }

TensorVar MassSpringModel::step_composed(TensorVar state, const SpringParameters& params,
                                         double dt) const {
  if (check_inputs(state, params, dt) > 0) {
    throw ShapeError(
        "mass_spring_step_composed: steps one world (state [2, N, D]); got state of "
        "shape " +
        shape_string(state.shape()) + " (use step() for many worlds)");
  }
  TensorTape& tape = state.tape();
  const TensorVar x = positions_of(state);
  const TensorVar v = velocities_of(state);

  // f = (k (l - L) + c (v_b - v_a) . u) u per spring, u = d / l, d = x_b - x_a.
  const TensorVar d = index_select(x, 0, second_) - index_select(x, 0, first_);
  const TensorVar length = norm(d, -1, true);
  const TensorVar unit = d / length;
  const TensorVar closing = index_select(v, 0, second_) - index_select(v, 0, first_);
  const TensorVar closing_speed = sum(closing * unit, -1, true);
  const TensorVar magnitude =
      unsqueeze(params.stiffness, 1) * (length - unsqueeze(params.rest_length, 1)) +
      unsqueeze(params.damping, 1) * closing_speed;
  const TensorVar f = magnitude * unit;
  const TensorVar zero = tape.constant(Tensor::zeros({num_particles_, dim_}));
  TensorVar force = index_add(index_add(zero, 0, first_, f), 0, second_, -f);

  if (ground_.enabled) {
    // pen = relu(height - x_up); the contact indicator [pen > 0] is a constant of the step.
    const TensorVar up = select(x, 1, static_cast<long>(ground_.up_axis));
    const TensorVar v_up = select(v, 1, static_cast<long>(ground_.up_axis));
    const TensorVar penetration = relu(ground_.height - up);
    std::vector<double> in_contact(num_particles_);
    const auto pen_values = penetration.view();
    for (std::size_t i = 0; i < num_particles_; ++i)
      in_contact[i] = pen_values[i] > 0.0 ? 1.0 : 0.0;
    const TensorVar contact =
        tape.constant(Tensor::from_data(std::move(in_contact), {num_particles_}));
    const TensorVar normal_force =
        ground_.stiffness * penetration - ground_.damping * v_up * contact;
    std::vector<double> axis(dim_, 0.0);
    axis[ground_.up_axis] = 1.0;
    force = force + unsqueeze(normal_force, 1) * tape.constant(Tensor::from_data(axis, {dim_}));
    if (ground_.friction > 0.0) {
      // f_t = -mu relu(f_n) v_t / sqrt(|v_t|^2 + eps^2), v_t = v with its up axis zeroed.
      std::vector<double> tangent(dim_, 1.0);
      tangent[ground_.up_axis] = 0.0;
      const TensorVar slip = v * tape.constant(Tensor::from_data(std::move(tangent), {dim_}));
      const TensorVar slip_speed =
          sqrt(sum(slip * slip, -1, true) + ground_.slip_velocity * ground_.slip_velocity);
      force = force - ground_.friction * unsqueeze(relu(normal_force), 1) * slip / slip_speed;
    }
  }

  const TensorVar gravity = tape.constant(Tensor::from_data(gravity_, {dim_}));
  const TensorVar acceleration = force / unsqueeze(params.mass, 1) + gravity;
  const TensorVar v1 = v + dt * acceleration;
  const TensorVar x1 = x + dt * v1;
  return stack({x1, v1}, 0);
}

}  // namespace maya::dynamics
