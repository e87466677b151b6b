// Accelerations of the full model (by ABA, or by the mass matrix and inverse dynamics) and the
// integrators: semi-implicit Euler and RK4 on the manifold, with quaternions through the
// exponential map.
#pragma once

#include <cstddef>
#include <vector>

#include "multibody/algorithms.hpp"
#include "multibody/forces.hpp"

namespace maya::multibody::detail {

// qdd of the full model: kinematics, joint forces, contact, ABA.
template <class S>
void acceleration(const Model& model, const S* params, const S* q, const S* v, const S* u, S* qdd,
                  TreeScratch<S>& ws, double implicit_dt = 0.0) {
  kinematics(model, params, q, v, ws, model.has_contact());
  joint_forces(model, params, q, v, u, ws.tau.data());
  if (model.has_contact()) contact_wrenches(model, params, ws, static_cast<S*>(nullptr));
  articulated_body(model, ws.tau.data(), qdd, ws,
                   ImplicitDamping<S>{implicit_dt > 0.0 ? params : nullptr, implicit_dt});
}

// qdd of the full model the other way: M(q) qdd = tau - C(q, qdot), with C from inverse dynamics
// at qdd = 0 (contact forces included) and M from the composite rigid bodies. O(n^3) where ABA is
// O(n); the composed step uses it so that its twin test compares two algorithms.
template <class S>
void acceleration_crba(const Model& model, const S* params, const S* q, const S* v, const S* u,
                       S* qdd, TreeScratch<S>& ws, std::vector<S>& M, std::vector<S>& bias,
                       double implicit_dt = 0.0) {
  const ImplicitDamping<S> implicit{implicit_dt > 0.0 ? params : nullptr, implicit_dt};
  const std::size_t nv = model.nv();
  kinematics(model, params, q, v, ws, model.has_contact());
  joint_forces(model, params, q, v, u, ws.tau.data());
  if (model.has_contact()) contact_wrenches(model, params, ws, static_cast<S*>(nullptr));
  M.resize(nv * nv);
  bias.resize(nv);
  composite_rigid_body(model, M.data(), ws, implicit);
  for (std::size_t k = 0; k < nv; ++k) qdd[k] = S(0.0);
  newton_euler(model, qdd, bias.data(), ws);
  for (std::size_t k = 0; k < nv; ++k) qdd[k] = ws.tau[k] - bias[k];
  cholesky_solve(M.data(), qdd, nv);
}

// q1 = q (+) h v: Euler on scalar joints and free positions, the exponential map on quaternions
// (angular velocities are in the body frame), renormalized.
template <class S>
void integrate_positions(const Model& model, const S* q, const S* v, double h, S* q1) {
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const Body& body = model.body(i);
    const S* qi = q + model.q_index(i);
    const S* vi = v + model.v_index(i);
    S* out = q1 + model.q_index(i);
    switch (body.joint) {
      case JointType::kFixed: break;
      case JointType::kRevolute:
      case JointType::kPrismatic: out[0] = qi[0] + h * vi[0]; break;
      case JointType::kSpherical: {
        const Quat<S> r =
            quat_integrate(Quat<S>{qi[0], qi[1], qi[2], qi[3]}, Vec3<S>{vi[0], vi[1], vi[2]}, h);
        for (int k = 0; k < 4; ++k) out[k] = r[k];
        break;
      }
      case JointType::kFree: {
        for (int k = 0; k < 3; ++k) out[k] = qi[k] + h * vi[k];
        const Quat<S> r =
            quat_integrate(Quat<S>{qi[3], qi[4], qi[5], qi[6]}, Vec3<S>{vi[3], vi[4], vi[5]}, h);
        for (int k = 0; k < 4; ++k) out[3 + k] = r[k];
        break;
      }
    }
  }
}

// The quaternions of q normalized in place (the step's first operation, so a state a little off
// the unit sphere is mapped back smoothly).
template <class S>
void normalize_quaternions(const Model& model, S* q) {
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const JointType type = model.body(i).joint;
    if (type != JointType::kSpherical && type != JointType::kFree) continue;
    S* quat = q + model.q_index(i) + (type == JointType::kFree ? 3 : 0);
    const Quat<S> r = quat_normalized(Quat<S>{quat[0], quat[1], quat[2], quat[3]});
    for (int k = 0; k < 4; ++k) quat[k] = r[k];
  }
}

template <class S>
struct StepScratch {
  TreeScratch<S> ws;
  std::vector<S> q, v, qdd, q_stage, v_stage, theta, rate, rate_sum, a_sum;
};

