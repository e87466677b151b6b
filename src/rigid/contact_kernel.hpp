// One penalty contact, forward and reverse, shared by the fused step (rigid_step.cpp) and the
// contact search (contact_detection.cpp). Everything is plain doubles: a contact is a few dozen
// flops, and the adjoint below is its hand-derived reverse sweep, line by line.
#pragma once

#include <cmath>
#include <cstdint>

#include "maya/rigid/rigid_world.hpp"

// Also compiled by nvcc for the batched GPU rollout (rigid/cuda/), where these run on the device.
#if defined(__CUDACC__)
#define MAYA_RIGID_HD __host__ __device__
#else
#define MAYA_RIGID_HD
#endif

namespace maya::rigid::detail {

struct V2 {
  double x = 0.0;
  double y = 0.0;
};
MAYA_RIGID_HD inline V2 operator+(V2 a, V2 b) noexcept { return {a.x + b.x, a.y + b.y}; }
MAYA_RIGID_HD inline V2 operator-(V2 a, V2 b) noexcept { return {a.x - b.x, a.y - b.y}; }
MAYA_RIGID_HD inline V2 operator-(V2 a) noexcept { return {-a.x, -a.y}; }
MAYA_RIGID_HD inline V2 operator*(double s, V2 a) noexcept { return {s * a.x, s * a.y}; }
MAYA_RIGID_HD inline V2& operator+=(V2& a, V2 b) noexcept {
  a.x += b.x;
  a.y += b.y;
  return a;
}
MAYA_RIGID_HD inline V2& operator-=(V2& a, V2 b) noexcept {
  a.x -= b.x;
  a.y -= b.y;
  return a;
}
MAYA_RIGID_HD inline double dot(V2 a, V2 b) noexcept { return a.x * b.x + a.y * b.y; }
MAYA_RIGID_HD inline double cross(V2 a, V2 b) noexcept { return a.x * b.y - a.y * b.x; }
MAYA_RIGID_HD inline V2 perp(V2 a) noexcept { return {-a.y, a.x}; }  // rotation by +90 degrees

// One body at the start of a step.
struct BodyFrame {
  V2 position;
  double cos = 1.0;
  double sin = 0.0;
  V2 velocity;
  double omega = 0.0;

  [[nodiscard]] MAYA_RIGID_HD V2 rotate(V2 p) const noexcept {
    return {cos * p.x - sin * p.y, sin * p.x + cos * p.y};
  }
  [[nodiscard]] MAYA_RIGID_HD V2 unrotate(V2 w) const noexcept {
    return {cos * w.x + sin * w.y, -sin * w.x + cos * w.y};
  }
  [[nodiscard]] MAYA_RIGID_HD V2 to_world(V2 p) const noexcept { return position + rotate(p); }
};

// Frames of K bodies from a [2, K, 3] state's values.
MAYA_RIGID_HD inline void fill_frames(const double* state, std::size_t num_bodies,
                                      BodyFrame* frames) noexcept {
  const double* velocity = state + 3 * num_bodies;
  for (std::size_t k = 0; k < num_bodies; ++k) {
    BodyFrame& f = frames[k];
    f.position = {state[3 * k], state[3 * k + 1]};
    f.cos = std::cos(state[3 * k + 2]);
    f.sin = std::sin(state[3 * k + 2]);
    f.velocity = {velocity[3 * k], velocity[3 * k + 1]};
    f.omega = velocity[3 * k + 2];
  }
}

// Read-only inputs of the contact computations.
struct ContactInputs {
  const BodyFrame* frames;
  const double* vertices;  // [V, 2], body frames
  const double* radius;    // [K]
  const GroundPlane* grounds;
  const std::int32_t* next_vertex;
};

struct Material {
  double stiffness;
  double damping;
  double friction;
  double smoothing;
  NormalForceLaw law;
};

// Where gradients go; any pointer may be null when that input needs none. The reverse functions
// below take any type with these members (the GPU's per-body threads keep only their own body's
// share, in registers).
struct GradientSinks {
  double* pose = nullptr;                // [K, 3]
  double* velocity = nullptr;            // [K, 3]
  double* vertices = nullptr;            // [V, 2]
  double* radius = nullptr;              // [K]
  double material[3] = {0.0, 0.0, 0.0};  // stiffness, damping, friction

