// The multibody algorithms, templated on the scalar (double, Dual<N> for exact Jacobians, Rev for
// adjoints): joint kinematics, the articulated-body algorithm (forward dynamics), recursive
// Newton-Euler (inverse dynamics) and the composite-rigid-body mass matrix.
// Featherstone, "Rigid Body Dynamics Algorithms" (2008): tables 5.1 (RNEA), 6.2 (CRBA), 7.1 (ABA).
// Bodies are ordered parents first, so every pass is one loop over the bodies.
#pragma once

#include <cstddef>
#include <vector>

#include "maya/multibody/model.hpp"
#include "multibody/spatial.hpp"

namespace maya::multibody::detail {

using PL = ParameterLayout;

template <class S>
struct TreeScratch {                            // the per-body arrays of one evaluation
  std::vector<Transform<S>> X;                  // parent frame -> body frame
  std::vector<Transform<S>> X_world;            // world -> body frame
  std::vector<std::array<Vec6<S>, 6>> columns;  // motion subspace S, one column per joint dof
  std::vector<Vec6<S>> velocity, bias, joint_bias, acceleration, force, external;
  std::vector<Mat6<S>> inertia, articulated;  // inertia: rigid, body_inertia() (mul_rigid)
  std::vector<std::array<Vec6<S>, 6>> U;
  std::vector<std::array<S, 36>> D_inverse;
  std::vector<std::array<S, 6>> u;
  std::vector<S> tau;

