// The generalized and external forces of a model, templated on the scalar: actuators, joint
// damping and limits, and penalty contact against the world's planes (Hunt-Crossley normal force,
// smoothed Coulomb friction).
#pragma once

#include <cstddef>

#include "multibody/algorithms.hpp"
#include "multibody/body_contact.hpp"

namespace maya::multibody::detail {

// Actuator, damping and limit forces: the generalized force [nv] that enters forward dynamics.
template <class S>
void joint_forces(const Model& model, const S* params, const S* q, const S* v, const S* u, S* tau) {
  for (std::size_t i = 0; i < model.nv(); ++i) tau[i] = S(0.0);
  const ModelOptions& options = model.options();
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const Body& body = model.body(i);
    const std::size_t nv = Model::joint_nv(body.joint);
    const std::size_t vi = model.v_index(i);
    const S& damping = params[PL::kPerBody * i + PL::kDamping];
    for (std::size_t k = 0; k < nv; ++k) tau[vi + k] -= damping * v[vi + k];
    if (body.limited && nv == 1) {
      const S& position = q[model.q_index(i)];
      if (value_of(position) < body.lower) {
        tau[vi] +=
            options.limit_stiffness * (body.lower - position) - options.limit_damping * v[vi];
      } else if (value_of(position) > body.upper) {
        tau[vi] +=
            options.limit_stiffness * (body.upper - position) - options.limit_damping * v[vi];
      }
    }
  }
  for (std::size_t a = 0; a < model.nu(); ++a) {
    const Actuator& act = model.actuators()[a];
    S control = u[a];
    if (act.ctrl_limited) {
      if (value_of(control) < act.ctrl_lower) control = S(act.ctrl_lower);
      if (value_of(control) > act.ctrl_upper) control = S(act.ctrl_upper);
    }
    const std::size_t qi = model.q_index(static_cast<std::size_t>(act.body));
    const std::size_t vi = model.v_index(static_cast<std::size_t>(act.body));
    switch (act.type) {
      case ActuatorType::kTorque: tau[vi] += act.gear * control; break;
      case ActuatorType::kPosition: tau[vi] += act.kp * (control - q[qi]) - act.kv * v[vi]; break;
      case ActuatorType::kVelocity: tau[vi] += act.kv * (control - v[vi]); break;
    }
  }
}

// Penalty contact after kinematics(): adds every contact point's wrench to ws.external, and
// writes its world force (3 per point) when `forces` is given; then the pairs of bodies'
// (body_contact.hpp), whose force on body b follows in `forces` (3 per pair: [P + Q, 3] in all).
template <class S>
void contact_wrenches(const Model& model, const S* params, TreeScratch<S>& ws, S* forces) {
  const ModelOptions& options = model.options();
  const S* material = params + PL::kPerBody * model.num_bodies();
  const S& stiffness = material[PL::kContactStiffness];
  const S& damping = material[PL::kContactDamping];
  const S& friction = material[PL::kFriction];
  const double eps_sq = options.friction_smoothing * options.friction_smoothing;
  const auto& points = model.contact_points();
  for (std::size_t c = 0; c < points.size(); ++c) {
    const ContactPoint& point = points[c];
    if (forces != nullptr) forces[3 * c] = forces[3 * c + 1] = forces[3 * c + 2] = S(0.0);
    const Plane& plane = options.planes[static_cast<std::size_t>(point.plane)];
    const Transform<S>& X = ws.X_world[static_cast<std::size_t>(point.body)];
    const Vec3<S> local{S(point.position[0]), S(point.position[1]), S(point.position[2])};
    const Vec3<S> world = add(X.r, mul_transpose(X.E, local));
    const Vec3<S> n{S(plane.normal[0]), S(plane.normal[1]), S(plane.normal[2])};
    const S depth = point.radius - (dot(n, world) - plane.offset);
    if (!(value_of(depth) > 0.0)) continue;
    // Velocity of the contact point (the deepest point of the shape), world frame.
    const Vec3<S> contact_local = sub(local, scale(point.radius, mul(X.E, n)));
    const Vec6<S>& vb = ws.velocity[static_cast<std::size_t>(point.body)];
    const Vec3<S> w{vb[0], vb[1], vb[2]};
    const Vec3<S> v_local = add(Vec3<S>{vb[3], vb[4], vb[5]}, cross(w, contact_local));
    const Vec3<S> velocity = mul_transpose(X.E, v_local);
    const S normal_speed = dot(n, velocity);
    S normal_force =
        stiffness * pow(depth, options.contact_exponent) * (1.0 - damping * normal_speed);
    if (value_of(normal_force) < 0.0) normal_force = S(0.0);
    const Vec3<S> tangential = sub(velocity, scale(normal_speed, n));
    const S slip = sqrt(dot(tangential, tangential) + eps_sq);
    const S friction_scale = -friction * normal_force / slip;
    const Vec3<S> F = add(scale(normal_force, n), scale(friction_scale, tangential));
    if (forces != nullptr) {
      for (int k = 0; k < 3; ++k) forces[3 * c + k] = F[k];
    }
    const Vec3<S> F_local = mul(X.E, F);
    const Vec3<S> moment = cross(contact_local, F_local);
    Vec6<S>& ext = ws.external[static_cast<std::size_t>(point.body)];
    ext = add6(ext, Vec6<S>{moment[0], moment[1], moment[2], F_local[0], F_local[1], F_local[2]});
  }
  if (!model.contact_pairs().empty()) {
    body_contact_wrenches(
        model, params, ws,
        forces != nullptr ? forces + 3 * points.size() : static_cast<S*>(nullptr));
  }
}

}  // namespace maya::multibody::detail
