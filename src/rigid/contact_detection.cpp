// Broad and narrow phase of body-body contact. The narrow phase only chooses features; whether a
// contact exists is decided by contact_geometry's depth, the same number the step then uses.
#include "rigid/contact_detection.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace maya::rigid::detail {

namespace {

void accept(const ContactInputs& in, ContactKind kind, std::int32_t body_a, std::int32_t feature_a,
            std::int32_t body_b, std::int32_t feature_b, std::vector<Contact>& out) {
  const Geometry g = contact_geometry(in, kind, body_a, feature_a, body_b, feature_b);
  if (!(g.depth > 0.0)) return;
  out.push_back(make_contact(kind, body_a, feature_a, body_b, feature_b, g));
}

struct PolygonRef {
  std::int32_t body;
  std::int32_t first;
  std::int32_t count;
};

PolygonRef polygon_of(const RigidWorld2D& world, std::int32_t body) {
  const auto b = static_cast<std::size_t>(body);
  return {body, static_cast<std::int32_t>(world.first_vertex(b)),
          static_cast<std::int32_t>(world.shape(b).vertices().size())};
}

V2 outward_normal(V2 from, V2 to) {
  const V2 edge = to - from;
  return (1.0 / std::sqrt(dot(edge, edge))) * V2{edge.y, -edge.x};
}

// Circle b against polygon a, in a's frame: the face of greatest separation, then its Voronoi
// regions (b2CollidePolygonAndCircle).
void collide_polygon_circle(const ContactInputs& in, const PolygonRef& a, std::int32_t b,
                            std::vector<Contact>& out) {
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
    accept(in, ContactKind::kPoints, a.body, i0, b, -1, out);
  } else if (separation > 0.0 && dot(centre - v1, v0 - v1) <= 0.0) {
    accept(in, ContactKind::kPoints, a.body, i1, b, -1, out);
  } else {
    accept(in, ContactKind::kFace, a.body, i0, b, -1, out);
  }
}

// The face of `p` along whose normal `q` is least deep: max over faces of min over q's vertices.
std::pair<double, std::int32_t> max_separation(const std::vector<V2>& p, const std::vector<V2>& q) {
  double best = -INFINITY;
  std::int32_t face = 0;
  const auto n = static_cast<std::int32_t>(p.size());
  for (std::int32_t i = 0; i < n; ++i) {
    const V2 normal = outward_normal(p[i], p[(i + 1) % n]);
    double deepest = INFINITY;
    for (const V2 w : q) deepest = std::min(deepest, dot(normal, w - p[i]));
    if (deepest > best) {
      best = deepest;
      face = i;
    }
  }
  return {best, face};
}

void collide_polygons(const ContactInputs& in, const PolygonRef& a, const PolygonRef& b,
                      std::vector<Contact>& out, Workspace& work) {
  auto world_a_memory = work.borrow<V2>();
  auto world_b_memory = work.borrow<V2>();
  std::vector<V2>& world_a = *world_a_memory;
  std::vector<V2>& world_b = *world_b_memory;
  const auto to_world = [&](const PolygonRef& p, std::vector<V2>& w) {
    w.resize(static_cast<std::size_t>(p.count));
    for (std::int32_t i = 0; i < p.count; ++i) {
      w[static_cast<std::size_t>(i)] = in.frames[p.body].to_world(local_point(in, p.first + i));
    }
  };
  to_world(a, world_a);
  to_world(b, world_b);
  const auto [separation_a, face_a] = max_separation(world_a, world_b);
  if (separation_a > 0.0) return;
  const auto [separation_b, face_b] = max_separation(world_b, world_a);
  if (separation_b > 0.0) return;
  // Reference face: the axis of least penetration, preferring a on ties.
  const bool flip = separation_b > separation_a + 1e-12;
  const PolygonRef& ref = flip ? b : a;
  const PolygonRef& inc = flip ? a : b;
  const std::vector<V2>& ref_world = flip ? world_b : world_a;
  const std::vector<V2>& inc_world = flip ? world_a : world_b;
  const std::int32_t f = flip ? face_b : face_a;
  const V2 v[2] = {ref_world[static_cast<std::size_t>(f)],
                   ref_world[static_cast<std::size_t>((f + 1) % ref.count)]};
  const V2 normal = outward_normal(v[0], v[1]);
  // Incident face: the face of inc most anti-parallel to the reference normal.
  std::int32_t k = 0;
  double most_opposed = INFINITY;
  for (std::int32_t i = 0; i < inc.count; ++i) {
    const double d =
        dot(normal, outward_normal(inc_world[static_cast<std::size_t>(i)],
                                   inc_world[static_cast<std::size_t>((i + 1) % inc.count)]));
    if (d < most_opposed) {
      most_opposed = d;
      k = i;
    }
  }
  const std::int32_t w_index[2] = {k, (k + 1) % inc.count};
  const V2 w[2] = {inc_world[static_cast<std::size_t>(w_index[0])],
                   inc_world[static_cast<std::size_t>(w_index[1])]};
  const double length = std::sqrt(dot(v[1] - v[0], v[1] - v[0]));
  const V2 along = (1.0 / length) * (v[1] - v[0]);
  const double tolerance = 1e-9 * length;
  // Incident vertices between the reference face's side planes (inclusive) touch the face.
  for (int j = 0; j < 2; ++j) {
    if (dot(along, w[j] - v[0]) >= -tolerance && dot(along, w[j] - v[1]) <= tolerance) {
      accept(in, ContactKind::kFace, ref.body, ref.first + f, inc.body, inc.first + w_index[j],
             out);
    }
  }
  // Where the incident face crosses a side plane, Box2D clips it there; the reference vertex on
  // that plane, against the incident face, is the same contact to first order in the depth.
  const std::int32_t v_index[2] = {f, (f + 1) % ref.count};
  for (int j = 0; j < 2; ++j) {
    const double s0 = dot(along, w[0] - v[j]);
    const double s1 = dot(along, w[1] - v[j]);
    if ((s0 > tolerance && s1 < -tolerance) || (s0 < -tolerance && s1 > tolerance)) {
      accept(in, ContactKind::kFace, inc.body, inc.first + k, ref.body, ref.first + v_index[j],
             out);
    }
  }
}

