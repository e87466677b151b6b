// A kinematic tree of 3-D rigid bodies in generalized coordinates: bodies, the joint that links
// each to its parent, contact geoms, actuators and ground planes. The numbers a gradient may be
// taken against (masses, centres of mass, inertias, joint offsets, joint damping, contact
// material) are one flat parameter vector, laid out as `ParameterLayout` says.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace maya::multibody {

namespace detail {
class ModelOps;  // the tape ops of a model (differentiable.cpp)
}

using Vec3 = std::array<double, 3>;
using Quaternion = std::array<double, 4>;  // (w, x, y, z), unit

// Generalized coordinates per joint (nq) and velocities (nv):
//   kFixed      nq 0, nv 0
//   kRevolute   nq 1 (angle about `axis`), nv 1
//   kPrismatic  nq 1 (slide along `axis`), nv 1
//   kSpherical  nq 4 (quaternion of the body in the joint frame), nv 3 (angular velocity, body
//               frame)
//   kFree       nq 7 (position in the parent frame, then quaternion), nv 6 (linear velocity of the
//               body origin in the parent frame, then angular velocity in the body frame), as
//               MuJoCo's free joint.
enum class JointType { kFixed, kRevolute, kPrismatic, kSpherical, kFree };

enum class ShapeType { kSphere, kCapsule, kBox };

// A collision shape fixed to a body. A capsule runs along its local z axis from -half_length to
// +half_length; a box has half extents `size` along its local axes; a sphere uses `radius` only.
struct Geom {
  ShapeType type = ShapeType::kSphere;
  Vec3 position{0.0, 0.0, 0.0};  // in the body frame
  Quaternion orientation{1.0, 0.0, 0.0, 0.0};
  double radius = 0.0;
  double half_length = 0.0;
  Vec3 size{0.0, 0.0, 0.0};
  // MJCF's collision bitmasks: two geoms of different bodies may touch when
  // (contype_a & conaffinity_b) || (contype_b & conaffinity_a).
  unsigned contype = 1;
  unsigned conaffinity = 1;
};

struct Body {
  std::string name;
  int parent = -1;  // an earlier body's index, or -1 for the world
  JointType joint = JointType::kFixed;
  std::string joint_name;
  // The joint frame in the parent body's frame (for kFree: the frame its position and quaternion
  // are measured in). The body frame coincides with the joint frame at q = 0.
  Vec3 joint_position{0.0, 0.0, 0.0};
  Quaternion joint_orientation{1.0, 0.0, 0.0, 0.0};
  Vec3 axis{0.0, 0.0, 1.0};  // revolute and prismatic joints, normalized by Model
  double damping = 0.0;      // N m s (or N s): generalized force -damping * qdot
  double armature = 0.0;     // added to the joint's diagonal of the mass matrix
  bool limited = false;      // revolute and prismatic joints: penalty outside [lower, upper]
  double lower = 0.0;
  double upper = 0.0;
  double mass = 1.0;
  Vec3 com{0.0, 0.0, 0.0};                          // centre of mass in the body frame
  std::array<double, 6> inertia{1, 1, 1, 0, 0, 0};  // Ixx Iyy Izz Ixy Ixz Iyz about the com
  std::vector<Geom> geoms;
  // The joint's coordinates in the state a file describes (a free body's position and
  // quaternion, a ball joint's quaternion); empty for zero (identity quaternions).
  std::vector<double> initial_q;
};

// Actuators act on one scalar joint (revolute or prismatic). With control u (clamped to
// [ctrl_lower, ctrl_upper] when ctrl_limited):
//   kTorque    tau = gear u
//   kPosition  tau = kp (u - q) - kv qdot     (a PD servo)
//   kVelocity  tau = kv (u - qdot)
enum class ActuatorType { kTorque, kPosition, kVelocity };

struct Actuator {
  std::string name;
  int body = -1;  // the body whose joint it drives
  ActuatorType type = ActuatorType::kTorque;
  double gear = 1.0;
  double kp = 0.0;
  double kv = 0.0;
  bool ctrl_limited = false;
  double ctrl_lower = 0.0;
  double ctrl_upper = 0.0;
};

// The solid half-space normal . x < offset, fixed in the world.
struct Plane {
  Vec3 normal{0.0, 0.0, 1.0};
  double offset = 0.0;
};