  MAYA_RIGID_HD void add_pose(std::int32_t body, V2 g_position, double g_angle) noexcept {
    if (pose == nullptr) return;
    double* p = pose + 3 * body;
    p[0] += g_position.x;
    p[1] += g_position.y;
    p[2] += g_angle;
  }
  MAYA_RIGID_HD void add_velocity(std::int32_t body, V2 g_velocity, double g_omega) noexcept {
    if (velocity == nullptr) return;
    double* v = velocity + 3 * body;
    v[0] += g_velocity.x;
    v[1] += g_velocity.y;
    v[2] += g_omega;
  }
  [[nodiscard]] MAYA_RIGID_HD bool wants_vertices(std::int32_t /*body*/) const noexcept {
    return vertices != nullptr;
  }
  MAYA_RIGID_HD void add_vertex(std::int32_t vertex, V2 g) noexcept {
    if (vertices == nullptr) return;
    vertices[2 * vertex] += g.x;
    vertices[2 * vertex + 1] += g.y;
  }
  MAYA_RIGID_HD void add_radius(std::int32_t body, double g) noexcept {
    if (radius != nullptr) radius[body] += g;
  }
};

MAYA_RIGID_HD inline V2 local_point(const ContactInputs& in, std::int32_t feature) noexcept {
  if (feature < 0) return {};
  return {in.vertices[2 * feature], in.vertices[2 * feature + 1]};
}
MAYA_RIGID_HD inline double feature_radius(const ContactInputs& in, std::int32_t body,
                                           std::int32_t feature) noexcept {
  return feature < 0 ? in.radius[body] : 0.0;
}

// The world geometry of one contact and the intermediates its adjoint reuses.
struct Geometry {
  V2 normal;
  V2 point;
  double depth = 0.0;
  V2 world_b;           // the point feature of b, x_b + R_b p_b
  V2 world_a;           // kFace: the face's first vertex in the world; kPoints: a's point feature
  V2 local_normal;      // kFace: the face normal in a's frame
  double length = 0.0;  // kFace: face length; kPoints: |world_b - world_a|
  double radius_a = 0.0;
  double radius_b = 0.0;
};

MAYA_RIGID_HD inline Geometry contact_geometry(const ContactInputs& in, ContactKind kind,
                                               std::int32_t body_a, std::int32_t feature_a,
                                               std::int32_t body_b,
                                               std::int32_t feature_b) noexcept {
  Geometry g;
  const BodyFrame& b = in.frames[body_b];
  g.world_b = b.to_world(local_point(in, feature_b));
  g.radius_b = feature_radius(in, body_b, feature_b);
  switch (kind) {
    case ContactKind::kGround: {
      // pen = offset - n . P + r_b
      const GroundPlane& plane = in.grounds[feature_a];
      g.normal = {plane.normal.x, plane.normal.y};
      g.depth = plane.offset - dot(g.normal, g.world_b) + g.radius_b;
      break;
    }
    case ContactKind::kFace: {
      // n_l = (e_y, -e_x) / |e| for the counter-clockwise edge e; pen = n . (q - P) + r_b
      const BodyFrame& a = in.frames[body_a];
      const V2 v0 = local_point(in, feature_a);
      const V2 edge = local_point(in, in.next_vertex[feature_a]) - v0;
      g.length = std::sqrt(dot(edge, edge));
      g.local_normal = (1.0 / g.length) * V2{edge.y, -edge.x};
      g.normal = a.rotate(g.local_normal);
      g.world_a = a.to_world(v0);
      g.depth = dot(g.normal, g.world_a - g.world_b) + g.radius_b;
      break;
    }
    case ContactKind::kPoints: {
      // n = d / |d|, d = P_b - P_a; pen = r_a + r_b - |d|
      const BodyFrame& a = in.frames[body_a];
      g.world_a = a.to_world(local_point(in, feature_a));
      g.radius_a = feature_radius(in, body_a, feature_a);
      const V2 d = g.world_b - g.world_a;
      g.length = std::sqrt(dot(d, d));
      // Coincident points (two circles at one centre) have no direction between them: push b
      // up out of a, a fixed choice, so they separate instead of staying fused; the normal is
      // then a constant (no gradient through it).
      g.normal = g.length > 0.0 ? (1.0 / g.length) * d : V2{0.0, 1.0};
      g.depth = g.radius_a + g.radius_b - g.length;
      break;
    }
  }
  // The deepest point of b: its feature, or the circle's surface point along -n.
  g.point = g.world_b - g.radius_b * g.normal;
  return g;
}

// The force on b (and minus it on a) and the intermediates its adjoint reuses.
struct Force {
  V2 force;
  V2 arm_a;  // point - x_a
  V2 arm_b;  // point - x_b
  V2 relative_velocity;
  V2 tangent;
  double normal_speed = 0.0;  // v_n
  double normal_force = 0.0;  // f_n
  double slip = 0.0;          // tanh(v_t / eps)
  double hertz = 0.0;         // Hunt-Crossley: pen^(3/2)
};

MAYA_RIGID_HD inline Force contact_force(const Geometry& g, const BodyFrame* a, const BodyFrame& b,
                                         const Material& m) noexcept {
  Force f;
  f.arm_b = g.point - b.position;
  V2 v_rel = b.velocity + b.omega * perp(f.arm_b);
  if (a != nullptr) {
    f.arm_a = g.point - a->position;
    v_rel -= a->velocity + a->omega * perp(f.arm_a);
  }
  f.relative_velocity = v_rel;
  f.tangent = perp(g.normal);
  f.normal_speed = dot(g.normal, v_rel);
  if (m.law == NormalForceLaw::kKelvinVoigt) {
    f.normal_force = m.stiffness * g.depth - m.damping * f.normal_speed;
  } else {
    f.hertz = g.depth * std::sqrt(g.depth);
    f.normal_force = std::fmax(0.0, m.stiffness * f.hertz * (1.0 - m.damping * f.normal_speed));
  }
  f.slip = std::tanh(dot(f.tangent, v_rel) / m.smoothing);
  const double tangential = -m.friction * f.normal_force * f.slip;
  f.force = f.normal_force * g.normal + tangential * f.tangent;
  return f;
}

// Adds the contact's wrench (force, torque about the centre) to b and subtracts it from a.
MAYA_RIGID_HD inline void apply_wrench(const Force& f, double* wrench, std::int32_t body_a,
                                       std::int32_t body_b) noexcept {
  double* wb = wrench + 3 * body_b;
  wb[0] += f.force.x;
  wb[1] += f.force.y;
  wb[2] += cross(f.arm_b, f.force);
  if (body_a >= 0) {
    double* wa = wrench + 3 * body_a;
    wa[0] -= f.force.x;
    wa[1] -= f.force.y;
    wa[2] -= cross(f.arm_a, f.force);
  }
}

// Adjoint of the geometry's outputs.
struct GeometryAdjoint {
  V2 normal;
  V2 point;
  double depth = 0.0;
};

// Reverse of contact_force and apply_wrench: from d loss / d wrench of a and b (null for the
// ground) to the velocities, the material and the geometry's adjoint.
template <class Sinks>
MAYA_RIGID_HD inline GeometryAdjoint contact_force_backward(
    const Geometry& g, const Force& f, const BodyFrame* a, const BodyFrame& b, std::int32_t body_a,
    std::int32_t body_b, const Material& m, const double* g_wrench_a, const double* g_wrench_b,
    Sinks& sinks) noexcept {
  // torque = arm x F: d/dF = perp(arm), d/darm = (F_y, -F_x).
  const V2 torque_by_arm{f.force.y, -f.force.x};
  V2 g_force{g_wrench_b[0], g_wrench_b[1]};
  g_force += g_wrench_b[2] * perp(f.arm_b);
  V2 g_arm_b = g_wrench_b[2] * torque_by_arm;
  V2 g_arm_a;
  if (a != nullptr) {
    g_force -= V2{g_wrench_a[0], g_wrench_a[1]};
    g_force -= g_wrench_a[2] * perp(f.arm_a);
    g_arm_a = -g_wrench_a[2] * torque_by_arm;
  }
  // F = f_n n + f_t t,  f_t = -mu f_n s,  s = tanh(v_t / eps).
  const double tangential = -m.friction * f.normal_force * f.slip;
  const double g_tangential = dot(g_force, f.tangent);
  double g_normal_force = dot(g_force, g.normal);
  GeometryAdjoint adj;
  adj.normal = f.normal_force * g_force;
  V2 g_tangent = tangential * g_force;
  sinks.material[2] -= f.normal_force * f.slip * g_tangential;
  g_normal_force -= m.friction * f.slip * g_tangential;
  const double g_tangent_speed =
      -m.friction * f.normal_force * (1.0 - f.slip * f.slip) / m.smoothing * g_tangential;
  // Normal law.
  double g_normal_speed = 0.0;
  if (m.law == NormalForceLaw::kKelvinVoigt) {
    // f_n = k pen - c v_n
    sinks.material[0] += g.depth * g_normal_force;
    sinks.material[1] -= f.normal_speed * g_normal_force;
    adj.depth = m.stiffness * g_normal_force;
    g_normal_speed = -m.damping * g_normal_force;
  } else if (f.normal_force > 0.0) {
    // f_n = k pen^(3/2) (1 - c v_n) where positive
    const double rate = 1.0 - m.damping * f.normal_speed;
    sinks.material[0] += f.hertz * rate * g_normal_force;
    sinks.material[1] -= m.stiffness * f.hertz * f.normal_speed * g_normal_force;
    adj.depth = 1.5 * m.stiffness * std::sqrt(g.depth) * rate * g_normal_force;
    g_normal_speed = -m.stiffness * f.hertz * m.damping * g_normal_force;
  }
  // v_n = n . v_rel, v_t = t . v_rel, t = (-n_y, n_x).
  const V2 g_velocity = g_normal_speed * g.normal + g_tangent_speed * f.tangent;
  adj.normal += g_normal_speed * f.relative_velocity;
  g_tangent += g_tangent_speed * f.relative_velocity;
  adj.normal += V2{g_tangent.y, -g_tangent.x};
  // v_rel = v_b + omega_b perp(arm_b) - (v_a + omega_a perp(arm_a)); d (g . perp(r)) / dr = (g_y,
  // -g_x).
  const V2 velocity_by_arm{g_velocity.y, -g_velocity.x};
  sinks.add_velocity(body_b, g_velocity, dot(g_velocity, perp(f.arm_b)));
  g_arm_b += b.omega * velocity_by_arm;
  if (a != nullptr) {
    // x - y and x + (-y) round alike, so these are the subtractions they stand for.
    sinks.add_velocity(body_a, -g_velocity, -dot(g_velocity, perp(f.arm_a)));
    g_arm_a -= a->omega * velocity_by_arm;
    // arm_a = point - x_a
    adj.point += g_arm_a;
    sinks.add_pose(body_a, -g_arm_a, 0.0);
  }
  adj.point += g_arm_b;
  sinks.add_pose(body_b, -g_arm_b, 0.0);
  return adj;
}

// Reverse of P = x + R(theta) p for a point feature (vertex or circle centre).
template <class Sinks>
MAYA_RIGID_HD inline void point_backward(const ContactInputs& in, Sinks& sinks, std::int32_t body,
                                         std::int32_t feature, V2 world, V2 g_world) noexcept {
  const BodyFrame& frame = in.frames[body];
  // d (R p) / d theta = perp(R p)
  sinks.add_pose(body, g_world, dot(g_world, perp(world - frame.position)));
  if (feature >= 0 && sinks.wants_vertices(body)) {
    sinks.add_vertex(feature, frame.unrotate(g_world));
  }
}

template <class Sinks>
MAYA_RIGID_HD inline void radius_backward(Sinks& sinks, std::int32_t body, std::int32_t feature,
                                          double g_radius) noexcept {
  if (feature < 0) sinks.add_radius(body, g_radius);
}

// Reverse of contact_geometry.
template <class Sinks>
MAYA_RIGID_HD inline void contact_geometry_backward(const ContactInputs& in, const Geometry& g,
                                                    const GeometryAdjoint& adj, ContactKind kind,
                                                    std::int32_t body_a, std::int32_t feature_a,
                                                    std::int32_t body_b, std::int32_t feature_b,
                                                    Sinks& sinks) noexcept {
  // point = P_b - r_b n
  V2 g_normal = adj.normal - g.radius_b * adj.point;
  double g_radius_b = -dot(g.normal, adj.point);
  V2 g_world_b = adj.point;
  switch (kind) {
    case ContactKind::kGround: {
      // pen = offset - n . P + r_b (n is constant)
      g_world_b -= adj.depth * g.normal;
      g_radius_b += adj.depth;
      break;
    }
    case ContactKind::kFace: {
      // pen = n . (q - P) + r_b,  n = R_a n_l,  q = x_a + R_a v0
      const BodyFrame& a = in.frames[body_a];
      g_normal += adj.depth * (g.world_a - g.world_b);
      const V2 g_face_point = adj.depth * g.normal;
      g_world_b -= adj.depth * g.normal;
      g_radius_b += adj.depth;
      // d (R n_l) / d theta = perp(n)
      sinks.add_pose(body_a, {}, dot(g_normal, perp(g.normal)));
      point_backward(in, sinks, body_a, feature_a, g.world_a, g_face_point);
      if (sinks.wants_vertices(body_a)) {
        // n_l = m / |m|, m = (e_y, -e_x), e = v1 - v0
        const V2 g_local_normal = a.unrotate(g_normal);
        const V2 g_m = (1.0 / g.length) *
                       (g_local_normal - dot(g_local_normal, g.local_normal) * g.local_normal);
        const V2 g_edge{-g_m.y, g_m.x};
        const std::int32_t v1 = in.next_vertex[feature_a];
        sinks.add_vertex(v1, g_edge);
        sinks.add_vertex(feature_a, -g_edge);
      }
      break;
    }
    case ContactKind::kPoints: {
      // n = d / |d|, pen = r_a + r_b - |d|, d = P_b - P_a
      const V2 g_d = g.length > 0.0
                         ? (1.0 / g.length) * (g_normal - dot(g_normal, g.normal) * g.normal) -
                               adj.depth * g.normal
                         : -adj.depth * g.normal;
      g_world_b += g_d;
      g_radius_b += adj.depth;
      point_backward(in, sinks, body_a, feature_a, g.world_a, -g_d);
      radius_backward(sinks, body_a, feature_a, adj.depth);
      break;
    }
  }
  point_backward(in, sinks, body_b, feature_b, g.world_b, g_world_b);
  radius_backward(sinks, body_b, feature_b, g_radius_b);
}

}  // namespace maya::rigid::detail