void collide(const RigidWorld2D& world, const ContactInputs& in, std::int32_t a, std::int32_t b,
             std::vector<Contact>& out, Workspace& work) {
  const bool a_circle = world.shape(static_cast<std::size_t>(a)).kind() == ShapeKind::kCircle;
  const bool b_circle = world.shape(static_cast<std::size_t>(b)).kind() == ShapeKind::kCircle;
  if (a_circle && b_circle) {
    const V2 d = in.frames[b].position - in.frames[a].position;
    const double reach = in.radius[a] + in.radius[b];
    if (dot(d, d) < reach * reach) {  // coincident centres too (contact_geometry's normal)
      accept(in, ContactKind::kPoints, a, -1, b, -1, out);
    }
  } else if (b_circle) {
    collide_polygon_circle(in, polygon_of(world, a), b, out);
  } else if (a_circle) {
    collide_polygon_circle(in, polygon_of(world, b), a, out);
  } else {
    collide_polygons(in, polygon_of(world, a), polygon_of(world, b), out, work);
  }
}

}  // namespace

void find_pair_contacts(const RigidWorld2D& world, const ContactInputs& in,
                        std::vector<Contact>& out, Workspace& work) {
  const std::size_t n = world.num_bodies();
  if (n < 2) return;
  auto reach_memory = work.borrow<double>(n);
  auto low_memory = work.borrow<double>(n);
  std::vector<double>& reach = *reach_memory;
  std::vector<double>& low = *low_memory;
  std::vector<std::int32_t>& order = work.kept<std::int32_t>(&world);
  for (std::size_t k = 0; k < n; ++k) {
    const BodyShape& shape = world.shape(k);
    double r = 0.0;
    if (shape.kind() == ShapeKind::kCircle) {
      r = in.radius[k];
    } else {
      const std::size_t first = world.first_vertex(k);
      for (std::size_t i = 0; i < shape.vertices().size(); ++i) {
        const V2 v = local_point(in, static_cast<std::int32_t>(first + i));
        r = std::max(r, dot(v, v));
      }
      r = std::sqrt(r);
    }
    reach[k] = r;
    low[k] = in.frames[k].position.x - r;
  }
  // Sort-and-sweep along x. The order persists between calls on one workspace (a tape's), so for
  // coherent motion the insertion sort is linear; ties break by index, so the result depends only
  // on values.
  if (order.size() != n) {
    order.resize(n);
    for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::int32_t>(k);
  }
  const auto before = [&](std::int32_t p, std::int32_t q) {
    return low[p] < low[q] || (low[p] == low[q] && p < q);
  };
  for (std::size_t i = 1; i < n; ++i) {
    const std::int32_t body = order[i];
    std::size_t j = i;
    for (; j > 0 && before(body, order[j - 1]); --j) order[j] = order[j - 1];
    order[j] = body;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t p = order[i];
    const double high = in.frames[p].position.x + reach[p];
    for (std::size_t j = i + 1; j < n && low[order[j]] <= high; ++j) {
      const std::int32_t q = order[j];
      const V2 d = in.frames[q].position - in.frames[p].position;
      const double r = reach[p] + reach[q];
      if (dot(d, d) > r * r) continue;
      collide(world, in, std::min(p, q), std::max(p, q), out, work);
    }
  }
}

}  // namespace maya::rigid::detail
