// Penalty contact between the shapes of two bodies (Model::contact_pairs()), templated on the
// scalar so that every differentiation path (the fused step's reverse-mode recording, forward-mode
// step Jacobians, the composed twin) runs the same code. Each pair yields contacts (depth d > 0,
// unit normal n from body a to body b, world point p) and the law of the planes acts at each:
//   f_n = max(0, k d^e (1 - c (n . v_rel))),  f_t = -mu f_n v_t / sqrt(|v_t|^2 + eps^2),
// with v_rel the velocity of b's material point at p relative to a's; b feels f_n n + f_t, a the
// opposite, so linear and angular momentum are conserved.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <utility>

#include "multibody/algorithms.hpp"

namespace maya::multibody::detail {

template <class S>
struct PairContact {
  S depth;         // negative: apart (a contact found within a margin)
  Vec3<S> normal;  // unit, from body a towards body b
  Vec3<S> point;   // world
  int slot = 0;    // which of the pair's contacts (a box corner, a capsule end): stable over steps
};

// A margin under which every contact of a pair is reported, however far apart: hard contact
// evaluates a contact it chose (by its slot) again this way.
inline constexpr double kAnyDistance = 1e30;

// A geom's pose in the world: centre and rotation (geom axes in world coordinates, columns).
template <class S>
struct GeomPose {
  Vec3<S> centre;
  Mat3<S> R;  // geom -> world
};

template <class S>
GeomPose<S> geom_pose(const Geom& geom, const Transform<S>& X) {
  const Mat3<double> local = quat_to_matrix(quat_normalized(Quat<double>{
      geom.orientation[0], geom.orientation[1], geom.orientation[2], geom.orientation[3]}));
  const Vec3<S> position{S(geom.position[0]), S(geom.position[1]), S(geom.position[2])};
  // X.E rotates world into body coordinates: body -> world is its transpose.
  const Mat3<S> body_to_world = transpose(X.E);
  return {add(X.r, mul(body_to_world, position)), mul(body_to_world, cast3<S>(local))};
}

// Two spheres (a capsule's segment point is one): contact along the line of centres, at the
// middle of the overlap; closer than the margin (0: touching) counts.
template <class S>
bool spheres(const Vec3<S>& ca, double ra, const Vec3<S>& cb, double rb, double margin,
             PairContact<S>& out) {
  const Vec3<S> gap = sub(cb, ca);
  const S distance_sq = dot(gap, gap);
  const double reach = ra + rb;
  const double reach_margin = reach + margin;
  if (!(value_of(distance_sq) < reach_margin * reach_margin) || !(value_of(distance_sq) > 1e-24)) {
    return false;
  }
  const S distance = sqrt(distance_sq);
  out.depth = reach - distance;
  out.normal = scale(1.0 / distance, gap);
  out.point = add(ca, scale(ra - 0.5 * out.depth, out.normal));
  return true;
}

// The point of segment [p0, p1] closest to x.
template <class S>
Vec3<S> closest_on_segment(const Vec3<S>& p0, const Vec3<S>& p1, const Vec3<S>& x) {
  const Vec3<S> d = sub(p1, p0);
  const S length_sq = dot(d, d);
  if (!(value_of(length_sq) > 1e-24)) return p0;
  S t = dot(sub(x, p0), d) / length_sq;
  if (value_of(t) < 0.0) t = S(0.0);
  if (value_of(t) > 1.0) t = S(1.0);
  return add(p0, scale(t, d));
}

// The closest points of segments [p0, p1] and [q0, q1] (Ericson, "Real-Time Collision
// Detection", 5.1.9), clamped to both segments; parallel segments take the middle of their
// overlap so that the contact stays centred.
template <class S>
void closest_between_segments(const Vec3<S>& p0, const Vec3<S>& p1, const Vec3<S>& q0,
                              const Vec3<S>& q1, Vec3<S>& on_p, Vec3<S>& on_q) {
  const Vec3<S> d1 = sub(p1, p0), d2 = sub(q1, q0), r = sub(p0, q0);
  const S a = dot(d1, d1), e = dot(d2, d2), f = dot(d2, r);
  const S c = dot(d1, r), b = dot(d1, d2);
  const S denominator = a * e - b * b;
  S s = S(0.0), t = S(0.0);
  const auto clamp01 = [](S x) {
    return value_of(x) < 0.0 ? S(0.0) : value_of(x) > 1.0 ? S(1.0) : x;
  };
  if (!(value_of(a) > 1e-24) || !(value_of(e) > 1e-24)) {
    // A segment of zero length (a capsule that is a sphere): the other's point closest to it.
    if (value_of(a) > 1e-24) s = clamp01(-c / a);
    if (value_of(e) > 1e-24) t = clamp01(f / e);
    on_p = add(p0, scale(s, d1));
    on_q = add(q0, scale(t, d2));
    return;
  }
  if (value_of(denominator) > 1e-12 * value_of(a) * value_of(e)) {
    s = (b * f - c * e) / denominator;
    if (value_of(s) < 0.0) s = S(0.0);
    if (value_of(s) > 1.0) s = S(1.0);
  } else {
    // Parallel: the middle of q's segment projected onto p.
    s = dot(sub(scale(0.5, add(q0, q1)), p0), d1) / a;
    if (value_of(s) < 0.0) s = S(0.0);
    if (value_of(s) > 1.0) s = S(1.0);
  }
  t = (b * s + f) / e;
  if (value_of(t) < 0.0 || value_of(t) > 1.0) {
    t = value_of(t) < 0.0 ? S(0.0) : S(1.0);
    s = (b * t - c) / a;
    if (value_of(s) < 0.0) s = S(0.0);
    if (value_of(s) > 1.0) s = S(1.0);
  }
  on_p = add(p0, scale(s, d1));
  on_q = add(q0, scale(t, d2));
}

// A sphere (centre x, radius r) against a box; the normal points from the box to the sphere.
// Outside the box: along the gap to the box's closest point, if closer than r + margin. Inside (a
// box corner against another box is a sphere of radius 0): out through the nearest face.
template <class S>
bool sphere_box(const Vec3<S>& x, double r, const GeomPose<S>& box, const Vec3<double>& half,
                double margin, PairContact<S>& out) {
  const Vec3<S> local = mul_transpose(box.R, sub(x, box.centre));
  Vec3<S> clamped = local;
  bool inside = true;
  for (int k = 0; k < 3; ++k) {
    if (value_of(local[k]) > half[k]) clamped[k] = S(half[k]), inside = false;
    if (value_of(local[k]) < -half[k]) clamped[k] = S(-half[k]), inside = false;
  }
  if (!inside) {
    const Vec3<S> gap = sub(local, clamped);
    const S distance_sq = dot(gap, gap);
    const double reach = r + margin;
    if (!(value_of(distance_sq) < reach * reach) || !(value_of(distance_sq) > 1e-24)) return false;
    const S distance = sqrt(distance_sq);
    out.depth = r - distance;
    out.normal = mul(box.R, scale(1.0 / distance, gap));
    out.point = add(box.centre, mul(box.R, clamped));
    out.point = add(out.point, scale(-0.5 * out.depth, out.normal));
    return true;
  }
  int axis = 0;
  double least = half[0] - std::abs(value_of(local[0]));
  for (int k = 1; k < 3; ++k) {
    const double room = half[k] - std::abs(value_of(local[k]));
    if (room < least) least = room, axis = k;
  }
  const double sign = value_of(local[axis]) >= 0.0 ? 1.0 : -1.0;
  Vec3<S> n_local{S(0.0), S(0.0), S(0.0)};
  n_local[axis] = S(sign);
  out.depth = r + (half[axis] - sign * local[axis]);
  out.normal = mul(box.R, n_local);
  Vec3<S> face = local;
  face[axis] = S(sign * half[axis]);
  out.point = add(add(box.centre, mul(box.R, face)), scale(-0.5 * out.depth, out.normal));
  return true;
}

// The point of segment a + t d (box coordinates, t in [0, 1]) closest to the box of half sizes
// `half`: the squared distance to a box is convex along a line, so a golden-section search on the
// values finds the closest feature; then t comes again, in S, from that feature (an edge: the
// segments' closest points; a corner: the projection), so that it moves with the bodies.
template <class S>
S segment_closest_to_box(const Vec3<S>& a, const Vec3<S>& d, const Vec3<double>& half) {
  const auto distance_sq = [&](double t) {
    double sum = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double excess = std::abs(value_of(a[k]) + t * value_of(d[k])) - half[k];
      if (excess > 0.0) sum += excess * excess;
    }
    return sum;
  };
  constexpr double kGolden = 0.6180339887498949;
  double lo = 0.0, hi = 1.0;
  double x1 = hi - kGolden * (hi - lo), x2 = lo + kGolden * (hi - lo);
  double f1 = distance_sq(x1), f2 = distance_sq(x2);
  for (int iteration = 0; iteration < 80; ++iteration) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - kGolden * (hi - lo), f1 = distance_sq(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + kGolden * (hi - lo), f2 = distance_sq(x2);
    }
  }
  const double t = 0.5 * (lo + hi);
  Vec3<S> corner{S(0.0), S(0.0), S(0.0)};
  int beyond = 0, free_axis = 0;
  for (int k = 0; k < 3; ++k) {
    const double x = value_of(a[k]) + t * value_of(d[k]);
    if (std::abs(x) > half[k]) {
      corner[k] = S(x > 0.0 ? half[k] : -half[k]);
      ++beyond;
    } else {
      free_axis = k;
    }
  }
  const S length_sq = dot(d, d);
  if (!(t > 1e-9 && t < 1.0 - 1e-9) || !(value_of(length_sq) > 1e-24)) return S(t);
  if (beyond == 3) return dot(sub(corner, a), d) / length_sq;  // a corner
  if (beyond != 2) return S(t);      // a face: the distance is flat along the segment
  Vec3<S> e0 = corner, e1 = corner;  // the edge along the free axis
  e0[free_axis] = S(-half[free_axis]);
  e1[free_axis] = S(half[free_axis]);
  Vec3<S> on_segment, on_edge;
  closest_between_segments(a, add(a, d), e0, e1, on_segment, on_edge);
  return dot(sub(on_segment, a), d) / length_sq;
}