  void resize(std::size_t bodies, std::size_t nv) {
    X.resize(bodies);
    X_world.resize(bodies);
    columns.resize(bodies);
    velocity.resize(bodies);
    bias.resize(bodies);
    joint_bias.resize(bodies);
    acceleration.resize(bodies);
    force.resize(bodies);
    external.resize(bodies);
    inertia.resize(bodies);
    articulated.resize(bodies);
    U.resize(bodies);
    D_inverse.resize(bodies);
    u.resize(bodies);
    tau.resize(nv);
  }
};

template <class S>
Vec6<S> zero6() {
  return {S(0.0), S(0.0), S(0.0), S(0.0), S(0.0), S(0.0)};
}

// Inverts a symmetric positive definite n x n matrix (n <= 6) in place, by Gauss-Jordan without
// pivoting (stable for such matrices).
template <class S>
void invert_spd(std::array<S, 36>& a, int n) {
  std::array<S, 36> inv;
  for (int i = 0; i < n * n; ++i) inv[i] = S(0.0);
  for (int i = 0; i < n; ++i) inv[n * i + i] = S(1.0);
  for (int k = 0; k < n; ++k) {
    const S pivot_inverse = 1.0 / a[n * k + k];
    for (int j = 0; j < n; ++j) {
      a[n * k + j] *= pivot_inverse;
      inv[n * k + j] *= pivot_inverse;
    }
    for (int i = 0; i < n; ++i) {
      if (i == k) continue;
      const S factor = a[n * i + k];
      for (int j = 0; j < n; ++j) {
        a[n * i + j] -= factor * a[n * k + j];
        inv[n * i + j] -= factor * inv[n * k + j];
      }
    }
  }
  a = inv;
}

inline Mat3<double> rotation_of(const Quaternion& q) {
  return quat_to_matrix(Quat<double>{q[0], q[1], q[2], q[3]});
}

// Joint transform X_J, motion subspace and the joint's velocity-product term c_J = (dS/dt) qdot.
template <class S>
void joint_kinematics(const Body& body, const S* q, const S* qd, Transform<S>& XJ,
                      std::array<Vec6<S>, 6>& columns, Vec6<S>& c_J) {
  c_J = zero6<S>();
  const Vec3<double>& a = body.axis;
  switch (body.joint) {
    case JointType::kFixed: XJ = Transform<S>{}; break;
    case JointType::kRevolute:
      XJ = frame_transform(axis_angle(a, q[0]), Vec3<S>{S(0.0), S(0.0), S(0.0)});
      columns[0] = {S(a[0]), S(a[1]), S(a[2]), S(0.0), S(0.0), S(0.0)};
      break;
    case JointType::kPrismatic:
      XJ = Transform<S>{identity3<S>(), Vec3<S>{a[0] * q[0], a[1] * q[0], a[2] * q[0]}};
      columns[0] = {S(0.0), S(0.0), S(0.0), S(a[0]), S(a[1]), S(a[2])};
      break;
    case JointType::kSpherical:
      XJ = frame_transform(quat_to_matrix(Quat<S>{q[0], q[1], q[2], q[3]}),
                           Vec3<S>{S(0.0), S(0.0), S(0.0)});
      for (int k = 0; k < 3; ++k) {
        columns[k] = zero6<S>();
        columns[k][k] = S(1.0);
      }
      break;
    case JointType::kFree: {
      // qdot = [v (parent frame), w (body frame)]; the body's velocity is [w; R^T v], so
      // S = [0 1; R^T 0] and c_J = [0; d(R^T)/dt v] = [0; -w x R^T v].
      const Mat3<S> R = quat_to_matrix(Quat<S>{q[3], q[4], q[5], q[6]});
      XJ = frame_transform(R, Vec3<S>{q[0], q[1], q[2]});
      for (int k = 0; k < 3; ++k) {
        columns[k] = {S(0.0), S(0.0), S(0.0), R[3 * k], R[3 * k + 1], R[3 * k + 2]};
        columns[k + 3] = zero6<S>();
        columns[k + 3][k] = S(1.0);
      }
      if (qd != nullptr) {
        const Vec3<S> w{qd[3], qd[4], qd[5]};
        const Vec3<S> v_body = mul_transpose(R, Vec3<S>{qd[0], qd[1], qd[2]});
        const Vec3<S> c = cross(w, v_body);
        c_J = {S(0.0), S(0.0), S(0.0), -c[0], -c[1], -c[2]};
      }
      break;
    }
  }
}

// Whether the body's joint frame has the orientation of its parent (the identity quaternion).
inline bool joint_unrotated(const Body& body) {
  const Quaternion& o = body.joint_orientation;
  return o[0] == 1.0 && o[1] == 0.0 && o[2] == 0.0 && o[3] == 0.0;
}

// 0, 1 or 2 for a hinge about that coordinate axis in an unrotated joint frame: the rotation of
// its transform from the parent then turns only about that axis (add_inertia_to_parent()).
// Otherwise -1.
inline int hinge_axis(const Body& body) {
  if (body.joint != JointType::kRevolute || !joint_unrotated(body)) return -1;
  const Vec3<double>& a = body.axis;
  if (a[1] == 0.0 && a[2] == 0.0) return 0;
  if (a[0] == 0.0 && a[2] == 0.0) return 1;
  if (a[0] == 0.0 && a[1] == 0.0) return 2;
  return -1;
}

// The spatial inertia of a body from its parameters `p` (ParameterLayout, one body's block).
template <class S>
void spatial_inertia(const S* p, Mat6<S>& out) {
  const Mat3<S> Ic{p[PL::kInertia],     p[PL::kInertia + 3], p[PL::kInertia + 4],
                   p[PL::kInertia + 3], p[PL::kInertia + 1], p[PL::kInertia + 5],
                   p[PL::kInertia + 4], p[PL::kInertia + 5], p[PL::kInertia + 2]};
  body_inertia(p[PL::kMass], Vec3<S>{p[PL::kCom], p[PL::kCom + 1], p[PL::kCom + 2]}, Ic, out);
}

// Transforms, subspaces, body velocities, velocity-product accelerations and spatial inertias.
// `v` may be null (every velocity zero). The world transforms are only needed by contact, poses
// and energies; `world_frames = false` skips them.
template <class S>
void kinematics(const Model& model, const S* params, const S* q, const S* v, TreeScratch<S>& ws,
                bool world_frames = true) {
  const std::size_t n = model.num_bodies();
  ws.resize(n, model.nv());
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    const S* p = params + PL::kPerBody * i;
    const std::size_t nv = Model::joint_nv(body.joint);
    const S* qd = v != nullptr ? v + model.v_index(i) : nullptr;
    Transform<S> XJ;
    joint_kinematics(body, q + model.q_index(i), qd, XJ, ws.columns[i], ws.joint_bias[i]);
    const Vec3<S> offset{p[PL::kJointPosition], p[PL::kJointPosition + 1],
                         p[PL::kJointPosition + 2]};
    if (joint_unrotated(body)) {
      ws.X[i] = Transform<S>{XJ.E, add(offset, XJ.r)};  // compose() with the identity rotation
    } else {
      ws.X[i] = compose(
          XJ, Transform<S>{transpose(cast3<S>(rotation_of(body.joint_orientation))), offset});
    }
    Vec6<S> vJ = zero6<S>();
    if (qd != nullptr) {
      for (std::size_t k = 0; k < nv; ++k) {
        for (int r = 0; r < 6; ++r) vJ[r] += ws.columns[i][k][r] * qd[k];
      }
    }
    const int parent = body.parent;
    if (parent < 0) {
      if (world_frames) ws.X_world[i] = ws.X[i];
      ws.velocity[i] = vJ;
    } else {
      if (world_frames) ws.X_world[i] = compose(ws.X[i], ws.X_world[parent]);
      ws.velocity[i] = add6(apply_motion(ws.X[i], ws.velocity[parent]), vJ);
    }
    ws.bias[i] = add6(ws.joint_bias[i], cross_motion(ws.velocity[i], vJ));
    spatial_inertia(p, ws.inertia[i]);
    ws.external[i] = zero6<S>();
  }
}

