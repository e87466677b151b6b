// The reverse pass of recursive Newton-Euler, derived by hand, for trees of revolute, prismatic and
// fixed joints (motion subspaces constant in body coordinates, c_J = 0) without external forces:
// the gradient of -lambda^T ID(q, qdot, qdd) with respect to q and qdot at fixed qdd. The fused
// Euler step's adjoint uses it, on what the step kept of its forward pass (keep_forward()), when
// no gradient reaches the parameters and nothing touches the ground; otherwise it records
// Newton-Euler on Rev numbers. Forward recursions (body i, parent p,
// s_i its joint's subspace, X_i = X_J(q_i) X_tree):
//   v_i = X_i v_p + s_i qd_i,  a_i = X_i a_p + s_i qdd_i + v_i x (s_i qd_i),
//   f_i = I_i a_i + v_i x* I_i v_i,  F_i = f_i + sum_children X_c^T F_c,  ID_i = s_i . F_i.
// Reverse, with dX_i/dq_i = -(s_i x) X_i (Featherstone 2008, eq. 3.33):
//   F'_i = ID'_i s_i + X_i F'_p                               (root to leaves), f'_i = F'_i
//   a'_i += I_i f'_i,  v'_i += -(f'_i x* I_i v_i) - I_i (v_i x f'_i)
//   v'_i += (s_i qd_i) x* a'_i,  qd'_i += a'_i . (v_i x s_i) + v'_i . s_i
//   q'_i += -v'_i . (s_i x X_i v_p) - a'_i . (s_i x X_i a_p) + (X_i F'_p) . (s_i x* F_i)
//   a'_p += X_i^T a'_i,  v'_p += X_i^T v'_i                    (leaves to root)
#pragma once

#include <vector>

#include "multibody/algorithms.hpp"

namespace maya::multibody::detail {

// Whether newton_euler_adjoint() applies to the model's joints.
inline bool scalar_joints_only(const Model& model) {
  for (const Body& b : model.bodies()) {
    if (b.joint == JointType::kSpherical || b.joint == JointType::kFree) return false;
  }
  return true;
}

// The per-body arrays of the reverse pass (the caller's, borrowed from its workspace): the
// adjoints, X_i F'_p, and I_i v_i.
struct NewtonEulerAdjointScratch {
  std::vector<Vec6<double>> F_bar, XF_bar, a_bar, v_bar, Iv;
};

// After restore_forces() (which leaves X, subspaces, velocities, accelerations, inertias and the
// accumulated forces F in `ws`, and I_i v_i in scratch.Iv): q_bar, qd_bar += the gradient of
// -lambda^T ID at (q, qd, qdd). With X_i v_p = v_i - s_i qd_i and
// X_i a_p = a_i - s_i qdd_i - qd_i v_i x s_i, the q' line of the header reads
//   q'_i += v'_i . (v_i x s_i) - a'_i . (s_i x a_i - qd_i s_i x (v_i x s_i))
//           + (X_i F'_p) . (s_i x* F_i).
inline void newton_euler_adjoint(const Model& model, const TreeScratch<double>& ws,
                                 NewtonEulerAdjointScratch& scratch, const double* qd,
                                 const double* lambda, double* q_bar, double* qd_bar) {
  const std::size_t n = model.num_bodies();
  std::vector<Vec6<double>>& F_bar = scratch.F_bar;
  std::vector<Vec6<double>>& XF_bar = scratch.XF_bar;
  std::vector<Vec6<double>>& a_bar = scratch.a_bar;
  std::vector<Vec6<double>>& v_bar = scratch.v_bar;
  F_bar.resize(n);
  XF_bar.resize(n);
  a_bar.assign(n, zero6<double>());
  v_bar.assign(n, zero6<double>());
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    XF_bar[i] = body.parent < 0
                    ? zero6<double>()
                    : apply_motion(ws.X[i], F_bar[static_cast<std::size_t>(body.parent)]);
    Vec6<double> F = XF_bar[i];
    if (Model::joint_nv(body.joint) == 1) {
      const double seed = -lambda[model.v_index(i)];
      for (int r = 0; r < 6; ++r) F[r] += seed * ws.columns[i][0][r];
    }
    F_bar[i] = F;
  }
  for (std::size_t i = n; i-- > 0;) {
    const Body& body = model.body(i);
    const Vec6<double>& v = ws.velocity[i];
    const Vec6<double>& f_bar = F_bar[i];
    a_bar[i] = add6(a_bar[i], mul_rigid(ws.inertia[i], f_bar));
    v_bar[i] = sub6(v_bar[i], add6(cross_force(f_bar, scratch.Iv[i]),
                                   mul_rigid(ws.inertia[i], cross_motion(v, f_bar))));
    if (Model::joint_nv(body.joint) == 1) {
      const std::size_t vi = model.v_index(i), qi = model.q_index(i);
      const Vec6<double>& s = ws.columns[i][0];
      const double rate = qd[vi];
      Vec6<double> sqd;
      for (int r = 0; r < 6; ++r) sqd[r] = s[r] * rate;
      v_bar[i] = add6(v_bar[i], cross_force(sqd, a_bar[i]));
      const Vec6<double> vs = cross_motion(v, s);
      qd_bar[vi] += dot6(a_bar[i], vs) + dot6(v_bar[i], s);
      const Vec6<double> sa = cross_motion(s, ws.acceleration[i]);
      const Vec6<double> svs = cross_motion(s, vs);
      Vec6<double> s_Xa;  // s x (X_i a_p)
      for (int r = 0; r < 6; ++r) s_Xa[r] = sa[r] - rate * svs[r];
      q_bar[qi] +=
          dot6(v_bar[i], vs) - dot6(a_bar[i], s_Xa) + dot6(XF_bar[i], cross_force(s, ws.force[i]));
    }
    const int parent = body.parent;
    if (parent >= 0) {
      const auto p = static_cast<std::size_t>(parent);
      a_bar[p] = add6(a_bar[p], inverse_force(ws.X[i], a_bar[i]));
      v_bar[p] = add6(v_bar[p], inverse_force(ws.X[i], v_bar[i]));
    }
  }
}