// A capsule (segment [p0, p1], radius r) against a box; normals from the box to the capsule. The
// part of the segment over the box (clipped to the box's slab on each axis the segment does not
// lie wholly beyond on one side) touches at its two ends (slots 0, 1): a capsule lying on a face
// rests on the face's edges where it overhangs them, with its weight split as statics says. A
// segment that leaves no part over the box (it passes over an edge or a corner) touches at its
// point closest to the box (slot 2).
template <class S>
std::size_t capsule_box(const Vec3<S>& p0, const Vec3<S>& p1, double r, const GeomPose<S>& box,
                        const Vec3<double>& half, double margin,
                        std::array<PairContact<S>, 2>& out) {
  const Vec3<S> a = mul_transpose(box.R, sub(p0, box.centre));
  const Vec3<S> d = mul_transpose(box.R, sub(p1, p0));
  S t0 = S(0.0), t1 = S(1.0);
  for (int k = 0; k < 3; ++k) {
    const double start = value_of(a[k]), end = start + value_of(d[k]);
    if ((start > half[k] && end > half[k]) || (start < -half[k] && end < -half[k])) continue;
    if (!(std::abs(value_of(d[k])) > 1e-12)) continue;  // parallel to the slab, inside it
    S enter = (-half[k] - a[k]) / d[k], leave = (half[k] - a[k]) / d[k];
    if (value_of(enter) > value_of(leave)) std::swap(enter, leave);
    if (value_of(enter) > value_of(t0)) t0 = enter;
    if (value_of(leave) < value_of(t1)) t1 = leave;
  }
  std::size_t count = 0;
  const auto at = [&](const S& t, int slot) {
    if (sphere_box(add(p0, scale(t, sub(p1, p0))), r, box, half, margin, out[count])) {
      out[count++].slot = slot;
    }
  };
  if (value_of(t0) <= value_of(t1)) {
    at(t0, 0);
    if (value_of(t1) - value_of(t0) > 1e-12) at(t1, 1);
  } else {
    at(segment_closest_to_box(a, d, half), 2);
  }
  return count;
}