// The spatial acceleration of the world frame: -gravity (Featherstone's trick: gravity as an
// upward acceleration of the base).
template <class S>
Vec6<S> base_acceleration(const Model& model) {
  const Vec3<double>& g = model.options().gravity;
  return {S(0.0), S(0.0), S(0.0), S(-g[0]), S(-g[1]), S(-g[2])};
}

// Implicit joint damping: dt * damping added to the mass matrix's diagonal (with the damping force
// -damping qdot kept explicit, (M + dt D) qdd = tau is semi-implicit Euler with the damping taken
// at the new velocity, as MuJoCo's Euler integrator does). Zero when `params` is null.
template <class S>
struct ImplicitDamping {
  const S* params = nullptr;
  double dt = 0.0;
  [[nodiscard]] S at(std::size_t body) const {
    return params == nullptr ? S(0.0) : dt * params[PL::kPerBody * body + PL::kDamping];
  }
};

// Articulated-body algorithm after kinematics(): qdd = FD(q, qdot, tau, external forces).
// A one-dof joint (hinge, slide: most of a robot) takes the scalar path: U = IA s is one column,
// D a number, and IA - U U^T / D is formed on its upper triangle.
template <class S>
void articulated_body(const Model& model, const S* tau, S* qdd, TreeScratch<S>& ws,
                      ImplicitDamping<S> implicit = {}) {
  const std::size_t n = model.num_bodies();
  for (std::size_t i = 0; i < n; ++i) {
    ws.articulated[i] = ws.inertia[i];
    ws.force[i] =
        sub6(cross_force(ws.velocity[i], mul_rigid(ws.inertia[i], ws.velocity[i])), ws.external[i]);
  }
  for (std::size_t i = n; i-- > 0;) {
    const Body& body = model.body(i);
    const int nv = static_cast<int>(Model::joint_nv(body.joint));
    const S* tau_i = tau + model.v_index(i);
    auto& U = ws.U[i];
    auto& D = ws.D_inverse[i];
    auto& u = ws.u[i];
    const Mat6<S>& IA = ws.articulated[i];
    const int parent = body.parent;
    if (nv == 1) {
      // s is [axis; 0] (hinge) or [0; axis] (slide): three of its entries are zero.
      const Vec6<S>& s = ws.columns[i][0];
      const int o = body.joint == JointType::kRevolute ? 0 : 3;
      for (int r = 0; r < 6; ++r) {
        U[0][r] =
            IA[6 * r + o] * s[o] + IA[6 * r + o + 1] * s[o + 1] + IA[6 * r + o + 2] * s[o + 2];
      }
      D[0] = 1.0 / (s[o] * U[0][o] + s[o + 1] * U[0][o + 1] + s[o + 2] * U[0][o + 2] +
                    (body.armature + implicit.at(i)));
      u[0] = tau_i[0] - (s[o] * ws.force[i][o] + s[o + 1] * ws.force[i][o + 1] +
                         s[o + 2] * ws.force[i][o + 2]);
      if (parent < 0) continue;
      // Ia = IA - U U^T / D, pa = pA + Ia c + U u / D.
      Vec6<S> UD;
      for (int r = 0; r < 6; ++r) UD[r] = U[0][r] * D[0];
      Mat6<S> Ia;
      for (int r = 0; r < 6; ++r) {
        for (int c = r; c < 6; ++c) {
          Ia[6 * r + c] = IA[6 * r + c] - UD[r] * U[0][c];
          Ia[6 * c + r] = Ia[6 * r + c];
        }
      }
      Vec6<S> pa = add6(ws.force[i], mul6(Ia, ws.bias[i]));
      const S Du = D[0] * u[0];
      for (int r = 0; r < 6; ++r) pa[r] += U[0][r] * Du;
      add_inertia_to_parent(ws.X[i], Ia, ws.articulated[parent], hinge_axis(body));
      ws.force[parent] = add6(ws.force[parent], inverse_force(ws.X[i], pa));
      continue;
    }
    for (int k = 0; k < nv; ++k) U[k] = mul6(IA, ws.columns[i][k]);
    for (int k = 0; k < nv; ++k) {
      for (int l = 0; l < nv; ++l) D[nv * k + l] = dot6(ws.columns[i][k], U[l]);
      D[nv * k + k] += body.armature + implicit.at(i);
      u[k] = tau_i[k] - dot6(ws.columns[i][k], ws.force[i]);
    }
    if (nv > 0) invert_spd(D, nv);
    if (parent < 0) continue;
    // Ia = IA - U D^-1 U^T, pa = pA + Ia c + U D^-1 u.
    Mat6<S> Ia = IA;
    std::array<Vec6<S>, 6> UD;  // U D^-1
    for (int k = 0; k < nv; ++k) {
      UD[k] = zero6<S>();
      for (int l = 0; l < nv; ++l) {
        for (int r = 0; r < 6; ++r) UD[k][r] += U[l][r] * D[nv * l + k];
      }
    }
    for (int k = 0; k < nv; ++k) {
      for (int r = 0; r < 6; ++r) {
        for (int c = 0; c < 6; ++c) Ia[6 * r + c] -= UD[k][r] * U[k][c];
      }
    }
    Vec6<S> pa = add6(ws.force[i], mul6(Ia, ws.bias[i]));
    for (int k = 0; k < nv; ++k) {
      for (int r = 0; r < 6; ++r) pa[r] += UD[k][r] * u[k];
    }
    add_inertia_to_parent(ws.X[i], Ia, ws.articulated[parent]);
    ws.force[parent] = add6(ws.force[parent], inverse_force(ws.X[i], pa));
  }
  const Vec6<S> a0 = base_acceleration<S>(model);
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    const int nv = static_cast<int>(Model::joint_nv(body.joint));
    const int parent = body.parent;
    const Vec6<S> a_parent = parent < 0 ? a0 : ws.acceleration[parent];
    Vec6<S> a = add6(apply_motion(ws.X[i], a_parent), ws.bias[i]);
    S* qdd_i = qdd + model.v_index(i);
    if (nv == 1) {
      const S s = ws.D_inverse[i][0] * (ws.u[i][0] - dot6(ws.U[i][0], a));
      qdd_i[0] = s;
      for (int r = 0; r < 6; ++r) a[r] += ws.columns[i][0][r] * s;
      ws.acceleration[i] = a;
      continue;
    }
    std::array<S, 6> rhs;
    for (int k = 0; k < nv; ++k) rhs[k] = ws.u[i][k] - dot6(ws.U[i][k], a);
    for (int k = 0; k < nv; ++k) {
      S s = S(0.0);
      for (int l = 0; l < nv; ++l) s += ws.D_inverse[i][nv * k + l] * rhs[l];
      qdd_i[k] = s;
      for (int r = 0; r < 6; ++r) a[r] += ws.columns[i][k][r] * s;
    }
    ws.acceleration[i] = a;
  }
}