enum class Integrator { kSemiImplicitEuler, kRungeKutta4 };

// How the contact points meet the planes: penalty forces (Hunt-Crossley, smoothed Coulomb), or
// hard contact, impulses from maya::contact's interior-point solver with a friction cone, for the
// planes and the body pairs alike (maya/multibody/hard_contact.hpp; semi-implicit Euler only).
enum class ContactModel { kPenalty, kHard };

struct HardContactSettings {
  // The solver's barrier parameter (impulse x velocity): every complementarity product equals
  // it, so a resting contact with impulse lambda separates at smoothing / lambda.
  double smoothing = 1e-8;
  double tolerance = 1e-10;  // the solver's scaled residuals
  int max_iterations = 100;
  // Points closer to a plane, and pairs' contacts closer than this (m), enter the step's
  // problem: a contact at distance phi may approach by at most phi in the step (speculative
  // contact), so nothing tunnels.
  double margin = 0.02;
  // Penetrations up to `slop` (m) are removed in one step (b_n = phi / dt, the linearized
  // non-penetration of Anitescu-Potra, smooth through phi = 0 where resting contacts sit);
  // beyond it, the fraction `stabilization` (in [0, 1]) of the excess per step (Baumgarte), so a
  // deep overlap is not resolved at once.
  double slop = 1e-4;
  double stabilization = 0.2;
};

struct ModelOptions {
  Vec3 gravity{0.0, 0.0, -9.81};
  std::vector<Plane> planes;
  // Penalty contact (Hunt-Crossley): with depth d > 0 and penetration rate d',
  //   f_n = max(0, stiffness d^exponent (1 + damping d')),
  //   f_t = -friction f_n v_t / sqrt(|v_t|^2 + friction_smoothing^2).
  double contact_stiffness = 1e5;  // N / m^exponent
  double contact_damping = 1.0;    // s / m
  double friction = 1.0;
  double contact_exponent = 1.5;
  // Explicit steps damp slip stably while dt friction f_n / (friction_smoothing m) < 2.
  double friction_smoothing = 1e-2;  // m / s
  // Joint limits: tau = limit_stiffness (bound - q) - limit_damping qdot while q is outside.
  double limit_stiffness = 1e4;
  double limit_damping = 10.0;
  // Semi-implicit Euler with the joint damping taken at the new velocity: (M + dt D) qdd = tau,
  // as MuJoCo's Euler integrator (the MJCF reader turns it on). Stable for any damping; RK4 keeps
  // damping explicit.
  bool implicit_damping = false;
  // Contact between the shapes of different bodies (Model::contact_pairs()) with the same law as
  // the planes'. Never between a body and its parent, nor between two bodies welded to the world.
  bool body_contact = true;
  double timestep = 1e-3;  // a default for callers (MJCF's option timestep)
  Integrator integrator = Integrator::kSemiImplicitEuler;
  // kHard: step() and rollout() take the contact impulses from the solver (the penalty
  // stiffness and damping parameters are then unused; friction is the cone's mu).
  ContactModel contact_model = ContactModel::kPenalty;
  HardContactSettings hard_contact{};
};

// Offsets in the parameter vector: body k's block starts at kPerBody * k; the contact material
// follows the last body.
struct ParameterLayout {
  static constexpr std::size_t kMass = 0;
  static constexpr std::size_t kCom = 1;             // 3 entries
  static constexpr std::size_t kInertia = 4;         // 6 entries, Ixx Iyy Izz Ixy Ixz Iyz
  static constexpr std::size_t kJointPosition = 10;  // 3 entries (link lengths / joint offsets)
  static constexpr std::size_t kDamping = 13;
  static constexpr std::size_t kPerBody = 14;
  static constexpr std::size_t kContactStiffness = 0;  // after the bodies
  static constexpr std::size_t kContactDamping = 1;
  static constexpr std::size_t kFriction = 2;
  static constexpr std::size_t kGlobal = 3;
};

// One contact point: a sphere's centre, a capsule's end or a box's corner, against a plane.
struct ContactPoint {
  int body = 0;
  int plane = 0;
  Vec3 position{0.0, 0.0, 0.0};  // in the body frame
  double radius = 0.0;           // 0 for box corners
};