// What the fused Euler step keeps of its forward pass for the hand adjoint, per body: the
// transform from the parent (E: 9, r: 3), the velocity (6) and acceleration (6), and the
// articulated-body algorithm's U = IA s (6) and 1 / D (1) of its joint (zeros for a weld). With
// them the backward pass runs neither kinematics nor the articulated-body algorithm again.
inline constexpr std::size_t kKeptPerBody = 31;

// After articulated_body() on the step's state (scalar joints only): ws -> kept [bodies * 31].
inline void keep_forward(const Model& model, const TreeScratch<double>& ws, double* kept) {
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    double* k = kept + kKeptPerBody * i;
    const Transform<double>& X = ws.X[i];
    for (int r = 0; r < 9; ++r) k[r] = X.E[r];
    for (int r = 0; r < 3; ++r) k[9 + r] = X.r[r];
    const bool moves = Model::joint_nv(model.body(i).joint) == 1;
    for (int r = 0; r < 6; ++r) {
      k[12 + r] = ws.velocity[i][r];
      k[18 + r] = ws.acceleration[i][r];
      k[24 + r] = moves ? ws.U[i][0][r] : 0.0;
    }
    k[30] = moves ? ws.D_inverse[i][0] : 0.0;
  }
}

// The reverse of keep_forward(): the transforms, subspaces, U and 1 / D that
// apply_inverse_mass() reads.
inline void restore_factorization(const Model& model, const double* kept, TreeScratch<double>& ws) {
  const std::size_t n = model.num_bodies();
  ws.resize(n, model.nv());
  for (std::size_t i = 0; i < n; ++i) {
    const double* k = kept + kKeptPerBody * i;
    const Body& body = model.body(i);
    for (int r = 0; r < 9; ++r) ws.X[i].E[r] = k[r];
    for (int r = 0; r < 3; ++r) ws.X[i].r[r] = k[9 + r];
    if (Model::joint_nv(body.joint) != 1) continue;
    const Vec3<double>& a = body.axis;
    ws.columns[i][0] = body.joint == JointType::kRevolute
                           ? Vec6<double>{a[0], a[1], a[2], 0.0, 0.0, 0.0}
                           : Vec6<double>{0.0, 0.0, 0.0, a[0], a[1], a[2]};
    for (int r = 0; r < 6; ++r) ws.U[i][0][r] = k[24 + r];
    ws.D_inverse[i][0] = k[30];
  }
}

