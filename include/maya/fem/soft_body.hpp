// A soft body discretized by linear (P1) finite elements on a Mesh: elastic forces -dE/dx as one
// fused tape node, lumped masses, penalty ground contact, and steps of semi-implicit (explicit)
// or backward (implicit) Euler. Everything that can be fitted (rest positions, Lame parameters,
// density, actuation, the initial state) is a TensorVar input; topology and settings live here.
//
// Per element with vertices x_0..x_D: D_s = [x_1 - x_0, ..., x_D - x_0] (D_m likewise at rest),
// F = D_s B with B = D_m^-1, volume W = det(D_m) / D!, energy W Psi(F) (material.hpp), and the
// forces on its vertices are -W P B^T (columns to x_1..x_D, minus their sum to x_0), P = dPsi/dF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "maya/fem/material.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/rigid_contact.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::fem {

namespace detail {
struct SoftBodyModel;  // soft_body_ops.hpp
struct SoftBodyOps;
}  // namespace detail

// A penalty ground: the half-space x_up < height pushes back on each vertex inside it with
//   f_up = pen (k - c v_up),  pen = height - x_up > 0           (Hunt-Crossley, continuous at 0)
//   f_t  = -mu_f k pen v_t / sqrt(|v_t|^2 + eps^2)                (Coulomb, regularized)
// where v_t are the other velocity components. Implicit steps take f_up at the end of the step
// and the normal load k pen of friction from its start (lagged, as in IPC), which keeps the
// Newton matrix symmetric; explicit steps take both at the start.
struct GroundContact {
  bool enabled = false;
  double height = 0.0;
  std::size_t up_axis = 1;
  double stiffness = 1e4;       // k, N/m per vertex
  double damping = 0.0;         // c, N s/m^2
  double friction = 0.0;        // mu_f
  double slip_velocity = 1e-2;  // eps, m/s
};

struct SoftBodyOptions {
  Energy energy = Energy::kStableNeoHookean;
  Plane plane = Plane::kStrain;   // 2-D meshes: how lame() maps E and nu
  std::vector<double> gravity{};  // D entries; empty: 9.81 m/s^2 down the ground's up axis
  GroundContact ground{};
  std::vector<std::int64_t> pinned{};  // vertices held where the state puts them, velocity 0
  // 2-D rigid bodies the vertices can touch (2-D meshes only); each step then takes their state
  // and the contact material as a RigidObstacles argument (rigid_contact.hpp).
  RigidContactOptions rigid{};
  // Actuation: an element with tension a adds Psi_a = a/2 (|F n|^2 - 1) along this rest-frame
  // direction n (P_a = a F n n^T): a > 0 contracts the fibre, a < 0 extends it. Empty: x axis.
  std::vector<double> fiber{};
};

// Rest geometry per element: B = D_m^-1 [M, D, D] and W = det(D_m) / D! [M].
struct RestShape {
  TensorVar inverse_edges;
  TensorVar volumes;
};

struct BodyParameters {
  RestShape rest;
  Lame lame;
  TensorVar mass;       // [N], lumped_masses()
  TensorVar actuation;  // [], [1] or [M] fibre tension; leave unbound for none
};

enum class LinearSolver : std::uint8_t {
  kAuto,  // LDLT for 2-D meshes and below 1000 free unknowns, conjugate gradient above
  kLdlt,  // Eigen::SimplicialLDLT (sparse Cholesky, AMD ordering): exact, any symmetric matrix
  // Jacobi-preconditioned conjugate gradient; stops at negative curvature, and then Newton uses
  // the projected Hessian and the adjoint solve falls back to LDLT.
  kConjugateGradient,
};

struct NewtonReport {
  std::size_t iterations = 0;
  double residual = 0.0;  // max |r| at the solution, N
};

struct NewtonOptions {
  std::size_t max_iterations = 30;
  // Converged when a full Newton step moves no coordinate by more than tolerance times the
  // mesh's bounding-box diagonal (that step is taken: quadratic convergence leaves roundoff).
  double tolerance = 1e-10;
  LinearSolver solver = LinearSolver::kAuto;
  double cg_tolerance = 1e-12;  // relative residual of each conjugate-gradient solve
  std::size_t cg_max_iterations = 20000;
  NewtonReport* report = nullptr;  // filled by each solve when set
};