// Two geoms of different bodies that may touch: sphere, capsule and box against each other (a
// capsule against a box along its whole segment; box against box through each box's corners
// against the other's faces). The force on body_b is equal and opposite to body_a's.
struct ContactPair {
  int body_a = 0;
  int body_b = 0;
  Geom geom_a;  // geom_a.type <= geom_b.type (sphere, capsule, box)
  Geom geom_b;
};

class Model {
 public:
  // Validates the tree and throws maya::ValueError naming the body for: a parent that is not an
  // earlier body, a non-positive or non-finite mass, an inertia that is not positive definite
  // (or breaks the triangle inequality), a zero-length axis, a free joint that is not on a root
  // body, initial_q of the wrong length, an actuator on a joint that is not scalar, a negative
  // damping or armature, lower > upper, a zero plane normal.
  Model(std::vector<Body> bodies, std::vector<Actuator> actuators = {}, ModelOptions options = {});
  // Copies share the tape ops, which hold the model's data: the nodes a model records keep it
  // alive, so it may be destroyed before the tape's grad().
  ~Model();

  [[nodiscard]] std::size_t num_bodies() const noexcept { return bodies_.size(); }
  [[nodiscard]] std::size_t nq() const noexcept { return nq_; }
  [[nodiscard]] std::size_t nv() const noexcept { return nv_; }
  [[nodiscard]] std::size_t nx() const noexcept { return nq_ + nv_; }  // state = [q, qdot]
  [[nodiscard]] std::size_t nu() const noexcept { return actuators_.size(); }
  [[nodiscard]] std::size_t num_parameters() const noexcept {
    return ParameterLayout::kPerBody * bodies_.size() + ParameterLayout::kGlobal;
  }
  [[nodiscard]] const std::vector<Body>& bodies() const noexcept { return bodies_; }
  [[nodiscard]] const Body& body(std::size_t index) const { return bodies_.at(index); }
  [[nodiscard]] const std::vector<Actuator>& actuators() const noexcept { return actuators_; }
  [[nodiscard]] const ModelOptions& options() const noexcept { return options_; }
  [[nodiscard]] const std::vector<ContactPoint>& contact_points() const noexcept {
    return contact_points_;
  }
  [[nodiscard]] const std::vector<ContactPair>& contact_pairs() const noexcept {
    return contact_pairs_;
  }
  // Whether any contact force can act: points against planes, or pairs of bodies.
  [[nodiscard]] bool has_contact() const noexcept {
    return !contact_points_.empty() || !contact_pairs_.empty();
  }
  // Index of a body by name; throws maya::ValueError when there is none.
  [[nodiscard]] std::size_t body_index(const std::string& name) const;

  // Where body k's joint coordinates start in q and in qdot, and how many there are.
  [[nodiscard]] std::size_t q_index(std::size_t body) const { return q_index_.at(body); }
  [[nodiscard]] std::size_t v_index(std::size_t body) const { return v_index_.at(body); }
  [[nodiscard]] static std::size_t joint_nq(JointType type) noexcept;
  [[nodiscard]] static std::size_t joint_nv(JointType type) noexcept;

  // The parameter vector [num_parameters()] of the bodies and options as given.
  [[nodiscard]] std::vector<double> parameters() const;
  // The state [nx()] with every joint at zero (identity quaternions) and at rest.
  [[nodiscard]] std::vector<double> zero_state() const;
  // The state [nx()] with each joint at its Body::initial_q, at rest.
  [[nodiscard]] std::vector<double> initial_state() const;

  // The model's tape ops (for differentiable.hpp's functions).
  [[nodiscard]] const detail::ModelOps& tape_ops() const noexcept { return *ops_; }
  [[nodiscard]] const std::shared_ptr<const detail::ModelOps>& shared_tape_ops() const noexcept {
    return ops_;
  }

 private:
  std::vector<Body> bodies_;
  std::vector<Actuator> actuators_;
  ModelOptions options_;
  std::vector<std::size_t> q_index_, v_index_;
  std::vector<ContactPoint> contact_points_;
  std::vector<ContactPair> contact_pairs_;
  std::size_t nq_ = 0, nv_ = 0;
  std::shared_ptr<const detail::ModelOps> ops_;
};

}  // namespace maya::multibody