// Every contact of a pair (at most 16: box corners both ways), world frame, with depth above
// -margin (margin 0: touching). Each carries its slot: 0 for the single contact of a sphere or a
// capsule pair, capsule_box()'s against a box, 2 corner + side for two boxes (side 0: a's corner
// in b).
template <class S>
std::size_t pair_contacts(const ContactPair& pair, const Transform<S>& Xa, const Transform<S>& Xb,
                          std::array<PairContact<S>, 16>& out, double margin = 0.0) {
  const Geom& ga = pair.geom_a;
  const Geom& gb = pair.geom_b;
  const GeomPose<S> a = geom_pose(ga, Xa), b = geom_pose(gb, Xb);
  const auto axis_end = [](const GeomPose<S>& pose, double half_length, double sign) {
    return add(pose.centre, scale(sign * half_length, Vec3<S>{pose.R[2], pose.R[5], pose.R[8]}));
  };
  std::size_t count = 0;
  PairContact<S> contact;
  const auto keep = [&](int slot, bool flip) {
    contact.slot = slot;
    // A contact found with b's shape as the first is flipped, so that its normal runs from a to b.
    if (flip) contact.normal = scale(-1.0, contact.normal);
    out[count++] = contact;
  };
  switch (gb.type) {
    case ShapeType::kSphere:  // a is a sphere too
      if (spheres(a.centre, ga.radius, b.centre, gb.radius, margin, contact)) keep(0, false);
      break;
    case ShapeType::kCapsule: {
      const Vec3<S> q0 = axis_end(b, gb.half_length, -1.0), q1 = axis_end(b, gb.half_length, 1.0);
      if (ga.type == ShapeType::kSphere) {
        const Vec3<S> on_b = closest_on_segment(q0, q1, a.centre);
        if (spheres(a.centre, ga.radius, on_b, gb.radius, margin, contact)) keep(0, false);
      } else {
        Vec3<S> on_a, on_b;
        closest_between_segments(axis_end(a, ga.half_length, -1.0),
                                 axis_end(a, ga.half_length, 1.0), q0, q1, on_a, on_b);
        if (spheres(on_a, ga.radius, on_b, gb.radius, margin, contact)) keep(0, false);
      }
      break;
    }
    case ShapeType::kBox:
      if (ga.type == ShapeType::kSphere) {
        if (sphere_box(a.centre, ga.radius, b, gb.size, margin, contact)) keep(0, true);
      } else if (ga.type == ShapeType::kCapsule) {
        std::array<PairContact<S>, 2> along;
        const std::size_t found =
            capsule_box(axis_end(a, ga.half_length, -1.0), axis_end(a, ga.half_length, 1.0),
                        ga.radius, b, gb.size, margin, along);
        for (std::size_t k = 0; k < found; ++k) {
          contact = along[k];
          keep(along[k].slot, true);
        }
      } else {
        for (int corner = 0; corner < 8; ++corner) {
          const Vec3<S> offset{S((corner & 1) ? ga.size[0] : -ga.size[0]),
                               S((corner & 2) ? ga.size[1] : -ga.size[1]),
                               S((corner & 4) ? ga.size[2] : -ga.size[2])};
          if (sphere_box(add(a.centre, mul(a.R, offset)), 0.0, b, gb.size, margin, contact)) {
            keep(2 * corner, true);
          }
          const Vec3<S> other{S((corner & 1) ? gb.size[0] : -gb.size[0]),
                              S((corner & 2) ? gb.size[1] : -gb.size[1]),
                              S((corner & 4) ? gb.size[2] : -gb.size[2])};
          if (sphere_box(add(b.centre, mul(b.R, other)), 0.0, a, ga.size, margin, contact)) {
            keep(2 * corner + 1, false);
          }
        }
      }
      break;
  }
  return count;
}

