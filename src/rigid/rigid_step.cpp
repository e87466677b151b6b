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
// The step node's inputs, in recording order. kDt is present only when dt is a tape variable.
enum Input : std::size_t {
  kState,
  kMass,
  kInertia,
  kVertices,
  kRadius,
  kApplied,
  kStiffness,  // then kDamping and kFriction: the material, in ContactMaterial's order
  kDamping,
  kFriction,
  kDt,
};
constexpr std::size_t kNumInputs = kDt;  // without dt

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
  Workspace& work = tape.workspace();
  auto frames_memory = work.borrow<detail::BodyFrame>(n);
  auto pairs_memory = work.borrow<Contact>();
  auto pair_ints_memory = work.borrow<std::int64_t>();
  std::vector<detail::BodyFrame>& frames = *frames_memory;
  std::vector<Contact>& pairs = *pairs_memory;
  std::vector<std::int64_t>& pair_ints = *pair_ints_memory;
  const double* x = tape.view(state).values;
  detail::fill_frames(x, n, frames.data());
  const detail::ContactInputs in{frames.data(), tape.view(params.vertices).values,
                                 tape.view(params.radius).values, options_.grounds.data(),
                                 next_vertex_.data()};
  const detail::Material material{tape.view(params.stiffness)[0], tape.view(params.damping)[0],
                                  tape.view(params.friction)[0], options_.friction_smoothing,
                                  options_.normal_law};
  if (options_.body_contacts) detail::find_pair_contacts(*this, in, pairs, work);
  for (const Contact& c : pairs) {
    pair_ints.insert(pair_ints.end(), {static_cast<std::int64_t>(c.kind), c.body_a, c.feature_a,
                                       c.body_b, c.feature_b});
  }
  const double* mass = tape.view(params.mass).values;
  const double* inertia = tape.view(params.inertia).values;
  const double* applied = tape.view(params.applied).values;
  const double saved[] = {dt};
  TensorVar inputs[kDt + 1];
  inputs[kState] = state;
  inputs[kMass] = params.mass;
  inputs[kInertia] = params.inertia;
  inputs[kVertices] = params.vertices;
  inputs[kRadius] = params.radius;
  inputs[kApplied] = params.applied;
  inputs[kStiffness] = params.stiffness;
  inputs[kDamping] = params.damping;
  inputs[kFriction] = params.friction;
  if (dt_var != nullptr) inputs[kDt] = *dt_var;
  const std::size_t num_inputs = dt_var != nullptr ? kNumInputs + 1 : kNumInputs;
  const Shape shape{2, n, 3};
  tape.keep_alive(step_op_);
  return tape.record(
      *step_op_, std::span<const TensorVar>(inputs, num_inputs), shape,
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
  const double* x = context.input(kState).values;
  const double* velocity = x + 3 * n;
  const double* mass = context.input(kMass).values;
  const double* inertia = context.input(kInertia).values;
  const double* applied = context.input(kApplied).values;
  const double* g_pose1 = context.grad_output().values;
  const double* g_velocity1 = g_pose1 + 3 * n;
  const double damping[3] = {options.linear_damping, options.linear_damping,
                             options.angular_damping};

  // x1 = x + dt v1, v1 = v + dt (W / M + g - lambda v): the adjoint reaching v1 is
  // g_v1 + dt g_x1, and d loss / d W = dt (g_v1 + dt g_x1) / M, M = (m, m, I).
  Workspace& work = context.workspace();
  auto g_velocity1_total_memory = work.borrow<double>(3 * n);
  auto g_wrench_memory = work.borrow<double>(3 * n);
  auto wrench_memory = work.borrow<double>();
  std::vector<double>& g_velocity1_total = *g_velocity1_total_memory;
  std::vector<double>& g_wrench = *g_wrench_memory;
  std::vector<double>& wrench = *wrench_memory;
  for (std::size_t i = 0; i < 3 * n; ++i) g_velocity1_total[i] = g_velocity1[i] + dt * g_pose1[i];
  for (std::size_t k = 0; k < n; ++k) {
    const double moment[3] = {mass[k], mass[k], inertia[k]};
    for (std::size_t j = 0; j < 3; ++j) {
      g_wrench[3 * k + j] = dt * g_velocity1_total[3 * k + j] / moment[j];
    }
  }

  detail::GradientSinks sinks;
  if (context.needs_grad(kState)) {
    sinks.pose = context.grad_input(kState).values;
    sinks.velocity = sinks.pose + 3 * n;
  }
  if (context.needs_grad(kVertices)) sinks.vertices = context.grad_input(kVertices).values;
  if (context.needs_grad(kRadius)) sinks.radius = context.grad_input(kRadius).values;
  const bool dt_grad = dt_input && context.needs_grad(kDt);
  const bool need_wrench = context.needs_grad(kMass) || context.needs_grad(kInertia) || dt_grad;
  const bool material_grad = context.needs_grad(kStiffness) || context.needs_grad(kDamping) ||
                             context.needs_grad(kFriction);
  const bool contact_grad = sinks.pose != nullptr || sinks.vertices != nullptr ||
                            sinks.radius != nullptr || material_grad || need_wrench;
  if (need_wrench) wrench.assign(applied, applied + 3 * n);

  if (contact_grad) {
    auto frames_memory = work.borrow<detail::BodyFrame>(n);
    std::vector<detail::BodyFrame>& frames = *frames_memory;
    detail::fill_frames(x, n, frames.data());
    const detail::ContactInputs in{frames.data(), context.input(kVertices).values,
                                   context.input(kRadius).values, options.grounds.data(),
                                   world.next_vertex_.data()};
    const detail::Material material{context.input(kStiffness)[0], context.input(kDamping)[0],
                                    context.input(kFriction)[0], options.friction_smoothing,
                                    options.normal_law};
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
  if (context.needs_grad(kApplied)) {
    double* g_applied = context.grad_input(kApplied).values;
    for (std::size_t i = 0; i < 3 * n; ++i) g_applied[i] += g_wrench[i];
  }
  // d (W / m) / d m = -W / m^2, so d loss / d m = -(g_W . W) / m.
  if (context.needs_grad(kMass)) {
    double* g_mass = context.grad_input(kMass).values;
    for (std::size_t k = 0; k < n; ++k) {
      g_mass[k] -=
          (g_wrench[3 * k] * wrench[3 * k] + g_wrench[3 * k + 1] * wrench[3 * k + 1]) / mass[k];
    }
  }
  if (context.needs_grad(kInertia)) {
    double* g_inertia = context.grad_input(kInertia).values;
    for (std::size_t k = 0; k < n; ++k) {
      g_inertia[k] -= g_wrench[3 * k + 2] * wrench[3 * k + 2] / inertia[k];
    }
  }
  for (std::size_t m = 0; m < 3; ++m) {
    if (context.needs_grad(kStiffness + m))
      context.grad_input(kStiffness + m)[0] += sinks.material[m];
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
    context.grad_input(kDt)[0] += g_dt;
  }
}

}  // namespace maya::rigid
