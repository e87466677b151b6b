// The narrow phase of body-body contact, shared by the CPU's contact search
// (contact_detection.cpp) and the GPU rollout (cuda/rigid_rollout.cu): which features of two
// bodies touch, in one order. It only chooses features; whether a contact exists is decided by
// contact_geometry's depth, the same number the step then uses, and each contact that exists is
// handed to visit(kind, body_a, feature_a, body_b, feature_b, geometry).
#pragma once

#include <cmath>
#include <cstdint>

#include "rigid/contact_kernel.hpp"

namespace maya::rigid::detail {

// A polygon's vertices: [first, first + count) of the world's vertex list.
struct PolygonRef {
  std::int32_t body;
  std::int32_t first;
  std::int32_t count;
};

MAYA_RIGID_HD inline V2 outward_normal(V2 from, V2 to) {
  const V2 edge = to - from;
  return (1.0 / std::sqrt(dot(edge, edge))) * V2{edge.y, -edge.x};
}

template <class Visit>
MAYA_RIGID_HD void accept_contact(const ContactInputs& in, ContactKind kind, std::int32_t body_a,
                                  std::int32_t feature_a, std::int32_t body_b,
                                  std::int32_t feature_b, Visit& visit) {
  const Geometry g = contact_geometry(in, kind, body_a, feature_a, body_b, feature_b);
  if (!(g.depth > 0.0)) return;
  visit(kind, body_a, feature_a, body_b, feature_b, g);
}

// Circle b against polygon a, in a's frame: the face of greatest separation, then its Voronoi
// regions (b2CollidePolygonAndCircle).
template <class Visit>
MAYA_RIGID_HD void collide_polygon_circle(const ContactInputs& in, const PolygonRef& a,
                                          std::int32_t b, Visit& visit) {
  const BodyFrame& frame = in.frames[a.body];
  const V2 centre = frame.unrotate(in.frames[b].position - frame.position);
  const double radius = in.radius[b];
  double separation = -INFINITY;
  std::int32_t face = 0;
  for (std::int32_t i = 0; i < a.count; ++i) {
    const V2 v0 = local_point(in, a.first + i);
    const V2 v1 = local_point(in, in.next_vertex[a.first + i]);
    const double s = dot(outward_normal(v0, v1), centre - v0);
    if (s > separation) {
      separation = s;
      face = i;
    }
  }
  if (separation > radius) return;
  const std::int32_t i0 = a.first + face;
  const std::int32_t i1 = in.next_vertex[i0];
  const V2 v0 = local_point(in, i0);
  const V2 v1 = local_point(in, i1);
  if (separation > 0.0 && dot(centre - v0, v1 - v0) <= 0.0) {
    accept_contact(in, ContactKind::kPoints, a.body, i0, b, -1, visit);
  } else if (separation > 0.0 && dot(centre - v1, v0 - v1) <= 0.0) {
    accept_contact(in, ContactKind::kPoints, a.body, i1, b, -1, visit);
  } else {
    accept_contact(in, ContactKind::kFace, a.body, i0, b, -1, visit);
  }
}

// The face of p along whose normal q is least deep: max over faces of min over q's vertices.
// vertex(polygon, i) is vertex i of a polygon in world coordinates.
template <class WorldVertex>
MAYA_RIGID_HD double max_separation(const PolygonRef& p, const PolygonRef& q,
                                    const WorldVertex& vertex, std::int32_t& face) {
  double best = -INFINITY;
  face = 0;
  for (std::int32_t i = 0; i < p.count; ++i) {
    const V2 pi = vertex(p, i);
    const V2 normal = outward_normal(pi, vertex(p, (i + 1) % p.count));
    double deepest = INFINITY;
    for (std::int32_t j = 0; j < q.count; ++j) {
      const double d = dot(normal, vertex(q, j) - pi);
      deepest = d < deepest ? d : deepest;
    }
    if (deepest > best) {
      best = deepest;
      face = i;
    }
  }
  return best;
}

// Polygon against polygon: the reference face of least penetration, the incident face most
// anti-parallel to it, and which of the incident face's ends lie on the reference face.
template <class WorldVertex, class Visit>
MAYA_RIGID_HD void collide_polygons(const ContactInputs& in, const PolygonRef& a,
                                    const PolygonRef& b, const WorldVertex& vertex, Visit& visit) {
  std::int32_t face_a = 0;
  std::int32_t face_b = 0;
  const double separation_a = max_separation(a, b, vertex, face_a);
  if (separation_a > 0.0) return;
  const double separation_b = max_separation(b, a, vertex, face_b);
  if (separation_b > 0.0) return;
  // Reference face: the axis of least penetration, preferring a on ties.
  const bool flip = separation_b > separation_a + 1e-12;
  const PolygonRef& ref = flip ? b : a;
  const PolygonRef& inc = flip ? a : b;
  const std::int32_t f = flip ? face_b : face_a;
  const V2 v[2] = {vertex(ref, f), vertex(ref, (f + 1) % ref.count)};
  const V2 normal = outward_normal(v[0], v[1]);
  // Incident face: the face of inc most anti-parallel to the reference normal.
  std::int32_t k = 0;
  double most_opposed = INFINITY;
  for (std::int32_t i = 0; i < inc.count; ++i) {
    const double d = dot(normal, outward_normal(vertex(inc, i), vertex(inc, (i + 1) % inc.count)));
    if (d < most_opposed) {
      most_opposed = d;
      k = i;
    }
  }
  const std::int32_t w_index[2] = {k, (k + 1) % inc.count};
  const V2 w[2] = {vertex(inc, w_index[0]), vertex(inc, w_index[1])};
  const double length = std::sqrt(dot(v[1] - v[0], v[1] - v[0]));
  const V2 along = (1.0 / length) * (v[1] - v[0]);
  const double tolerance = 1e-9 * length;
  // Incident vertices between the reference face's side planes (inclusive) touch the face.
  for (int j = 0; j < 2; ++j) {
    if (dot(along, w[j] - v[0]) >= -tolerance && dot(along, w[j] - v[1]) <= tolerance) {
      accept_contact(in, ContactKind::kFace, ref.body, ref.first + f, inc.body,
                     inc.first + w_index[j], visit);
    }
  }
  // Where the incident face crosses a side plane, Box2D clips it there; the reference vertex on
  // that plane, against the incident face, is the same contact to first order in the depth.
  const std::int32_t v_index[2] = {f, (f + 1) % ref.count};
  for (int j = 0; j < 2; ++j) {
    const double s0 = dot(along, w[0] - v[j]);
    const double s1 = dot(along, w[1] - v[j]);
    if ((s0 > tolerance && s1 < -tolerance) || (s0 < -tolerance && s1 > tolerance)) {
      accept_contact(in, ContactKind::kFace, inc.body, inc.first + k, ref.body,
                     ref.first + v_index[j], visit);
    }
  }
}

// Bodies a and b (a < b), each a circle (count 0 in its PolygonRef) or a polygon.
template <class WorldVertex, class Visit>
MAYA_RIGID_HD void collide_pair(const ContactInputs& in, const PolygonRef& a, const PolygonRef& b,
                                const WorldVertex& vertex, Visit& visit) {
  const bool a_circle = a.count == 0;
  const bool b_circle = b.count == 0;
  if (a_circle && b_circle) {
    const V2 d = in.frames[b.body].position - in.frames[a.body].position;
    const double reach = in.radius[a.body] + in.radius[b.body];
    if (dot(d, d) < reach * reach) {  // coincident centres too (contact_geometry's normal)
      accept_contact(in, ContactKind::kPoints, a.body, -1, b.body, -1, visit);
    }
  } else if (b_circle) {
    collide_polygon_circle(in, a, b.body, visit);
  } else if (a_circle) {
    collide_polygon_circle(in, b, a.body, visit);
  } else {
    collide_polygons(in, a, b, vertex, visit);
  }
}

}  // namespace maya::rigid::detail