// The world velocity of body i's material point at world position p.
template <class S>
Vec3<S> point_velocity(const TreeScratch<S>& ws, std::size_t body, const Vec3<S>& p) {
  const Transform<S>& X = ws.X_world[body];
  const Vec3<S> local = mul(X.E, sub(p, X.r));
  const Vec6<S>& vb = ws.velocity[body];
  const Vec3<S> w{vb[0], vb[1], vb[2]};
  return mul_transpose(X.E, add(Vec3<S>{vb[3], vb[4], vb[5]}, cross(w, local)));
}

// Adds the world force F at world point p to body i's external wrench (body frame).
template <class S>
void add_world_force(TreeScratch<S>& ws, std::size_t body, const Vec3<S>& p, const Vec3<S>& F) {
  const Transform<S>& X = ws.X_world[body];
  const Vec3<S> local = mul(X.E, sub(p, X.r));
  const Vec3<S> F_local = mul(X.E, F);
  const Vec3<S> moment = cross(local, F_local);
  Vec6<S>& ext = ws.external[body];
  ext = add6(ext, Vec6<S>{moment[0], moment[1], moment[2], F_local[0], F_local[1], F_local[2]});
}

// The radius of a ball about the geom's centre that holds it.
inline double bounding_radius(const Geom& geom) {
  switch (geom.type) {
    case ShapeType::kSphere: return geom.radius;
    case ShapeType::kCapsule: return geom.radius + geom.half_length;
    case ShapeType::kBox:
      return std::sqrt(geom.size[0] * geom.size[0] + geom.size[1] * geom.size[1] +
                       geom.size[2] * geom.size[2]);
  }
  return 0.0;
}