// out = M(q)^-1 g after articulated_body() on the same configuration, which left the articulated
// inertias, U and D^-1 in `ws`: ABA's second and third passes with every velocity, gravity and
// external term zero (ABA is affine in tau, and its linear part is M^-1). O(n).
inline void apply_inverse_mass(const Model& model, TreeScratch<double>& ws, const double* g,
                               double* out) {
  const std::size_t n = model.num_bodies();
  for (std::size_t i = 0; i < n; ++i) ws.force[i] = zero6<double>();
  for (std::size_t i = n; i-- > 0;) {
    const Body& body = model.body(i);
    const int nv = static_cast<int>(Model::joint_nv(body.joint));
    const auto& U = ws.U[i];
    const auto& D = ws.D_inverse[i];
    auto& u = ws.u[i];
    const std::size_t vi = model.v_index(i);
    if (nv == 1) {
      u[0] = g[vi] - dot6(ws.columns[i][0], ws.force[i]);
      if (body.parent < 0) continue;
      const double Du = D[0] * u[0];
      Vec6<double> pa;
      for (int r = 0; r < 6; ++r) pa[r] = ws.force[i][r] + U[0][r] * Du;
      ws.force[body.parent] = add6(ws.force[body.parent], inverse_force(ws.X[i], pa));
      continue;
    }
    for (int k = 0; k < nv; ++k) u[k] = g[vi + k] - dot6(ws.columns[i][k], ws.force[i]);
    if (body.parent < 0) continue;
    Vec6<double> pa = ws.force[i];
    for (int k = 0; k < nv; ++k) {
      double Du = 0.0;  // (D^-1 u)_k
      for (int l = 0; l < nv; ++l) Du += D[nv * k + l] * u[l];
      for (int r = 0; r < 6; ++r) pa[r] += U[k][r] * Du;
    }
    ws.force[body.parent] = add6(ws.force[body.parent], inverse_force(ws.X[i], pa));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    const int nv = static_cast<int>(Model::joint_nv(body.joint));
    Vec6<double> a =
        body.parent < 0 ? zero6<double>() : apply_motion(ws.X[i], ws.acceleration[body.parent]);
    const std::size_t vi = model.v_index(i);
    if (nv == 1) {
      const double s = ws.D_inverse[i][0] * (ws.u[i][0] - dot6(ws.U[i][0], a));
      out[vi] = s;
      for (int r = 0; r < 6; ++r) a[r] += ws.columns[i][0][r] * s;
      ws.acceleration[i] = a;
      continue;
    }
    std::array<double, 6> rhs;
    for (int k = 0; k < nv; ++k) rhs[k] = ws.u[i][k] - dot6(ws.U[i][k], a);
    for (int k = 0; k < nv; ++k) {
      double s = 0.0;
      for (int l = 0; l < nv; ++l) s += ws.D_inverse[i][nv * k + l] * rhs[l];
      out[vi + k] = s;
      for (int r = 0; r < 6; ++r) a[r] += ws.columns[i][k][r] * s;
    }
    ws.acceleration[i] = a;
  }
}

