// Ground forces as a fused node, and the semi-implicit Euler step composed around the fused
// force nodes.
#include <string>
#include <vector>

#include "ground_contact.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/ops.hpp"
#include "soft_body_ops.hpp"

namespace maya::fem {

TensorVar SoftBody::ground_forces(TensorVar positions, TensorVar velocities) const {
  const Shape expected{num_vertices(), dim()};
  for (const TensorVar var : {positions, velocities}) {
    const ShapeView shape = var.shape();
    if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
      throw ShapeError("SoftBody::ground_forces: positions and velocities must be " +
                       shape_string(expected) + ", got " + shape_string(shape));
    }
  }
  TensorTape& tape = positions.tape();
  const double* x = tape.view(positions).values;
  const double* v = tape.view(velocities).values;
  const detail::GroundKernel kernel(options_.ground, dim(), pinned_mask_.data());
  return tape.record(*ground_op_, {positions, velocities}, expected, [&](MutableTensorView out) {
    std::fill(out.values, out.values + out.numel(), 0.0);
    kernel.add_explicit_forces(x, v, num_vertices(), out.values);
  });
}

void SoftBody::GroundOp::backward(BackwardContext& context) const {
  const detail::GroundKernel kernel(body_->options_.ground, body_->dim(),
                                    body_->pinned_mask_.data());
  double* g_x = context.needs_grad(0) ? context.grad_input(0).values : nullptr;
  double* g_v = context.needs_grad(1) ? context.grad_input(1).values : nullptr;
  kernel.explicit_vjp(context.input(0).values, context.input(1).values, body_->num_vertices(),
                      context.grad_output().values, g_x, g_v);
}

TensorVar SoftBody::step_explicit(TensorVar state, const BodyParameters& params, double dt) const {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValueError("SoftBody::step_explicit: dt must be positive and finite, got " +
                     std::to_string(dt));
  }
  check_parameters(params, "SoftBody::step_explicit", true);
  const ShapeView shape = state.shape();
  const Shape expected{2, num_vertices(), dim()};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError("SoftBody::step_explicit: state of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
  TensorTape& tape = state.tape();
  const TensorVar x = positions_of(state);
  const TensorVar v = velocities_of(state);
  TensorVar force = elastic_forces(x, params);
  if (options_.ground.enabled) force = force + ground_forces(x, v);
  const TensorVar gravity = tape.constant(Tensor::from_data(gravity_, {dim()}));
  TensorVar v1 = v + dt * (force / unsqueeze(params.mass, 1) + gravity);
  if (!options_.pinned.empty()) {
    std::vector<double> free(num_vertices());
    for (std::size_t i = 0; i < free.size(); ++i) free[i] = pinned_mask_[i] ? 0.0 : 1.0;
    v1 = v1 * tape.constant(Tensor::from_data(std::move(free), {num_vertices(), 1}));
  }
  return stack({x + dt * v1, v1}, 0);
}

}  // namespace maya::fem