// A soft body: a mesh and its options, checked once, plus what is derived from them (the Newton
// matrix's pattern, the rigid shapes). Immutable and cheap to copy (copies share one model); the
// step functions below take it by const reference, and every node they record keeps the model
// alive, so a body may be destroyed before the tape's grad().
class SoftBody {
 public:
  // Throws maya::ValueError naming the element for one of zero or negative volume at the mesh's
  // rest positions, and for bad options (pinned vertex out of range, gravity or fibre of the wrong
  // length, up axis outside [0, D), negative contact constants).
  explicit SoftBody(const Mesh& mesh, SoftBodyOptions options = {});

  [[nodiscard]] const Mesh& mesh() const noexcept;
  [[nodiscard]] std::size_t dim() const noexcept { return mesh().dim(); }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return mesh().num_vertices(); }
  [[nodiscard]] std::size_t num_elements() const noexcept { return mesh().num_elements(); }
  [[nodiscard]] const SoftBodyOptions& options() const noexcept;
  [[nodiscard]] std::span<const double> gravity() const noexcept;
  [[nodiscard]] std::span<const double> fiber() const noexcept;  // unit
  [[nodiscard]] bool is_pinned(std::size_t vertex) const;

  // A [2, N, D] state from positions and velocities [N, D]; and the mesh at rest with velocity 0.
  [[nodiscard]] static Tensor make_state(const Tensor& positions, const Tensor& velocities);
  [[nodiscard]] Tensor rest_state() const;

  // The library's view: the model and the fused ops recorded from it (they hold the model).
  [[nodiscard]] const detail::SoftBodyModel& model() const noexcept;
  [[nodiscard]] const std::shared_ptr<const detail::SoftBodyOps>& ops() const noexcept {
    return ops_;
  }

 private:
  std::shared_ptr<const detail::SoftBodyOps> ops_;
};

// ---- Parameters ----
// One fused node each for B and W; throws maya::ValueError naming the element when a volume
// is zero or negative. The composed twin records the same maps from tensor ops.
[[nodiscard]] RestShape rest_shape(const SoftBody& body, TensorVar rest_positions);
[[nodiscard]] RestShape rest_shape_composed(const SoftBody& body, TensorVar rest_positions);
// m_i = sum over elements e around vertex i of density_e W_e / (D + 1); density [], [1] or [M].
[[nodiscard]] TensorVar lumped_masses(const SoftBody& body, const RestShape& rest,
                                      TensorVar density);
// lame_parameters(E, nu, body.options().plane) (plane strain for 3-D meshes).
[[nodiscard]] Lame lame(const SoftBody& body, TensorVar youngs_modulus, TensorVar poisson_ratio);
// Everything at once, without actuation.
[[nodiscard]] BodyParameters parameters(const SoftBody& body, TensorVar rest_positions,
                                        TensorVar youngs_modulus, TensorVar poisson_ratio,
                                        TensorVar density);

// ---- Forces and energies at positions [N, D] ----
// f = -dE/dx as one fused node with a hand-derived adjoint (to x, B, W, mu, lambda, actuation).
[[nodiscard]] TensorVar elastic_forces(const SoftBody& body, TensorVar positions,
                                       const BodyParameters& params);
// The same forces from tensor ops (gather, batched matmul, index_add): the reference.
[[nodiscard]] TensorVar elastic_forces_composed(const SoftBody& body, TensorVar positions,
                                                const BodyParameters& params);
// E = sum_e W_e Psi(F_e) (0-d), F [M, D, D] and P = dPsi/dF [M, D, D], all from tensor ops.
[[nodiscard]] TensorVar elastic_energy(const SoftBody& body, TensorVar positions,
                                       const BodyParameters& params);
[[nodiscard]] TensorVar deformation_gradients(const SoftBody& body, TensorVar positions,
                                              const RestShape& rest);