// The rest of keep_forward(), then Newton-Euler's forces as newton_euler() leaves them
// (f_i = I_i a_i + v_i x* I_i v_i, accumulated from the leaves) and I_i v_i in scratch.Iv:
// what newton_euler_adjoint() reads. No external forces.
inline void restore_forces(const Model& model, const double* params, const double* kept,
                           TreeScratch<double>& ws, NewtonEulerAdjointScratch& scratch) {
  const std::size_t n = model.num_bodies();
  scratch.Iv.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double* k = kept + kKeptPerBody * i;
    for (int r = 0; r < 6; ++r) {
      ws.velocity[i][r] = k[12 + r];
      ws.acceleration[i][r] = k[18 + r];
    }
    spatial_inertia(params + PL::kPerBody * i, ws.inertia[i]);
    const Vec6<double>& v = ws.velocity[i];
    scratch.Iv[i] = mul_rigid(ws.inertia[i], v);
    ws.force[i] = add6(mul_rigid(ws.inertia[i], ws.acceleration[i]), cross_force(v, scratch.Iv[i]));
  }
  for (std::size_t i = n; i-- > 0;) {
    const int parent = model.body(i).parent;
    if (parent >= 0) {
      const auto p = static_cast<std::size_t>(parent);
      ws.force[p] = add6(ws.force[p], inverse_force(ws.X[i], ws.force[i]));
    }
  }
}

// q_bar, qd_bar, u_bar += the gradient of lambda^T tau(q, qd, u) for the actuator, damping and
// limit forces of joint_forces() (parameters held fixed).
inline void joint_forces_adjoint(const Model& model, const double* params, const double* q,
                                 const double* u, const double* lambda, double* q_bar,
                                 double* qd_bar, double* u_bar) {
  const ModelOptions& options = model.options();
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const Body& body = model.body(i);
    const std::size_t nv = Model::joint_nv(body.joint);
    const std::size_t vi = model.v_index(i);
    const double damping = params[PL::kPerBody * i + PL::kDamping];
    for (std::size_t k = 0; k < nv; ++k) qd_bar[vi + k] -= damping * lambda[vi + k];
    if (body.limited && nv == 1) {
      const double position = q[model.q_index(i)];
      if (position < body.lower || position > body.upper) {
        q_bar[model.q_index(i)] -= options.limit_stiffness * lambda[vi];
        qd_bar[vi] -= options.limit_damping * lambda[vi];
      }
    }
  }
  for (std::size_t a = 0; a < model.nu(); ++a) {
    const Actuator& act = model.actuators()[a];
    const bool clamped = act.ctrl_limited && (u[a] < act.ctrl_lower || u[a] > act.ctrl_upper);
    const std::size_t qi = model.q_index(static_cast<std::size_t>(act.body));
    const std::size_t vi = model.v_index(static_cast<std::size_t>(act.body));
    const double l = lambda[vi];
    switch (act.type) {
      case ActuatorType::kTorque:
        if (!clamped && u_bar != nullptr) u_bar[a] += act.gear * l;
        break;
      case ActuatorType::kPosition:
        if (!clamped && u_bar != nullptr) u_bar[a] += act.kp * l;
        q_bar[qi] -= act.kp * l;
        qd_bar[vi] -= act.kv * l;
        break;
      case ActuatorType::kVelocity:
        if (!clamped && u_bar != nullptr) u_bar[a] += act.kv * l;
        qd_bar[vi] -= act.kv * l;
        break;
    }
  }
}

}  // namespace maya::multibody::detail
