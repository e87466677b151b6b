// Model: validation of the tree, coordinate indices, contact points and the parameter vector.
#include "maya/multibody/model.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "maya/core/error.hpp"
#include "multibody/checks.hpp"
#include "multibody/model_ops.hpp"
#include "multibody/spatial.hpp"

namespace maya::multibody {

namespace {

std::string body_label(const Body& body, std::size_t index) {
  std::ostringstream out;
  out << "body " << index;
  if (!body.name.empty()) out << " '" << body.name << "'";
  return out.str();
}

[[noreturn]] void fail(const Body& body, std::size_t index, const std::string& what) {
  throw ValueError("multibody::Model: " + body_label(body, index) + ": " + what);
}

bool finite3(const Vec3& v) {
  return std::isfinite(v[0]) && std::isfinite(v[1]) && std::isfinite(v[2]);
}

// Positive definite and physically realizable: every principal moment positive and each at most
// the sum of the other two.
bool inertia_valid(const std::array<double, 6>& I) {
  for (double x : I) {
    if (!std::isfinite(x)) return false;
  }
  const double xx = I[0], yy = I[1], zz = I[2], xy = I[3], xz = I[4], yz = I[5];
  const double m1 = xx, m2 = xx * yy - xy * xy;
  const double m3 = xx * (yy * zz - yz * yz) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz);
  if (!(m1 > 0.0 && m2 > 0.0 && m3 > 0.0)) return false;
  // The trace bounds every principal moment: 2 max <= trace (up to rounding).
  const double trace = xx + yy + zz;
  const double tolerance = 1e-9 * trace;
  return xx <= yy + zz + tolerance && yy <= xx + zz + tolerance && zz <= xx + yy + tolerance;
}

void add_points(const Geom& geom, int body, std::size_t num_planes,
                std::vector<ContactPoint>& out) {
  const detail::Mat3<double> R =
      detail::quat_to_matrix(detail::quat_normalized(detail::Quat<double>{
          geom.orientation[0], geom.orientation[1], geom.orientation[2], geom.orientation[3]}));
  std::vector<std::pair<Vec3, double>> local;
  switch (geom.type) {
    case ShapeType::kSphere: local.push_back({Vec3{0.0, 0.0, 0.0}, geom.radius}); break;
    case ShapeType::kCapsule:
      local.push_back({Vec3{0.0, 0.0, -geom.half_length}, geom.radius});
      local.push_back({Vec3{0.0, 0.0, geom.half_length}, geom.radius});
      break;
    case ShapeType::kBox:
      for (int corner = 0; corner < 8; ++corner) {
        local.push_back({Vec3{(corner & 1) ? geom.size[0] : -geom.size[0],
                              (corner & 2) ? geom.size[1] : -geom.size[1],
                              (corner & 4) ? geom.size[2] : -geom.size[2]},
                         0.0});
      }
      break;
  }
  for (std::size_t plane = 0; plane < num_planes; ++plane) {
    for (const auto& [p, radius] : local) {
      const detail::Vec3<double> world = detail::add(detail::mul(R, p), geom.position);
      out.push_back({body, static_cast<int>(plane), world, radius});
    }
  }
}

// Pairs of geoms on bodies that may touch: not a body and its parent, not two bodies welded to
// the world, and only geoms whose bitmasks agree.
void add_pairs(const std::vector<Body>& bodies, std::vector<ContactPair>& out) {
  std::vector<bool> fixed_to_world(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const int parent = bodies[i].parent;
    fixed_to_world[i] = bodies[i].joint == JointType::kFixed &&
                        (parent < 0 || fixed_to_world[static_cast<std::size_t>(parent)]);
  }
  for (std::size_t b = 0; b < bodies.size(); ++b) {
    for (std::size_t a = 0; a < b; ++a) {
      if (bodies[b].parent == static_cast<int>(a) || bodies[a].parent == static_cast<int>(b)) {
        continue;
      }
      if (fixed_to_world[a] && fixed_to_world[b]) continue;
      for (const Geom& ga : bodies[a].geoms) {
        for (const Geom& gb : bodies[b].geoms) {
          if ((ga.contype & gb.conaffinity) == 0 && (gb.contype & ga.conaffinity) == 0) continue;
          if (ga.type <= gb.type) {
            out.push_back({static_cast<int>(a), static_cast<int>(b), ga, gb});
          } else {
            out.push_back({static_cast<int>(b), static_cast<int>(a), gb, ga});
          }
        }
      }
    }
  }
}

}  // namespace