[[nodiscard]] TensorVar stresses(const SoftBody& body, TensorVar positions,
                                 const BodyParameters& params);
// Ground contact forces [N, D] at positions and velocities (one fused node; zero if disabled).
// The composed twin records the explicit law of GroundContact from elementwise tensor ops.
[[nodiscard]] TensorVar ground_forces(const SoftBody& body, TensorVar positions,
                                      TensorVar velocities);
[[nodiscard]] TensorVar ground_forces_composed(const SoftBody& body, TensorVar positions,
                                               TensorVar velocities);
// Rigid contact at a [2, N, 2] state: the forces on the vertices and the wrench on the bodies,
// as one fused node (the explicit law of rigid_contact.hpp). The composed twin records the
// same forces from tensor ops, for the contact set the fused node finds.
[[nodiscard]] RigidContactForces rigid_contact_forces(const SoftBody& body, TensorVar state,
                                                      const RigidObstacles& obstacles);
[[nodiscard]] RigidContactForces rigid_contact_forces_composed(const SoftBody& body,
                                                               TensorVar state,
                                                               const RigidObstacles& obstacles);

// ---- Time stepping on a [2, N, D] state: positions, then velocities ----
// Semi-implicit Euler: v1 = v + dt (f(x, v) / m + g), x1 = x + dt v1; pinned vertices keep
// v1 = 0. One fused node that keeps only the new state for the reverse sweep. The composed
// twin records the same step from tensor ops only: elastic_forces_composed,
// ground_forces_composed, rigid_contact_forces_composed and elementwise ops.
[[nodiscard]] TensorVar step_explicit(const SoftBody& body, TensorVar state,
                                      const BodyParameters& params, double dt);
[[nodiscard]] TensorVar step_explicit_composed(const SoftBody& body, TensorVar state,
                                               const BodyParameters& params, double dt);
// The same with rigid contact (the body needs options().rigid.shapes): the forces of
// rigid_contact_forces(body, state, obstacles) join f(x, v). Differentiable in the obstacles too.
[[nodiscard]] TensorVar step_explicit(const SoftBody& body, TensorVar state,
                                      const BodyParameters& params, double dt,
                                      const RigidObstacles& obstacles);
[[nodiscard]] TensorVar step_explicit_composed(const SoftBody& body, TensorVar state,
                                               const BodyParameters& params, double dt,
                                               const RigidObstacles& obstacles);
// Backward Euler: x1 solves r(x1) = M (x1 - x - dt v) / dt^2 - M g - f(x1) = 0 by Newton's
// method (sparse LDLT or CG), v1 = (x1 - x) / dt. One node; its backward pass applies the
// implicit function theorem: one adjoint solve (dr/dx1)^T lambda = dL/dx1 per step, no
// unrolled iterations. Throws maya::ConvergenceError when Newton does not converge.
[[nodiscard]] TensorVar step_implicit(const SoftBody& body, TensorVar state,
                                      const BodyParameters& params, double dt,
                                      const NewtonOptions& newton = {});
// With rigid contact: the bodies are held at obstacles.state's poses over the step, and the
// contact's implicit law (a potential, like the ground's) joins r(x1).
[[nodiscard]] TensorVar step_implicit(const SoftBody& body, TensorVar state,
                                      const BodyParameters& params, double dt,
                                      const RigidObstacles& obstacles,
                                      const NewtonOptions& newton = {});
// Static equilibrium f(x) + M g = 0 (and ground contact, without damping or friction) from
// `positions` [N, D], which hold the pinned vertices' prescribed places and the initial guess
// of the others. Differentiable as step_implicit is.
[[nodiscard]] TensorVar static_equilibrium(const SoftBody& body, TensorVar positions,
                                           const BodyParameters& params,
                                           const NewtonOptions& newton = {});
[[nodiscard]] TensorVar static_equilibrium(const SoftBody& body, TensorVar positions,
                                           const BodyParameters& params,
                                           const RigidObstacles& obstacles,
                                           const NewtonOptions& newton = {});

}  // namespace maya::fem
