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
#include <string_view>
#include <vector>

#include "maya/fem/material.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/rigid_contact.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::fem {

namespace detail {
struct SystemPattern;
struct RigidShapes;
class RigidContactKernel;
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

class SoftBody {
 public:
  // Throws maya::ValueError naming the element for one of zero or negative volume at the mesh's
  // rest positions, and for bad options (pinned vertex out of range, gravity or fibre of the wrong
  // length, up axis outside [0, D), negative contact constants).
  explicit SoftBody(const Mesh& mesh, SoftBodyOptions options = {});
  // The fused ops refer back to their body, so copies re-point them.
  SoftBody(const SoftBody& other);
  SoftBody& operator=(const SoftBody& other);
  ~SoftBody();

  [[nodiscard]] const Mesh& mesh() const noexcept { return mesh_; }
  [[nodiscard]] std::size_t dim() const noexcept { return mesh_.dim(); }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return mesh_.num_vertices(); }
  [[nodiscard]] std::size_t num_elements() const noexcept { return mesh_.num_elements(); }
  [[nodiscard]] const SoftBodyOptions& options() const noexcept { return options_; }
  [[nodiscard]] std::span<const double> gravity() const noexcept { return gravity_; }
  [[nodiscard]] std::span<const double> fiber() const noexcept { return fiber_; }  // unit
  [[nodiscard]] bool is_pinned(std::size_t vertex) const { return pinned_mask_.at(vertex) != 0; }

  // ---- Parameters ----
  // One fused node each for B and W; throws maya::ValueError naming the element when a volume
  // is zero or negative. The composed twin records the same maps from tensor ops.
  [[nodiscard]] RestShape rest_shape(TensorVar rest_positions) const;
  [[nodiscard]] RestShape rest_shape_composed(TensorVar rest_positions) const;
  // m_i = sum over elements e around vertex i of density_e W_e / (D + 1); density [], [1] or [M].
  [[nodiscard]] TensorVar lumped_masses(const RestShape& rest, TensorVar density) const;
  // lame_parameters(E, nu, options().plane).
  [[nodiscard]] Lame lame(TensorVar youngs_modulus, TensorVar poisson_ratio) const;
  // Everything at once, without actuation.
  [[nodiscard]] BodyParameters parameters(TensorVar rest_positions, TensorVar youngs_modulus,
                                          TensorVar poisson_ratio, TensorVar density) const;

  // ---- Forces and energies at positions [N, D] ----
  // f = -dE/dx as one fused node with a hand-derived adjoint (to x, B, W, mu, lambda, actuation).
  [[nodiscard]] TensorVar elastic_forces(TensorVar positions, const BodyParameters& params) const;
  // The same forces from tensor ops (gather, batched matmul, index_add): the reference.
  [[nodiscard]] TensorVar elastic_forces_composed(TensorVar positions,
                                                  const BodyParameters& params) const;
  // E = sum_e W_e Psi(F_e) (0-d), F [M, D, D] and P = dPsi/dF [M, D, D], all from tensor ops.
  [[nodiscard]] TensorVar elastic_energy(TensorVar positions, const BodyParameters& params) const;
  [[nodiscard]] TensorVar deformation_gradients(TensorVar positions, const RestShape& rest) const;
  [[nodiscard]] TensorVar stresses(TensorVar positions, const BodyParameters& params) const;
  // Ground contact forces [N, D] at positions and velocities (one fused node; zero if disabled).
  [[nodiscard]] TensorVar ground_forces(TensorVar positions, TensorVar velocities) const;
  // Rigid contact at a [2, N, 2] state: the forces on the vertices and the wrench on the bodies,
  // as one fused node (the explicit law of rigid_contact.hpp). The composed twin records the
  // same forces from tensor ops, for the contact set the fused node finds.
  [[nodiscard]] RigidContactForces rigid_contact_forces(TensorVar state,
                                                        const RigidObstacles& obstacles) const;
  [[nodiscard]] RigidContactForces rigid_contact_forces_composed(
      TensorVar state, const RigidObstacles& obstacles) const;