std::size_t Model::joint_nq(JointType type) noexcept {
  switch (type) {
    case JointType::kFixed: return 0;
    case JointType::kRevolute:
    case JointType::kPrismatic: return 1;
    case JointType::kSpherical: return 4;
    case JointType::kFree: return 7;
  }
  return 0;
}

std::size_t Model::joint_nv(JointType type) noexcept {
  switch (type) {
    case JointType::kFixed: return 0;
    case JointType::kRevolute:
    case JointType::kPrismatic: return 1;
    case JointType::kSpherical: return 3;
    case JointType::kFree: return 6;
  }
  return 0;
}

Model::Model(std::vector<Body> bodies, std::vector<Actuator> actuators, ModelOptions options)
    : bodies_(std::move(bodies)), actuators_(std::move(actuators)), options_(std::move(options)) {
  if (bodies_.empty()) throw ValueError("multibody::Model: no bodies");
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    Body& b = bodies_[i];
    if (b.parent < -1 || b.parent >= static_cast<int>(i)) {
      fail(b, i,
           "parent " + std::to_string(b.parent) +
               " must be -1 (the world) or an earlier body (0 to " + std::to_string(i) +
               " - 1); a parent that is not earlier means a kinematic loop or a bad order");
    }
    if (!(b.mass > 0.0) || !std::isfinite(b.mass)) {
      fail(b, i, "mass must be positive and finite, got " + std::to_string(b.mass));
    }
    if (!inertia_valid(b.inertia)) {
      std::ostringstream values;
      values << "[" << b.inertia[0] << ", " << b.inertia[1] << ", " << b.inertia[2] << ", "
             << b.inertia[3] << ", " << b.inertia[4] << ", " << b.inertia[5] << "]";
      fail(b, i,
           "inertia (Ixx Iyy Izz Ixy Ixz Iyz) " + values.str() +
               " is not positive definite or breaks the triangle inequality");
    }
    if (!finite3(b.com) || !finite3(b.joint_position))
      fail(b, i, "com or joint position not finite");
    if (b.joint == JointType::kRevolute || b.joint == JointType::kPrismatic) {
      const double length =
          std::sqrt(b.axis[0] * b.axis[0] + b.axis[1] * b.axis[1] + b.axis[2] * b.axis[2]);
      if (!(length > 1e-12) || !std::isfinite(length)) fail(b, i, "joint axis has zero length");
      for (double& a : b.axis) a /= length;
    }
    if (b.joint == JointType::kFree && b.parent != -1) {
      fail(b, i, "a free joint must attach a root body (parent -1)");
    }
    if (!(b.damping >= 0.0) || !(b.armature >= 0.0)) {
      fail(b, i, "damping and armature must be non-negative");
    }
    if (b.limited && !(b.lower <= b.upper)) {
      fail(b, i,
           "joint range lower " + std::to_string(b.lower) + " > upper " + std::to_string(b.upper));
    }
    const Quaternion& q = b.joint_orientation;
    const double qn = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (!(qn > 1e-12)) fail(b, i, "joint orientation quaternion is zero");
    for (double& x : b.joint_orientation) x /= qn;
    if (!b.initial_q.empty() && b.initial_q.size() != joint_nq(b.joint)) {
      fail(b, i,
           "initial_q has " + std::to_string(b.initial_q.size()) + " entries, the joint has " +
               std::to_string(joint_nq(b.joint)));
    }
    q_index_.push_back(nq_);
    v_index_.push_back(nv_);
    nq_ += joint_nq(b.joint);
    nv_ += joint_nv(b.joint);
  }
  for (std::size_t a = 0; a < actuators_.size(); ++a) {
    const Actuator& act = actuators_[a];
    if (act.body < 0 || act.body >= static_cast<int>(bodies_.size())) {
      throw ValueError("multibody::Model: actuator " + std::to_string(a) + " '" + act.name +
                       "' drives body " + std::to_string(act.body) + ", valid bodies are 0 to " +
                       std::to_string(bodies_.size() - 1));
    }
    const JointType type = bodies_[static_cast<std::size_t>(act.body)].joint;
    if (type != JointType::kRevolute && type != JointType::kPrismatic) {
      throw ValueError("multibody::Model: actuator " + std::to_string(a) + " '" + act.name +
                       "' must drive a revolute or prismatic joint");
    }
    if (act.ctrl_limited && !(act.ctrl_lower <= act.ctrl_upper)) {
      throw ValueError("multibody::Model: actuator '" + act.name + "' has ctrl lower > upper");
    }
  }
  for (Plane& plane : options_.planes) {
    const double length =
        std::sqrt(plane.normal[0] * plane.normal[0] + plane.normal[1] * plane.normal[1] +
                  plane.normal[2] * plane.normal[2]);
    if (!(length > 1e-12) || !std::isfinite(length)) {
      throw ValueError("multibody::Model: a plane normal has zero length");
    }
    for (double& x : plane.normal) x /= length;
    plane.offset /= length;
  }
  if (!(options_.friction_smoothing > 0.0) || !(options_.contact_exponent >= 1.0)) {
    throw ValueError(
        "multibody::Model: friction_smoothing must be positive and contact_exponent >= 1");
  }
  detail::check_hard_contact_options(options_.hard_contact);
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    for (const Geom& geom : bodies_[i].geoms) {
      add_points(geom, static_cast<int>(i), options_.planes.size(), contact_points_);
    }
  }
  if (options_.body_contact) add_pairs(bodies_, contact_pairs_);
  ops_ = detail::make_model_ops(*this);
}

