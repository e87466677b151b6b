// Which contacts a step uses: every point feature (polygon vertex, circle) below a ground plane,
// and body pairs found by sort-and-sweep on bounding circles, then circle-circle, circle-polygon
// (closest feature: face or vertex) and polygon-polygon (separating axis, then Box2D's reference
// and incident faces, with every clip point replaced by the vertex that produced it).
#pragma once

#include <vector>

#include "maya/core/workspace.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "rigid/contact_kernel.hpp"

namespace maya::rigid::detail {

inline Contact make_contact(ContactKind kind, std::int32_t body_a, std::int32_t feature_a,
                            std::int32_t body_b, std::int32_t feature_b,
                            const Geometry& g) noexcept {
  Contact c;
  c.kind = kind;
  c.body_a = body_a;
  c.feature_a = feature_a;
  c.body_b = body_b;
  c.feature_b = feature_b;
  c.point = {g.point.x, g.point.y};
  c.normal = {g.normal.x, g.normal.y};
  c.depth = g.depth;
  return c;
}

// visit(Contact ids, const Geometry&) for every ground contact, ordered by body, then point
// feature (vertices in order, or the circle's centre), then ground.
template <class Visit>
void for_each_ground_contact(const RigidWorld2D& world, const ContactInputs& in, Visit&& visit) {
  const auto num_grounds = static_cast<std::int32_t>(world.options().grounds.size());
  if (num_grounds == 0) return;
  const auto num_bodies = static_cast<std::int32_t>(world.num_bodies());
  for (std::int32_t b = 0; b < num_bodies; ++b) {
    const BodyShape& shape = world.shape(static_cast<std::size_t>(b));
    std::int32_t first = -1;
    std::int32_t count = 1;
    if (shape.kind() == ShapeKind::kPolygon) {
      first = static_cast<std::int32_t>(world.first_vertex(static_cast<std::size_t>(b)));
      count = static_cast<std::int32_t>(shape.vertices().size());
    }
    for (std::int32_t i = 0; i < count; ++i) {
      const std::int32_t feature = first < 0 ? -1 : first + i;
      for (std::int32_t g = 0; g < num_grounds; ++g) {
        const Geometry geometry = contact_geometry(in, ContactKind::kGround, -1, g, b, feature);
        if (geometry.depth > 0.0) {
          visit(make_contact(ContactKind::kGround, -1, g, b, feature, geometry), geometry);
        }
      }
    }
  }
}

// Appends the body-body contacts (each with geometry.depth > 0 by contact_geometry), with
// scratch memory and the broad phase's warm start from `work`.
void find_pair_contacts(const RigidWorld2D& world, const ContactInputs& in,
                        std::vector<Contact>& out, Workspace& work);

}  // namespace maya::rigid::detail