// The rate of the tangent coordinates theta of q(t) = q0 (+) theta(t) at velocity v:
// theta' = v for scalar joints and free positions, and for a quaternion with body angular
// velocity w the inverse right Jacobian of the exponential map,
//   theta' = dexp^-1(theta) w = w + (1/2) theta x w + (1/12) theta x (theta x w) + O(|theta|^3 |w|),
// truncated after the terms that a fourth-order Runge-Kutta-Munthe-Kaas step needs (Munthe-Kaas
// 1999: the terms up to degree order - 2).
template <class S>
void tangent_rate(const Model& model, const S* theta, const S* v, S* rate) {
  for (std::size_t j = 0; j < model.nv(); ++j) rate[j] = v[j];
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const JointType type = model.body(i).joint;
    if (type != JointType::kSpherical && type != JointType::kFree) continue;
    const std::size_t a = model.v_index(i) + (type == JointType::kFree ? 3 : 0);
    const Vec3<S> t{theta[a], theta[a + 1], theta[a + 2]}, w{v[a], v[a + 1], v[a + 2]};
    const Vec3<S> tw = cross(t, w), ttw = cross(t, tw);
    for (int k = 0; k < 3; ++k) rate[a + k] = w[k] + 0.5 * tw[k] + (1.0 / 12.0) * ttw[k];
  }
}

// One step x1 = step(x, u): semi-implicit Euler (v1 = v + dt a(q, v), q1 = q (+) dt v1) or
// fourth-order Runge-Kutta on the manifold (Runge-Kutta-Munthe-Kaas): the stages move the
// tangent coordinates theta of q (+) theta with classical RK4 weights, so quaternion joints
// converge at fourth order like scalar ones. Stage k evaluates at
// (q (+) h_k r_{k-1}, v + h_k a_{k-1}), r_k = tangent_rate(h_k r_{k-1}, v_k), and
// q1 = q (+) dt (r_1 + 2 r_2 + 2 r_3 + r_4) / 6, v1 = v + dt (a_1 + 2 a_2 + 2 a_3 + a_4) / 6.
template <class S>
void step(const Model& model, const S* params, const S* x, const S* u, double dt,
          Integrator integrator, S* x1, StepScratch<S>& s) {
  const std::size_t nq = model.nq(), nv = model.nv();
  s.q.assign(x, x + nq);
  s.v.assign(x + nq, x + nq + nv);
  s.qdd.resize(nv);
  normalize_quaternions(model, s.q.data());
  if (integrator == Integrator::kSemiImplicitEuler) {
    acceleration(model, params, s.q.data(), s.v.data(), u, s.qdd.data(), s.ws,
                 model.options().implicit_damping ? dt : 0.0);
    S* v1 = x1 + nq;
    for (std::size_t k = 0; k < nv; ++k) v1[k] = s.v[k] + dt * s.qdd[k];
    integrate_positions(model, s.q.data(), v1, dt, x1);
    return;
  }
  s.q_stage.resize(nq);
  s.v_stage.resize(nv);
  s.theta.resize(nv);
  s.rate.resize(nv);
  s.rate_sum.assign(nv, S(0.0));
  s.a_sum.assign(nv, S(0.0));
  const double stage_step[4] = {0.0, 0.5 * dt, 0.5 * dt, dt};
  const double weight[4] = {1.0, 2.0, 2.0, 1.0};
  for (int k = 0; k < 4; ++k) {
    if (k == 0) {
      s.q_stage = s.q;
      s.v_stage = s.v;
      for (std::size_t j = 0; j < nv; ++j) s.theta[j] = S(0.0);
    } else {
      for (std::size_t j = 0; j < nv; ++j) {
        s.theta[j] = stage_step[k] * s.rate[j];
        s.v_stage[j] = s.v[j] + stage_step[k] * s.qdd[j];
      }
      integrate_positions(model, s.q.data(), s.rate.data(), stage_step[k], s.q_stage.data());
    }
    tangent_rate(model, s.theta.data(), s.v_stage.data(), s.rate.data());
    for (std::size_t j = 0; j < nv; ++j) s.rate_sum[j] += weight[k] * s.rate[j];
    acceleration(model, params, s.q_stage.data(), s.v_stage.data(), u, s.qdd.data(), s.ws);
    for (std::size_t j = 0; j < nv; ++j) s.a_sum[j] += weight[k] * s.qdd[j];
  }
  S* v1 = x1 + nq;
  for (std::size_t j = 0; j < nv; ++j) {
    v1[j] = s.v[j] + (dt / 6.0) * s.a_sum[j];
    s.rate_sum[j] = s.rate_sum[j] / 6.0;
  }
  integrate_positions(model, s.q.data(), s.rate_sum.data(), dt, x1);
}

}  // namespace maya::multibody::detail
