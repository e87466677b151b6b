// A 2-D world of rigid bodies stored as tensors (structure of arrays), stepped by semi-implicit
// Euler with penalty contact against ground half-planes and between bodies. The state is one
// [2, K, 3] tensor: poses (x, y, theta) of the K centres of mass, then velocities (vx, vy, omega).
//
// Per step, with W the applied wrench plus every contact's force and torque (about the centre):
//   v1 = v + dt (F / m + g - linear_damping v),   x1 = x + dt v1,
//   omega1 = omega + dt (tau / I - angular_damping omega),   theta1 = theta + dt omega1
// A contact has a normal n (the direction of the force on body b, out of body a or the ground), an
// application point p and a depth pen > 0; the force on b at p is f_n n + f_t t (contact_law.hpp),
// t = (-n_y, n_x), and body a receives the opposite force at the same point, so momentum and
// angular momentum are conserved exactly by the integrator.
//
// step() records the whole step as one tape node with a hand-derived adjoint; step_composed()
// records the same map from tensor ops (the readable reference that tests it). Which contacts exist
// is decided on the values at the start of each step; the gradient is that of the step with this
// contact set held fixed (exact away from contact switches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "maya/rigid/body_shape.hpp"
#include "maya/rigid/contact_law.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::rigid {

// The solid half-plane normal . p < offset; its boundary is the line normal . p = offset.
struct GroundPlane {
  Vec2 normal{0.0, 1.0};  // out of the ground, into free space (normalized by the world)
  double offset = 0.0;
  // The ground whose boundary passes through `point`, solid on the side opposite `normal`.
  [[nodiscard]] static GroundPlane through(Vec2 point, Vec2 normal) noexcept;
};

struct RigidWorldOptions {
  Vec2 gravity{0.0, -9.8};
  std::vector<GroundPlane> grounds{GroundPlane{}};  // y = 0 by default; empty for none
  NormalForceLaw normal_law = NormalForceLaw::kKelvinVoigt;
  double friction_smoothing = 0.01;  // eps of tanh(v_t / eps), m/s
  bool body_contacts = true;         // false: bodies pass through each other, only grounds collide
  double linear_damping = 0.0;       // 1/s
  double angular_damping = 0.0;      // 1/s
};

// The differentiable inputs of a step, as tensors on the tape. K bodies, V polygon vertices.
struct RigidParameters {
  TensorVar mass;       // [K]
  TensorVar inertia;    // [K], about the centre of mass
  TensorVar vertices;   // [V, 2] body-frame vertices of every polygon body, in body order
  TensorVar radius;     // [K] circle radii (entries of polygon bodies are not read)
  TensorVar applied;    // [K, 3] applied force (x, y) and torque, held over the step
  TensorVar stiffness;  // one element: k of the normal law
  TensorVar damping;    // one element: c of the normal law
  TensorVar friction;   // one element: mu
};

// The same inputs as plain tensors, to put on a tape as constants or leaves.
struct RigidParameterValues {
  Tensor mass, inertia, vertices, radius, applied, stiffness, damping, friction;
  [[nodiscard]] RigidParameters constants(TensorTape& tape) const;
};

enum class ContactKind : std::int32_t {
  kGround,  // a ground plane against a point of body b
  kFace,    // a face of polygon a against a point of body b
  kPoints,  // a point of a against a point of b, along the line between them (circles, corners)
};

// One contact. A "point" feature is a global vertex index, or -1 for a circle's centre (whose
// radius then counts into the depth). Face features are the global index of the face's first
// vertex (the face runs counter-clockwise to the next vertex of the same polygon).
struct Contact {
  ContactKind kind = ContactKind::kGround;
  std::int32_t body_a = -1;     // -1 for kGround
  std::int32_t feature_a = -1;  // kGround: ground index; kFace: face; kPoints: point
  std::int32_t body_b = -1;
  std::int32_t feature_b = -1;  // point
  // World geometry at detection: application point, unit normal (force direction on b), depth.
  Vec2 point;
  Vec2 normal;
  double depth = 0.0;
};

// The geometry of a fixed list of contacts, differentiable in poses, vertices and radii.
struct ContactFrames {
  TensorVar point;   // [C, 2]
  TensorVar normal;  // [C, 2]
  TensorVar depth;   // [C]
};