// Recursive Newton-Euler after kinematics(): tau = ID(q, qdot, qdd, external forces), with the
// armature's armature * qdd included.
template <class S>
void newton_euler(const Model& model, const S* qdd, S* tau, TreeScratch<S>& ws,
                  ImplicitDamping<S> implicit = {}) {
  const std::size_t n = model.num_bodies();
  const Vec6<S> a0 = base_acceleration<S>(model);
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    const std::size_t nv = Model::joint_nv(body.joint);
    const int parent = body.parent;
    Vec6<S> a = add6(apply_motion(ws.X[i], parent < 0 ? a0 : ws.acceleration[parent]), ws.bias[i]);
    const S* qdd_i = qdd + model.v_index(i);
    for (std::size_t k = 0; k < nv; ++k) {
      for (int r = 0; r < 6; ++r) a[r] += ws.columns[i][k][r] * qdd_i[k];
    }
    ws.acceleration[i] = a;
    ws.force[i] = sub6(add6(mul_rigid(ws.inertia[i], a),
                            cross_force(ws.velocity[i], mul_rigid(ws.inertia[i], ws.velocity[i]))),
                       ws.external[i]);
  }
  for (std::size_t i = n; i-- > 0;) {
    const Body& body = model.body(i);
    const std::size_t nv = Model::joint_nv(body.joint);
    const std::size_t vi = model.v_index(i);
    for (std::size_t k = 0; k < nv; ++k) {
      tau[vi + k] =
          dot6(ws.columns[i][k], ws.force[i]) + (body.armature + implicit.at(i)) * qdd[vi + k];
    }
    if (body.parent >= 0) {
      ws.force[body.parent] = add6(ws.force[body.parent], inverse_force(ws.X[i], ws.force[i]));
    }
  }
}

