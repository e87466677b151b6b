// The hard-contact step of a tree, templated on the scalar (double to step, Rev for the adjoint):
// the contact problem in the coordinates where the mass matrix is the identity, and the step's
// outputs from the solver's answer. Velocity-level time stepping (Stewart-Trinkle, Anitescu):
//   M(q) v+ = M v + dt (tau - C(q, v)) + J_n^T lambda_n + J_t^T lambda_t + J_b^T lambda_b,
//   q+ = q (+) dt v+,
// with M = L L^T (Cholesky), w = L^T v+: unit masses, momentum L^-1 p, Jacobians J L^-T, which is
// the diagonal-mass problem maya::contact solves (docs/multibody.md).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "multibody/body_contact.hpp"
#include "multibody/forces.hpp"
#include "multibody/integration.hpp"

namespace maya::multibody::detail {

// Below this free slip speed (m/s) a contact's tangent basis is fixed by the plane's normal
// instead of following the slip (the friction cone has no preferred direction at rest).
inline constexpr double kSlipBasisSpeed = 1e-6;

// One contact of a step: `points` indexes the rows of the step's impulse output, a point of
// Model::contact_points() (against its plane) below P, a pair of Model::contact_pairs() (P + its
// index) above; `slots` the pair's contact (PairContact::slot; 0 for planes); `fixed_basis` whether
// its tangent t is fixed (true) or aligned with the contact's free slip velocity.
struct HardContactSelection {
  std::vector<int> points;
  std::vector<int> slots;
  std::vector<char> fixed_basis;
};

// Rows of the impulse output: the contact points, then the pairs.
inline std::size_t contact_rows(const Model& model) {
  return model.contact_points().size() + model.contact_pairs().size();
}

// Where a contact is: its signed distance phi (positive apart), world point, unit normal from
// body_a to body_b (a plane's normal; body_a -1 is the world).
template <class S>
struct ContactGeometry {
  S distance;
  Vec3<S> point;
  Vec3<S> normal;
  int body_a = -1;
  int body_b = 0;
};

// The step's problem in w = L^T v+ coordinates, and what the outputs need of its construction.
template <class S>
struct HardContactData {
  TreeScratch<S> ws;
  std::vector<S> q, v, tau, bias, qdd_zero, L, momentum, v_free, jacobian, jacobian_a, row;
  std::vector<S> normal_rows, tangent_rows, bitangent_rows;  // [nc, nv], already J L^-T
  std::vector<S> offsets;                                    // [nc] b_n
  std::vector<Vec3<S>> normal, tangent, bitangent;           // world directions per contact
  std::vector<S> distance;                                   // [nc] phi (negative: penetration)
  S friction = S(0.0);
};

// A tangent perpendicular to a unit normal, from the world axis least aligned with it (chosen on
// the values; a pair's normal moves with the bodies and the tangent with it).
template <class S>
Vec3<S> fixed_tangent(const Vec3<S>& n) {
  int axis = 0;
  for (int k = 1; k < 3; ++k) {
    if (std::abs(value_of(n[k])) < std::abs(value_of(n[axis]))) axis = k;
  }
  Vec3<S> e{S(0.0), S(0.0), S(0.0)};
  e[axis] = S(1.0);
  const Vec3<S> t = sub(e, scale(dot(n, e), n));
  return scale(1.0 / sqrt(dot(t, t)), t);
}

// In place: A [n, n] symmetric positive definite becomes L (lower). False when a pivot is not
// positive (the caller names the cause).
template <class S>
[[nodiscard]] bool cholesky_factor(S* A, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    S d = A[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    if (!(value_of(d) > 0.0) || !std::isfinite(value_of(d))) return false;
    const S l = sqrt(d);
    A[j * n + j] = l;
    for (std::size_t i = j + 1; i < n; ++i) {
      S s = A[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / l;
    }
  }
  return true;
}

// b := L^-1 b (forward substitution).
template <class S>
void solve_lower(const S* L, S* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    S s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
}

// b := L^-T b (back substitution).
template <class S>
void solve_lower_transposed(const S* L, S* b, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    S s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
}

// World velocity Jacobian [3, nv] (row-major) of a point fixed to `body`, at world position p,
// after kinematics(): each joint dof of the body and its ancestors moves p by E_a^T (w x p_a + v)
// for its subspace column (w; v) in frame a, p_a = E_a (p - r_a).
template <class S>
void point_jacobian(const Model& model, const TreeScratch<S>& ws, int body, const Vec3<S>& p,
                    S* jacobian) {
  const std::size_t nv_total = model.nv();
  for (std::size_t k = 0; k < 3 * nv_total; ++k) jacobian[k] = S(0.0);
  for (int a = body; a >= 0; a = model.body(static_cast<std::size_t>(a)).parent) {
    const auto ai = static_cast<std::size_t>(a);
    const Transform<S>& X = ws.X_world[ai];
    const Vec3<S> p_a = mul(X.E, sub(p, X.r));
    const std::size_t nv = Model::joint_nv(model.body(ai).joint);
    for (std::size_t k = 0; k < nv; ++k) {
      const Vec6<S>& c = ws.columns[ai][k];
      const Vec3<S> local = add(cross(Vec3<S>{c[0], c[1], c[2]}, p_a), Vec3<S>{c[3], c[4], c[5]});
      const Vec3<S> world = mul_transpose(X.E, local);
      const std::size_t column = model.v_index(ai) + k;
      for (int r = 0; r < 3; ++r)
        jacobian[static_cast<std::size_t>(r) * nv_total + column] = world[r];
    }
  }
}

// The signed distance of each contact point to its plane (positive: apart) and its world
// position, after kinematics(). The contact acts at the shape's deepest point.
template <class S>
void point_distance(const Model& model, const TreeScratch<S>& ws, int index, S& distance,
                    Vec3<S>& contact_world) {
  const ContactPoint& point = model.contact_points()[static_cast<std::size_t>(index)];
  const Plane& plane = model.options().planes[static_cast<std::size_t>(point.plane)];
  const Transform<S>& X = ws.X_world[static_cast<std::size_t>(point.body)];
  const Vec3<S> local{S(point.position[0]), S(point.position[1]), S(point.position[2])};
  const Vec3<S> world = add(X.r, mul_transpose(X.E, local));
  const Vec3<S> n{S(plane.normal[0]), S(plane.normal[1]), S(plane.normal[2])};
  distance = dot(n, world) - plane.offset - point.radius;
  contact_world = sub(world, scale(point.radius, n));
}

// A pair's contact as a contact of the step.
template <class S>
ContactGeometry<S> pair_geometry(const ContactPair& pair, const PairContact<S>& contact) {
  return {-contact.depth, contact.point, contact.normal, pair.body_a, pair.body_b};
}

// The geometry of contact `index` (a selection's entry) after kinematics(): a contact point
// against its plane, or slot `slot` of a pair, evaluated however far apart. False when the pair's
// contact is degenerate (coincident centres).
template <class S>
[[nodiscard]] bool contact_geometry(const Model& model, const TreeScratch<S>& ws, int index,
                                    int slot, ContactGeometry<S>& g) {
  const std::size_t num_points = model.contact_points().size();
  const auto i = static_cast<std::size_t>(index);
  if (i < num_points) {
    const ContactPoint& point = model.contact_points()[i];
    const Plane& plane = model.options().planes[static_cast<std::size_t>(point.plane)];
    point_distance(model, ws, index, g.distance, g.point);
    g.normal = Vec3<S>{S(plane.normal[0]), S(plane.normal[1]), S(plane.normal[2])};
    g.body_a = -1;
    g.body_b = point.body;
    return true;
  }
  const ContactPair& pair = model.contact_pairs()[i - num_points];
  std::array<PairContact<S>, 16> contacts;
  const std::size_t count =
      pair_contacts(pair, ws.X_world[static_cast<std::size_t>(pair.body_a)],
                    ws.X_world[static_cast<std::size_t>(pair.body_b)], contacts, kAnyDistance);
  for (std::size_t c = 0; c < count; ++c) {
    if (contacts[c].slot == slot) {
      g = pair_geometry(pair, contacts[c]);
      return true;
    }
  }
  return false;
}

// The world velocity Jacobian [3, nv] of the contact's relative velocity, v_b(p) - v_a(p) at its
// point (`other` [3 nv] is scratch).
template <class S>
void contact_jacobian(const Model& model, const TreeScratch<S>& ws, const ContactGeometry<S>& g,
                      S* jacobian, S* other) {
  point_jacobian(model, ws, g.body_b, g.point, jacobian);
  if (g.body_a < 0) return;
  point_jacobian(model, ws, g.body_a, g.point, other);
  for (std::size_t k = 0; k < 3 * model.nv(); ++k) jacobian[k] -= other[k];
}

// Stage 1a: the tree's part of the problem at (x, u, p): kinematics, L, the momentum L^-1 p and
// the free velocity M^-1 p. q and v are taken from x with quaternions normalized. Returns false
// when M(q) is not positive definite.
template <class S>
[[nodiscard]] bool build_tree(const Model& model, const S* params, const S* x, const S* u,
                              double dt, HardContactData<S>& d) {
  const std::size_t nq = model.nq(), nv = model.nv();
  d.q.assign(x, x + nq);
  d.v.assign(x + nq, x + nq + nv);
  normalize_quaternions(model, d.q.data());
  kinematics(model, params, d.q.data(), d.v.data(), d.ws, true);
  d.tau.resize(nv);
  joint_forces(model, params, d.q.data(), d.v.data(), u, d.tau.data());
  d.L.resize(nv * nv);
  composite_rigid_body(model, d.L.data(), d.ws,
                       ImplicitDamping<S>{model.options().implicit_damping ? params : nullptr, dt});
  d.qdd_zero.assign(nv, S(0.0));
  d.bias.resize(nv);
  newton_euler(model, d.qdd_zero.data(), d.bias.data(), d.ws);
  // p = M v + dt (tau - C): the momentum the contacts act on (M with dt D under implicit damping).
  d.momentum.resize(nv);
  for (std::size_t i = 0; i < nv; ++i) {
    S s = dt * (d.tau[i] - d.bias[i]);
    for (std::size_t j = 0; j < nv; ++j) s += d.L[i * nv + j] * d.v[j];
    d.momentum[i] = s;
  }
  if (!cholesky_factor(d.L.data(), nv)) return false;
  solve_lower(d.L.data(), d.momentum.data(), nv);  // L^-1 p
  d.v_free = d.momentum;
  solve_lower_transposed(d.L.data(), d.v_free.data(), nv);  // M^-1 p: v+ without contact
  d.jacobian.resize(3 * nv);
  d.jacobian_a.resize(3 * nv);
  d.row.resize(nv);
  return true;
}

// Stage 1b, after build_tree(): the rows J L^-T, offsets and friction of the contacts of
// `selection`.
template <class S>
void build_contacts(const Model& model, const S* params, double dt,
                    const HardContactSelection& selection, HardContactData<S>& d) {
  const std::size_t nv = model.nv();
  const std::size_t nc = selection.points.size();
  const HardContactSettings& options = model.options().hard_contact;
  d.friction = params[PL::kPerBody * model.num_bodies() + PL::kFriction];
  d.normal_rows.assign(nc * nv, S(0.0));
  d.tangent_rows.assign(nc * nv, S(0.0));
  d.bitangent_rows.assign(nc * nv, S(0.0));
  d.offsets.resize(nc);
  d.distance.resize(nc);
  d.normal.resize(nc);
  d.tangent.resize(nc);
  d.bitangent.resize(nc);
  for (std::size_t c = 0; c < nc; ++c) {
    ContactGeometry<S> g;
    if (!contact_geometry(model, d.ws, selection.points[c], selection.slots[c], g)) {
      throw ValueError("multibody::hard_contact_step: contact " + std::to_string(c) +
                       " of the step's set has no geometry (two shapes' centres coincide)");
    }
    d.distance[c] = g.distance;
    contact_jacobian(model, d.ws, g, d.jacobian.data(), d.jacobian_a.data());
    d.normal[c] = g.normal;
    if (selection.fixed_basis[c] != 0) {
      d.tangent[c] = fixed_tangent(d.normal[c]);
    } else {
      // t along the point's slip without contact forces: the friction of a sliding contact then
      // acts along -t alone, exactly against the slip, as the circular cone says.
      Vec3<S> slip{S(0.0), S(0.0), S(0.0)};
      for (int r = 0; r < 3; ++r) {
        for (std::size_t j = 0; j < nv; ++j) slip[r] += d.jacobian[r * nv + j] * d.v_free[j];
      }
      slip = sub(slip, scale(dot(d.normal[c], slip), d.normal[c]));
      d.tangent[c] = scale(1.0 / sqrt(dot(slip, slip)), slip);
    }
    d.bitangent[c] = cross(d.normal[c], d.tangent[c]);
    const Vec3<S>* directions[3] = {&d.normal[c], &d.tangent[c], &d.bitangent[c]};
    std::vector<S>* rows[3] = {&d.normal_rows, &d.tangent_rows, &d.bitangent_rows};
    for (int k = 0; k < 3; ++k) {
      const Vec3<S>& dir = *directions[k];
      for (std::size_t j = 0; j < nv; ++j) {
        d.row[j] =
            dir[0] * d.jacobian[j] + dir[1] * d.jacobian[nv + j] + dir[2] * d.jacobian[2 * nv + j];
      }
      solve_lower(d.L.data(), d.row.data(), nv);  // (J L^-T)^T = L^-1 J^T
      for (std::size_t j = 0; j < nv; ++j) (*rows[k])[c * nv + j] = d.row[j];
    }
    // J_n v+ + b_n >= 0: apart by phi, the point may approach by phi in the step, and a
    // penetration up to the slop is pushed out in one (b_n = phi / dt, linear through 0, where
    // resting contacts sit); of a deeper one, the fraction `stabilization` of the excess.
    const S& phi = d.distance[c];
    d.offsets[c] = value_of(phi) >= -options.slop
                       ? phi / dt
                       : (options.stabilization * (phi + options.slop) - options.slop) / dt;
  }
}

// Stage 1: the problem at (x, u, p) for the contacts of `selection`; false when M(q) is not
// positive definite.
template <class S>
[[nodiscard]] bool build_hard_contact(const Model& model, const S* params, const S* x, const S* u,
                                      double dt, const HardContactSelection& selection,
                                      HardContactData<S>& d) {
  if (!build_tree(model, params, x, u, dt, d)) return false;
  build_contacts(model, params, dt, selection, d);
  return true;
}

// Stage 2: the step's outputs from the solver's answer: out [nx + 3 (P + Q)] = (q+, v+, then the
// world impulse on every contact point and on body b of every pair, zero where nothing touched). w [nv] = L^T v+,
// impulses [3 nc] = (lambda_n, lambda_t, lambda_b) per contact.
template <class S>
void finish_hard_contact(const Model& model, HardContactData<S>& d, const S* w, const S* impulses,
                         const HardContactSelection& selection, double dt, S* out) {
  const std::size_t nq = model.nq(), nv = model.nv();
  S* v1 = out + nq;
  for (std::size_t j = 0; j < nv; ++j) v1[j] = w[j];
  solve_lower_transposed(d.L.data(), v1, nv);
  integrate_positions(model, d.q.data(), v1, dt, out);
  S* world = out + nq + nv;
  for (std::size_t k = 0; k < 3 * contact_rows(model); ++k) world[k] = S(0.0);
  for (std::size_t c = 0; c < selection.points.size(); ++c) {
    const S* lambda = impulses + 3 * c;
    S* f = world + 3 * static_cast<std::size_t>(selection.points[c]);
    for (int r = 0; r < 3; ++r) {
      f[r] +=
          lambda[0] * d.normal[c][r] + lambda[1] * d.tangent[c][r] + lambda[2] * d.bitangent[c][r];
    }
  }
}

}  // namespace maya::multibody::detail
