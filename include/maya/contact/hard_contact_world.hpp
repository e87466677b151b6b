// A 2-D rigid world stepped with hard contact: each step solves the velocity-level problem of
// solver.hpp for the post-step velocities (non-penetration, Coulomb friction, revolute joints),
// then moves the bodies with them (semi-implicit Euler). One tape node per step, differentiated
// by the implicit function theorem at the solution.
//
// Bodies, shapes, gravity and ground planes come from a maya::rigid::RigidWorld2D
// (include/maya/rigid/), and so do its contact detection and contact geometry: the state is the
// same [2, K, 3] tensor of poses (x, y, theta) then velocities (vx, vy, omega), so a scene runs
// under penalty or hard contact unchanged (its linear and angular damping rates act too, as in the
// penalty world: q = M ((1 - dt lambda) v + dt g) + dt f). Per contact (normal n out of body a or
// the ground, point p, depth pen > 0):
//   J_n v = n . (relative velocity of b's point p),  J_t likewise along t = (-n_y, n_x),
//   b_n = min(-beta max(pen - slop, 0) / dt, e J_n v-)   when approaching (J_n v- < 0),
//   b_n = -beta max(pen - slop, 0) / dt                  otherwise,
// with restitution e and friction mu mixed per pair as max(e_a, e_b) and sqrt(mu_a mu_b).
// A revolute joint keeps anchor r_a of body a on anchor r_b of body b (or on a world point):
//   C = x_a + R(theta_a) r_a - x_b - R(theta_b) r_b,   G v+ = -beta C / dt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "maya/contact/solver.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::contact {

inline constexpr std::int32_t kWorld = -1;

// Keeps a point of body_a on a point of body_b, or on a fixed world point when body_b is kWorld.
// Jointed bodies do not collide with each other.
struct RevoluteJoint {
  std::int32_t body_a = 0;
  std::int32_t body_b = kWorld;
};

struct SurfaceMaterial {
  double friction = 0.5;     // Coulomb mu >= 0 (0: frictionless, no friction unknowns)
  double restitution = 0.0;  // Newton's e in [0, 1]
};

struct HardContactOptions {
  SurfaceMaterial material;                     // every body without an entry below
  std::vector<SurfaceMaterial> body_materials;  // per body, or empty
  SurfaceMaterial ground_material;              // every ground plane
  // Baumgarte stabilization: the fraction of a contact's penetration beyond `slop`, and of a
  // joint's position error, removed per step.
  double stabilization = 0.2;
  double slop = 1e-3;  // penetration left uncorrected (m): resting contacts stay active
  // The fastest a contact's stabilization pushes its bodies apart (m/s), so a deep overlap is
  // resolved over several steps instead of launching the bodies (Box2D's contact push speed).
  double max_correction_speed = 3.0;
  SolverOptions solver;
};

// The differentiable inputs of a step, as tensors on the tape: K bodies, V polygon vertices,
// J joints.
struct HardContactParameters {
  TensorVar mass;      // [K]
  TensorVar inertia;   // [K] about the centre of mass
  TensorVar vertices;  // [V, 2] body-frame vertices of every polygon body, in body order
  TensorVar radius;    // [K] circle radii (entries of polygon bodies are not read)
  TensorVar applied;   // [K, 3] applied force (x, y) and torque, held over the step
  TensorVar anchors;   // [J, 4] r_a (body a's frame), then r_b (body b's frame, or the world)
};

struct HardContactParameterValues {
  Tensor mass, inertia, vertices, radius, applied, anchors;
  [[nodiscard]] HardContactParameters constants(TensorTape& tape) const;
  [[nodiscard]] HardContactParameters vars(TensorTape& tape) const;
};

class HardContactWorld2D {
 public:
  // Throws maya::ValueError for a joint naming a missing body, a body jointed to itself, a
  // material or stabilization out of range, or per-body materials of the wrong count.
  explicit HardContactWorld2D(rigid::RigidWorld2D bodies, std::vector<RevoluteJoint> joints = {},
                              HardContactOptions options = {});

  [[nodiscard]] const rigid::RigidWorld2D& bodies() const noexcept { return bodies_; }
  [[nodiscard]] std::size_t num_bodies() const noexcept { return bodies_.num_bodies(); }
  [[nodiscard]] const std::vector<RevoluteJoint>& joints() const noexcept { return joints_; }
  [[nodiscard]] const HardContactOptions& options() const noexcept { return options_; }
  // A body's material, or the ground's for kWorld.
  [[nodiscard]] SurfaceMaterial material_of(std::int32_t body) const noexcept;

  // Parameter values of uniform bodies with these masses (inertia from the shapes), the shapes'
  // vertices and radii, no applied wrench, and joint anchors that meet at the world `pivots`
  // [J] in the poses of `state` ([2, K, 3]). Throws maya::ShapeError for wrong counts and
  // maya::ValueError for a non-positive mass.
  [[nodiscard]] HardContactParameterValues parameters(
      const std::vector<double>& masses, const Tensor& state,
      const std::vector<rigid::Vec2>& pivots = {}) const;

  // One step as a single fused node (the node holds the world, which may go before grad()). Throws
  // maya::ShapeError / maya::ValueError for bad inputs and the solver's errors (solver.hpp).
  [[nodiscard]] TensorVar step(TensorVar state, const HardContactParameters& params,
                               double dt) const;

 private:
  class StepOp final : public TensorOp {
   public:
    explicit StepOp(std::shared_ptr<const HardContactWorld2D> world) : world_(std::move(world)) {}
    [[nodiscard]] std::string_view name() const noexcept override { return "hard_contact_step"; }
    void backward(BackwardContext& context) const override;

   private:
    std::shared_ptr<const HardContactWorld2D> world_;
  };
  class Assembly;  // builds a step's ContactProblem (src/contact/hard_contact_step.cpp)

  void check_inputs(TensorVar state, const HardContactParameters& params, double dt) const;

  rigid::RigidWorld2D bodies_;
  std::vector<RevoluteJoint> joints_;
  HardContactOptions options_;
  std::vector<std::int32_t> next_vertex_;  // per vertex: the next one of its polygon
  // The fused step. It holds an immutable copy of this world made without an op of its own (so
  // no cycle); copies of the world share it, and every tape that recorded it keeps it alive.
  std::shared_ptr<const StepOp> step_op_;
};

// Kinetic energy sum (m |v|^2 + I omega^2) / 2 and potential energy -m g . x of a [2, K, 3] state.
[[nodiscard]] double kinetic_energy(const Tensor& state, const Tensor& mass, const Tensor& inertia);
[[nodiscard]] double potential_energy(const Tensor& state, const Tensor& mass, rigid::Vec2 gravity);

}  // namespace maya::contact