class RigidWorld2D {
 public:
  // Throws maya::ValueError for no bodies, a ground normal that is zero or not finite, a
  // friction smoothing that is not positive, or negative damping rates.
  explicit RigidWorld2D(std::vector<BodyShape> shapes, RigidWorldOptions options = {});

  [[nodiscard]] std::size_t num_bodies() const noexcept { return shapes_.size(); }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return next_vertex_.size(); }
  [[nodiscard]] const BodyShape& shape(std::size_t body) const { return shapes_.at(body); }
  [[nodiscard]] const RigidWorldOptions& options() const noexcept { return options_; }
  // Global index of body's first vertex in RigidParameters::vertices (polygons only).
  [[nodiscard]] std::size_t first_vertex(std::size_t body) const { return first_vertex_.at(body); }
  [[nodiscard]] std::int32_t next_vertex(std::size_t vertex) const {
    return next_vertex_.at(vertex);
  }

  // Parameter values of uniform bodies: mass and inertia from the shapes and a density (or from
  // given masses), the shapes' vertices and radii, no applied wrench, the material. Throws
  // maya::ValueError for a non-positive density or mass, maya::ShapeError for a wrong count.
  [[nodiscard]] RigidParameterValues parameters_from_density(double density,
                                                             ContactMaterial material = {}) const;
  [[nodiscard]] RigidParameterValues parameters_from_masses(const std::vector<double>& masses,
                                                            ContactMaterial material = {}) const;
  // A [2, K, 3] state from poses and velocities [K, 3].
  [[nodiscard]] static Tensor make_state(const Tensor& poses, const Tensor& velocities);

  // One step as a single fused node (the node holds the world, which may go before grad()). dt is a
  // double or a one-element TensorVar, which is then differentiated too.
  [[nodiscard]] TensorVar step(TensorVar state, const RigidParameters& params, double dt) const;
  [[nodiscard]] TensorVar step(TensorVar state, const RigidParameters& params, TensorVar dt) const;
  // The same step composed of tensor ops.
  [[nodiscard]] TensorVar step_composed(TensorVar state, const RigidParameters& params,
                                        double dt) const;
  [[nodiscard]] TensorVar step_composed(TensorVar state, const RigidParameters& params,
                                        TensorVar dt) const;

  // The contacts a step from `state` would use, in the order it applies them.
  [[nodiscard]] std::vector<Contact> find_contacts(TensorVar state,
                                                   const RigidParameters& params) const;
  // Point, normal and depth of given contacts, recorded from tensor ops.
  [[nodiscard]] ContactFrames contact_frames(TensorVar state, const RigidParameters& params,
                                             std::span<const Contact> contacts) const;

 private:
  class StepOp final : public TensorOp {
   public:
    explicit StepOp(std::shared_ptr<const RigidWorld2D> world) : world_(std::move(world)) {}
    [[nodiscard]] std::string_view name() const noexcept override { return "rigid_step"; }
    void backward(BackwardContext& context) const override;

   private:
    std::shared_ptr<const RigidWorld2D> world_;
  };

  void build_topology();
  void check_inputs(TensorVar state, const RigidParameters& params, const char* operation) const;
  [[nodiscard]] TensorVar record_step(TensorVar state, const RigidParameters& params, double dt,
                                      const TensorVar* dt_var) const;
  template <class Dt>
  [[nodiscard]] TensorVar compose_step(TensorVar state, const RigidParameters& params, Dt dt) const;

  std::vector<BodyShape> shapes_;
  RigidWorldOptions options_;
  std::vector<std::uint32_t> first_vertex_;  // per body, into the vertex list
  std::vector<std::int32_t> next_vertex_;    // per vertex: the next one of its polygon
  // The fused step. It holds an immutable copy of this world made without an op of its own (so
  // no cycle); copies of the world share it, and every tape that recorded it keeps it alive.
  std::shared_ptr<const StepOp> step_op_;
};

// The wrench [K, 3] of forces [P, 2] applied at world points [P, 2] of bodies `bodies` (P
// indices): force f and torque (p - x_body) x f, summed per body. Differentiable in the state,
// the points and the forces. Throws maya::ShapeError / maya::ValueError for mismatched inputs.
[[nodiscard]] TensorVar wrench_at_points(TensorVar state, std::span<const std::int64_t> bodies,
                                         TensorVar points, TensorVar forces);

}  // namespace maya::rigid