// Whether the pair's bounding balls overlap, on plain numbers: pairs far apart are skipped before
// any geometry is evaluated (or recorded, in reverse mode).
template <class S>
bool may_touch(const ContactPair& pair, const Transform<S>& Xa, const Transform<S>& Xb,
               double margin = 0.0) {
  const auto centre = [](const Geom& geom, const Transform<S>& X) {
    std::array<double, 3> c{};
    for (int i = 0; i < 3; ++i) {
      c[i] = value_of(X.r[i]);
      // X.E rotates world into body coordinates: the body offset in world is E^T position.
      for (int k = 0; k < 3; ++k) c[i] += value_of(X.E[3 * k + i]) * geom.position[k];
    }
    return c;
  };
  const std::array<double, 3> a = centre(pair.geom_a, Xa), b = centre(pair.geom_b, Xb);
  const double reach = bounding_radius(pair.geom_a) + bounding_radius(pair.geom_b) + margin;
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz < reach * reach;
}

// Penalty contact between bodies after kinematics() (with world frames): adds every pair's
// equal and opposite wrenches to ws.external, and, when `forces` is given, writes each pair's
// total world force on its body b (3 per pair; body a feels the opposite).
template <class S>
void body_contact_wrenches(const Model& model, const S* params, TreeScratch<S>& ws, S* forces) {
  const ModelOptions& options = model.options();
  const S* material = params + PL::kPerBody * model.num_bodies();
  const S& stiffness = material[PL::kContactStiffness];
  const S& damping = material[PL::kContactDamping];
  const S& friction = material[PL::kFriction];
  const double eps_sq = options.friction_smoothing * options.friction_smoothing;
  std::array<PairContact<S>, 16> contacts;
  const auto& pairs = model.contact_pairs();
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const ContactPair& pair = pairs[k];
    S* pair_force = forces != nullptr ? forces + 3 * k : nullptr;
    if (pair_force != nullptr) pair_force[0] = pair_force[1] = pair_force[2] = S(0.0);
    const auto a = static_cast<std::size_t>(pair.body_a);
    const auto b = static_cast<std::size_t>(pair.body_b);
    if (!may_touch(pair, ws.X_world[a], ws.X_world[b])) continue;
    const std::size_t count = pair_contacts(pair, ws.X_world[a], ws.X_world[b], contacts);
    for (std::size_t c = 0; c < count; ++c) {
      const PairContact<S>& contact = contacts[c];
      const Vec3<S>& n = contact.normal;
      const Vec3<S> relative =
          sub(point_velocity(ws, b, contact.point), point_velocity(ws, a, contact.point));
      const S normal_speed = dot(n, relative);
      S normal_force =
          stiffness * pow(contact.depth, options.contact_exponent) * (1.0 - damping * normal_speed);
      if (value_of(normal_force) < 0.0) normal_force = S(0.0);
      const Vec3<S> tangential = sub(relative, scale(normal_speed, n));
      const S slip = sqrt(dot(tangential, tangential) + eps_sq);
      const S friction_scale = -friction * normal_force / slip;
      const Vec3<S> F = add(scale(normal_force, n), scale(friction_scale, tangential));
      add_world_force(ws, b, contact.point, F);
      add_world_force(ws, a, contact.point, scale(-1.0, F));
      if (pair_force != nullptr) {
        for (int r = 0; r < 3; ++r) pair_force[r] += F[r];
      }
    }
  }
}

}  // namespace maya::multibody::detail