Model::~Model() = default;

std::size_t Model::body_index(const std::string& name) const {
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    if (bodies_[i].name == name) return i;
  }
  throw ValueError("multibody::Model: no body named '" + name + "'");
}

std::vector<double> Model::parameters() const {
  using PL = ParameterLayout;
  std::vector<double> p(num_parameters());
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    const Body& b = bodies_[i];
    double* block = p.data() + PL::kPerBody * i;
    block[PL::kMass] = b.mass;
    for (int k = 0; k < 3; ++k) {
      block[PL::kCom + k] = b.com[k];
      block[PL::kJointPosition + k] = b.joint_position[k];
    }
    for (int k = 0; k < 6; ++k) block[PL::kInertia + k] = b.inertia[k];
    block[PL::kDamping] = b.damping;
  }
  double* material = p.data() + PL::kPerBody * bodies_.size();
  material[PL::kContactStiffness] = options_.contact_stiffness;
  material[PL::kContactDamping] = options_.contact_damping;
  material[PL::kFriction] = options_.friction;
  return p;
}

std::vector<double> Model::zero_state() const {
  std::vector<double> x(nx(), 0.0);
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    if (bodies_[i].joint == JointType::kSpherical) x[q_index_[i]] = 1.0;
    if (bodies_[i].joint == JointType::kFree) x[q_index_[i] + 3] = 1.0;
  }
  return x;
}

}  // namespace maya::multibody

namespace maya::multibody {

std::vector<double> Model::initial_state() const {
  std::vector<double> x = zero_state();
  for (std::size_t i = 0; i < bodies_.size(); ++i) {
    const std::vector<double>& q = bodies_[i].initial_q;
    std::copy(q.begin(), q.end(), x.begin() + static_cast<std::ptrdiff_t>(q_index_[i]));
  }
  return x;
}

}  // namespace maya::multibody