  // ---- Time stepping on a [2, N, D] state: positions, then velocities ----
  // Semi-implicit Euler: v1 = v + dt (f(x, v) / m + g), x1 = x + dt v1; pinned vertices keep
  // v1 = 0. One fused node that keeps only the new state for the reverse sweep; the composed
  // twin records the same step from the fused force nodes and elementwise ops.
  [[nodiscard]] TensorVar step_explicit(TensorVar state, const BodyParameters& params,
                                        double dt) const;
  [[nodiscard]] TensorVar step_explicit_composed(TensorVar state, const BodyParameters& params,
                                                 double dt) const;
  // The same with rigid contact (the body needs options().rigid.shapes): the forces of
  // rigid_contact_forces(state, obstacles) join f(x, v). Differentiable in the obstacles too.
  [[nodiscard]] TensorVar step_explicit(TensorVar state, const BodyParameters& params, double dt,
                                        const RigidObstacles& obstacles) const;
  [[nodiscard]] TensorVar step_explicit_composed(TensorVar state, const BodyParameters& params,
                                                 double dt, const RigidObstacles& obstacles) const;
  // Backward Euler: x1 solves r(x1) = M (x1 - x - dt v) / dt^2 - M g - f(x1) = 0 by Newton's
  // method (sparse LDLT or CG), v1 = (x1 - x) / dt. One node; its backward pass applies the
  // implicit function theorem: one adjoint solve (dr/dx1)^T lambda = dL/dx1 per step, no
  // unrolled iterations. Throws maya::ConvergenceError when Newton does not converge.
  [[nodiscard]] TensorVar step_implicit(TensorVar state, const BodyParameters& params, double dt,
                                        const NewtonOptions& newton = {}) const;
  // With rigid contact: the bodies are held at obstacles.state's poses over the step, and the
  // contact's implicit law (a potential, like the ground's) joins r(x1).
  [[nodiscard]] TensorVar step_implicit(TensorVar state, const BodyParameters& params, double dt,
                                        const RigidObstacles& obstacles,
                                        const NewtonOptions& newton = {}) const;
  // Static equilibrium f(x) + M g = 0 (and ground contact, without damping or friction) from
  // `positions` [N, D], which hold the pinned vertices' prescribed places and the initial guess
  // of the others. Differentiable as step_implicit is.
  [[nodiscard]] TensorVar static_equilibrium(TensorVar positions, const BodyParameters& params,
                                             const NewtonOptions& newton = {}) const;
  [[nodiscard]] TensorVar static_equilibrium(TensorVar positions, const BodyParameters& params,
                                             const RigidObstacles& obstacles,
                                             const NewtonOptions& newton = {}) const;

  // A [2, N, D] state from positions and velocities [N, D]; and the mesh at rest with velocity 0.
  [[nodiscard]] static Tensor make_state(const Tensor& positions, const Tensor& velocities);
  [[nodiscard]] Tensor rest_state() const;

 private:
  class RestInverseOp;
  class RestVolumeOp;
  class ElasticForceOp;
  class GroundOp;
  class ExplicitOp;
  class ImplicitOp;
  class RigidContactOp;
  friend class RigidContactOp;
  friend class RestInverseOp;
  friend class RestVolumeOp;
  friend class ElasticForceOp;
  friend class GroundOp;
  friend class ExplicitOp;
  friend class ImplicitOp;

  void make_ops();
  void check_parameters(const BodyParameters& params, std::string_view operation,
                        bool need_mass) const;
  void check_state(TensorVar state, double dt, std::string_view operation) const;
  // Throws unless `obstacles` (null: none) matches options().rigid.shapes.
  void check_obstacles(const RigidObstacles* obstacles, std::string_view operation) const;
  // The rigid contact kernel over the obstacles' values (when recording), or over the rigid
  // state, stiffness, damping and friction a recorded node holds from input `first` on.
  [[nodiscard]] detail::RigidContactKernel rigid_kernel(const RigidObstacles& obstacles) const;
  [[nodiscard]] detail::RigidContactKernel rigid_kernel(const BackwardContext& context,
                                                        std::size_t first) const;
  [[nodiscard]] TensorVar record_explicit(TensorVar state, const BodyParameters& params, double dt,
                                          const RigidObstacles* obstacles) const;
  [[nodiscard]] TensorVar compose_explicit(TensorVar state, const BodyParameters& params, double dt,
                                           const RigidObstacles* obstacles) const;
  [[nodiscard]] TensorVar solve_implicit(TensorVar input, const BodyParameters& params, double dt,
                                         const NewtonOptions& newton, bool dynamic,
                                         const RigidObstacles* obstacles) const;

  Mesh mesh_;
  SoftBodyOptions options_;
  std::vector<double> gravity_;
  std::vector<double> fiber_;  // unit length
  std::vector<std::uint8_t> pinned_mask_;
  double length_scale_ = 1.0;  // bounding-box diagonal of the rest mesh
  // The Newton matrix's sparsity (built once, immutable, shared by copies).
  std::shared_ptr<const detail::SystemPattern> pattern_;
  std::shared_ptr<const detail::RigidShapes> rigid_shapes_;  // options_.rigid.shapes, as read
  std::unique_ptr<RestInverseOp> rest_inverse_op_;
  std::unique_ptr<RestVolumeOp> rest_volume_op_;
  std::unique_ptr<ElasticForceOp> force_op_;
  std::unique_ptr<GroundOp> ground_op_;
  std::unique_ptr<ExplicitOp> explicit_op_;
  std::unique_ptr<ImplicitOp> implicit_op_;
  std::unique_ptr<RigidContactOp> rigid_contact_op_;
};

}  // namespace maya::fem