// Composite-rigid-body algorithm after kinematics(): the joint-space mass matrix M [nv, nv],
// row-major, armature on its diagonal.
template <class S>
void composite_rigid_body(const Model& model, S* M, TreeScratch<S>& ws,
                          ImplicitDamping<S> implicit = {}) {
  const std::size_t n = model.num_bodies();
  const std::size_t nv_total = model.nv();
  for (std::size_t i = 0; i < nv_total * nv_total; ++i) M[i] = S(0.0);
  for (std::size_t i = 0; i < n; ++i) ws.articulated[i] = ws.inertia[i];  // composite inertias
  for (std::size_t i = n; i-- > 0;) {
    const Body& body = model.body(i);
    if (body.parent >= 0)
      add_inertia_to_parent(ws.X[i], ws.articulated[i], ws.articulated[body.parent]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Body& body = model.body(i);
    const std::size_t nv = Model::joint_nv(body.joint);
    const std::size_t vi = model.v_index(i);
    for (std::size_t k = 0; k < nv; ++k) {
      Vec6<S> F = mul6(ws.articulated[i], ws.columns[i][k]);
      for (std::size_t l = 0; l < nv; ++l)
        M[(vi + l) * nv_total + vi + k] = dot6(ws.columns[i][l], F);
      M[(vi + k) * nv_total + vi + k] += body.armature + implicit.at(i);
      int j = static_cast<int>(i);
      while (model.body(j).parent >= 0) {
        F = inverse_force(ws.X[j], F);
        j = model.body(j).parent;
        const std::size_t nvj = Model::joint_nv(model.body(j).joint);
        const std::size_t vj = model.v_index(j);
        for (std::size_t l = 0; l < nvj; ++l) {
          const S value = dot6(ws.columns[j][l], F);
          M[(vj + l) * nv_total + vi + k] = value;
          M[(vi + k) * nv_total + vj + l] = value;
        }
      }
    }
  }
}

// In place: A [n, n] symmetric positive definite becomes its Cholesky factor L (lower), and b [n]
// becomes A^-1 b.
template <class S>
void cholesky_solve(S* A, S* b, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    S d = A[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    const S l = sqrt(d);
    A[j * n + j] = l;
    for (std::size_t i = j + 1; i < n; ++i) {
      S s = A[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / l;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    S s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    S s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
}

}  // namespace maya::multibody::detail
