// Broad and narrow phase of body-body contact: sort and sweep along x here, the narrow phase in
// pair_collision.hpp (shared with the GPU rollout).
#include "rigid/contact_detection.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "rigid/pair_collision.hpp"

namespace maya::rigid::detail {

namespace {

// Body b as collide_pair takes it: a polygon's vertex range, or a count of 0 for a circle.
PolygonRef polygon_of(const RigidWorld2D& world, std::int32_t body) {
  const auto b = static_cast<std::size_t>(body);
  if (world.shape(b).kind() == ShapeKind::kCircle) return {body, -1, 0};
  return {body, static_cast<std::int32_t>(world.first_vertex(b)),
          static_cast<std::int32_t>(world.shape(b).vertices().size())};
}

void collide(const RigidWorld2D& world, const ContactInputs& in, std::int32_t a, std::int32_t b,
             std::vector<Contact>& out, Workspace& work) {
  const PolygonRef pa = polygon_of(world, a);
  const PolygonRef pb = polygon_of(world, b);
  // The polygons' vertices in world coordinates, computed once for the separating-axis tests.
  auto world_a_memory = work.borrow<V2>();
  auto world_b_memory = work.borrow<V2>();
  std::vector<V2>& world_a = *world_a_memory;
  std::vector<V2>& world_b = *world_b_memory;
  if (pa.count > 0 && pb.count > 0) {
    const auto to_world = [&](const PolygonRef& p, std::vector<V2>& w) {
      w.resize(static_cast<std::size_t>(p.count));
      for (std::int32_t i = 0; i < p.count; ++i) {
        w[static_cast<std::size_t>(i)] = in.frames[p.body].to_world(local_point(in, p.first + i));
      }
    };
    to_world(pa, world_a);
    to_world(pb, world_b);
  }
  const auto vertex = [&](const PolygonRef& p, std::int32_t i) {
    return (p.body == pa.body ? world_a : world_b)[static_cast<std::size_t>(i)];
  };
  auto visit = [&](ContactKind kind, std::int32_t body_a, std::int32_t feature_a,
                   std::int32_t body_b, std::int32_t feature_b, const Geometry& g) {
    out.push_back(make_contact(kind, body_a, feature_a, body_b, feature_b, g));
  };
  collide_pair(in, pa, pb, vertex, visit);
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
