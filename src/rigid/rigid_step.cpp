// The fused rigid step: one tape node per step, with a hand-derived adjoint. The forward pass
// keeps only the output state (and the body-body contact list); the backward pass recomputes body
// frames, ground contacts and every contact's geometry and force from the input state.
#include <cmath>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "rigid/contact_detection.hpp"
#include "rigid/contact_kernel.hpp"

namespace maya::rigid {

namespace {

constexpr std::size_t kIntsPerContact = 5;
constexpr std::size_t kNumInputs = 9;  // a tenth input, when present, is dt

void check_dt(double dt, const char* operation) {
  (void)check_positive(dt, std::string(operation) + ": dt");
}

}  // namespace

TensorVar RigidWorld2D::step(TensorVar state, const RigidParameters& params, double dt) const {
  check_dt(dt, "rigid_step");
  return record_step(state, params, dt, nullptr);
}

TensorVar RigidWorld2D::step(TensorVar state, const RigidParameters& params, TensorVar dt) const {
  if (dt.numel() != 1) {
    throw ShapeError("rigid_step: dt must have one element, got shape " + shape_string(dt.shape()));
  }
  check_dt(dt.view()[0], "rigid_step");
  return record_step(state, params, dt.view()[0], &dt);
}

TensorVar RigidWorld2D::record_step(TensorVar state, const RigidParameters& params, double dt,
                                    const TensorVar* dt_var) const {
  check_inputs(state, params, "rigid_step");
  TensorTape& tape = state.tape();
  const std::size_t n = shapes_.size();
  thread_local std::vector<detail::BodyFrame> frames;
  thread_local std::vector<Contact> pairs;
  thread_local std::vector<std::int64_t> pair_ints;
  frames.resize(n);
  const double* x = tape.view(state).values;
  detail::fill_frames(x, n, frames.data());
  const detail::ContactInputs in{frames.data(), tape.view(params.vertices).values,
                                 tape.view(params.radius).values, options_.grounds.data(),
                                 next_vertex_.data()};
  const detail::Material material{tape.view(params.stiffness)[0], tape.view(params.damping)[0],
                                  tape.view(params.friction)[0], options_.friction_smoothing,
                                  options_.normal_law};
  pairs.clear();
  pair_ints.clear();
  if (options_.body_contacts) detail::find_pair_contacts(*this, in, pairs);
  for (const Contact& c : pairs) {
    pair_ints.insert(pair_ints.end(), {static_cast<std::int64_t>(c.kind), c.body_a, c.feature_a,
                                       c.body_b, c.feature_b});
  }
  const double* mass = tape.view(params.mass).values;
  const double* inertia = tape.view(params.inertia).values;
  const double* applied = tape.view(params.applied).values;
  const double saved[] = {dt};
  const TensorVar inputs[] = {state,
                              params.mass,
                              params.inertia,
                              params.vertices,
                              params.radius,
                              params.applied,
                              params.stiffness,
                              params.damping,
                              params.friction,
                              dt_var != nullptr ? *dt_var : TensorVar{}};
  const std::size_t num_inputs = dt_var != nullptr ? kNumInputs + 1 : kNumInputs;
  const Shape shape{2, n, 3};
  return tape.record(
      step_op_, std::span<const TensorVar>(inputs, num_inputs), shape,
      [&](MutableTensorView out) {
        double* pose1 = out.values;
        double* velocity1 = out.values + 3 * n;
        double* wrench = velocity1;  // the new velocities are computed in place of the wrench
        for (std::size_t i = 0; i < 3 * n; ++i) wrench[i] = applied[i];
        detail::for_each_ground_contact(
            *this, in, [&](const Contact& c, const detail::Geometry& g) {
              const detail::Force f = detail::contact_force(g, nullptr, frames[c.body_b], material);
              detail::apply_wrench(f, wrench, -1, c.body_b);
            });
        for (const Contact& c : pairs) {
          const detail::Geometry g =
              detail::contact_geometry(in, c.kind, c.body_a, c.feature_a, c.body_b, c.feature_b);
          const detail::Force f =
              detail::contact_force(g, &frames[c.body_a], frames[c.body_b], material);
          detail::apply_wrench(f, wrench, c.body_a, c.body_b);
        }
        const double* velocity = x + 3 * n;
        const double gravity[3] = {options_.gravity.x, options_.gravity.y, 0.0};
        const double damping[3] = {options_.linear_damping, options_.linear_damping,
                                   options_.angular_damping};
        for (std::size_t k = 0; k < n; ++k) {
          const double moment[3] = {mass[k], mass[k], inertia[k]};
          for (std::size_t j = 0; j < 3; ++j) {
            const std::size_t i = 3 * k + j;
            const double acceleration =
                wrench[i] / moment[j] + gravity[j] - damping[j] * velocity[i];
            const double v1 = velocity[i] + acceleration * dt;
            velocity1[i] = v1;
            pose1[i] = x[i] + v1 * dt;
          }
        }
      },
      SavedData{saved, pair_ints});
}

void RigidWorld2D::StepOp::backward(BackwardContext& context) const {
  const RigidWorld2D& world = *world_;
  const RigidWorldOptions& options = world.options_;
  const std::size_t n = world.shapes_.size();
  const double dt = context.saved()[0];
  const bool dt_input = context.num_inputs() > kNumInputs;
  const double* x = context.input(0).values;
  const double* velocity = x + 3 * n;
  const double* mass = context.input(1).values;
  const double* inertia = context.input(2).values;
  const double* applied = context.input(5).values;
  const double* g_pose1 = context.grad_output().values;
  const double* g_velocity1 = g_pose1 + 3 * n;
  const double damping[3] = {options.linear_damping, options.linear_damping,
                             options.angular_damping};

  // x1 = x + dt v1, v1 = v + dt (W / M + g - lambda v): the adjoint reaching v1 is
  // g_v1 + dt g_x1, and d loss / d W = dt (g_v1 + dt g_x1) / M, M = (m, m, I).
  thread_local std::vector<double> g_velocity1_total, g_wrench, wrench;
  g_velocity1_total.resize(3 * n);
  g_wrench.resize(3 * n);
  for (std::size_t i = 0; i < 3 * n; ++i) g_velocity1_total[i] = g_velocity1[i] + dt * g_pose1[i];
  for (std::size_t k = 0; k < n; ++k) {
    const double moment[3] = {mass[k], mass[k], inertia[k]};
    for (std::size_t j = 0; j < 3; ++j) {
      g_wrench[3 * k + j] = dt * g_velocity1_total[3 * k + j] / moment[j];
    }
  }

  detail::GradientSinks sinks;
  if (context.needs_grad(0)) {
    sinks.pose = context.grad_input(0).values;
    sinks.velocity = sinks.pose + 3 * n;
  }
  if (context.needs_grad(3)) sinks.vertices = context.grad_input(3).values;
  if (context.needs_grad(4)) sinks.radius = context.grad_input(4).values;
  const bool dt_grad = dt_input && context.needs_grad(kNumInputs);
  const bool need_wrench = context.needs_grad(1) || context.needs_grad(2) || dt_grad;
  const bool material_grad =
      context.needs_grad(6) || context.needs_grad(7) || context.needs_grad(8);
  const bool contact_grad = sinks.pose != nullptr || sinks.vertices != nullptr ||
                            sinks.radius != nullptr || material_grad || need_wrench;
  if (need_wrench) wrench.assign(applied, applied + 3 * n);

  if (contact_grad) {
    thread_local std::vector<detail::BodyFrame> frames;
    frames.resize(n);
    detail::fill_frames(x, n, frames.data());
    const detail::ContactInputs in{frames.data(), context.input(3).values, context.input(4).values,
                                   options.grounds.data(), world.next_vertex_.data()};
    const detail::Material material{context.input(6)[0], context.input(7)[0], context.input(8)[0],
                                    options.friction_smoothing, options.normal_law};
    const auto backward_contact = [&](const Contact& c, const detail::Geometry& g) {
      const detail::BodyFrame* a = c.body_a >= 0 ? &frames[c.body_a] : nullptr;
      const detail::BodyFrame& b = frames[c.body_b];
      const detail::Force f = detail::contact_force(g, a, b, material);
      if (need_wrench) detail::apply_wrench(f, wrench.data(), c.body_a, c.body_b);
      const detail::GeometryAdjoint adjoint =
          detail::contact_force_backward(g, f, a, b, c.body_a, c.body_b, material,
                                         a != nullptr ? g_wrench.data() + 3 * c.body_a : nullptr,
                                         g_wrench.data() + 3 * c.body_b, sinks);
      detail::contact_geometry_backward(in, g, adjoint, c.kind, c.body_a, c.feature_a, c.body_b,
                                        c.feature_b, sinks);
    };
    detail::for_each_ground_contact(world, in, backward_contact);
    const std::span<const std::int64_t> ints = context.saved_ints();
    for (std::size_t p = 0; p + kIntsPerContact <= ints.size(); p += kIntsPerContact) {
      const auto kind = static_cast<ContactKind>(ints[p]);
      const auto body_a = static_cast<std::int32_t>(ints[p + 1]);
      const auto feature_a = static_cast<std::int32_t>(ints[p + 2]);
      const auto body_b = static_cast<std::int32_t>(ints[p + 3]);
      const auto feature_b = static_cast<std::int32_t>(ints[p + 4]);
      const detail::Geometry g =
          detail::contact_geometry(in, kind, body_a, feature_a, body_b, feature_b);
      backward_contact(detail::make_contact(kind, body_a, feature_a, body_b, feature_b, g), g);
    }
  }

  if (sinks.pose != nullptr) {
    for (std::size_t i = 0; i < 3 * n; ++i) {
      sinks.pose[i] += g_pose1[i];
      sinks.velocity[i] += g_velocity1_total[i] * (1.0 - dt * damping[i % 3]);
    }
  }
  if (context.needs_grad(5)) {
    double* g_applied = context.grad_input(5).values;
    for (std::size_t i = 0; i < 3 * n; ++i) g_applied[i] += g_wrench[i];
  }
  // d (W / m) / d m = -W / m^2, so d loss / d m = -(g_W . W) / m.
  if (context.needs_grad(1)) {
    double* g_mass = context.grad_input(1).values;
    for (std::size_t k = 0; k < n; ++k) {
      g_mass[k] -=
          (g_wrench[3 * k] * wrench[3 * k] + g_wrench[3 * k + 1] * wrench[3 * k + 1]) / mass[k];
    }
  }
  if (context.needs_grad(2)) {
    double* g_inertia = context.grad_input(2).values;
    for (std::size_t k = 0; k < n; ++k) {
      g_inertia[k] -= g_wrench[3 * k + 2] * wrench[3 * k + 2] / inertia[k];
    }
  }
  for (std::size_t m = 0; m < 3; ++m) {
    if (context.needs_grad(6 + m)) context.grad_input(6 + m)[0] += sinks.material[m];
  }
  // d loss / d dt = (g_v1 + dt g_x1) . a + g_x1 . v1.
  if (dt_grad) {
    const double* velocity1 = context.output().values + 3 * n;
    const double gravity[3] = {options.gravity.x, options.gravity.y, 0.0};
    double g_dt = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const double moment[3] = {mass[k], mass[k], inertia[k]};
      for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t i = 3 * k + j;
        const double acceleration = wrench[i] / moment[j] + gravity[j] - damping[j] * velocity[i];
        g_dt += g_velocity1_total[i] * acceleration + g_pose1[i] * velocity1[i];
      }
    }
    context.grad_input(kNumInputs)[0] += g_dt;
  }
}

}  // namespace maya::rigid
