// The rigid step composed of tensor ops: the readable reference for the fused node. Contacts are
// batched: one tensor row per contact, gathered from the bodies with index_select and scattered
// back with index_add, so a step is a few dozen nodes whatever the number of bodies.
#include <cmath>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::rigid {

namespace {

using Indices = std::vector<std::int64_t>;

// The bodies with one extra static row at index K standing for the ground, and the vertices with
// one extra row at the origin standing for a circle's centre (whose radius row is the body's).
struct ExtendedBodies {
  TensorVar position;  // [K + 1, 2]
  TensorVar angle;     // [K + 1]
  TensorVar velocity;  // [K + 1, 2]
  TensorVar omega;     // [K + 1]
  TensorVar vertices;  // [V + 1, 2]
  TensorVar radius;    // [K + 1], the last row 0: the radius of a vertex
  std::int64_t ground;
  std::int64_t centre;
};

ExtendedBodies extend(TensorVar state, const RigidParameters& params) {
  TensorTape& tape = state.tape();
  const TensorVar pose = dynamics::positions_of(state);
  const TensorVar velocity = dynamics::velocities_of(state);
  const TensorVar zero_row = tape.constant(Tensor::zeros({1, 2}));
  const TensorVar zero = tape.constant(Tensor::zeros({1}));
  const auto n = static_cast<std::int64_t>(pose.shape()[0]);
  const auto v = static_cast<std::int64_t>(params.vertices.shape()[0]);
  return {concat({slice(pose, 1, 0, 2), zero_row}, 0),
          concat({select(pose, 1, 2), zero}, 0),
          concat({slice(velocity, 1, 0, 2), zero_row}, 0),
          concat({select(velocity, 1, 2), zero}, 0),
          concat({params.vertices, zero_row}, 0),
          concat({params.radius, zero}, 0),
          n,
          v};
}

TensorVar rotate(TensorVar angle, TensorVar p) {
  const TensorVar c = cos(angle);
  const TensorVar s = sin(angle);
  const TensorVar px = select(p, 1, 0);
  const TensorVar py = select(p, 1, 1);
  return stack({c * px - s * py, s * px + c * py}, 1);
}

TensorVar perp(TensorVar p) { return stack({-select(p, 1, 1), select(p, 1, 0)}, 1); }
TensorVar cross(TensorVar a, TensorVar b) {
  return select(a, 1, 0) * select(b, 1, 1) - select(a, 1, 1) * select(b, 1, 0);
}
TensorVar column(TensorVar v) { return unsqueeze(v, 1); }

// Point features: a vertex, or a circle's centre with the body's radius.
struct PointFeatures {
  Indices body, local, radius;
  void add(std::int64_t b, std::int32_t feature, const ExtendedBodies& e) {
    body.push_back(b);
    local.push_back(feature >= 0 ? feature : e.centre);
    radius.push_back(feature >= 0 ? e.ground : b);
  }
  [[nodiscard]] TensorVar world(const ExtendedBodies& e) const {
    return index_select(e.position, 0, body) +
           rotate(index_select(e.angle, 0, body), index_select(e.vertices, 0, local));
  }
  [[nodiscard]] TensorVar radii(const ExtendedBodies& e) const {
    return index_select(e.radius, 0, radius);
  }
};

struct Batch {
  TensorVar point, normal, depth;
  Indices body_a, body_b;
};

Batch contact_batch(TensorTape& tape, const ExtendedBodies& e, std::span<const Contact> contacts,
                    const RigidWorld2D& world) {
  const std::vector<GroundPlane>& grounds = world.options().grounds;
  // Three groups, each one batch of rows; `order` maps their concatenation back to `contacts`.
  PointFeatures ground_b, face_b, points_a, points_b;
  std::vector<double> ground_normal, ground_offset;
  Indices face_body, face_first, face_next;
  Indices rows[3];
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const Contact& c = contacts[i];
    switch (c.kind) {
      case ContactKind::kGround: {
        const GroundPlane& plane = grounds.at(static_cast<std::size_t>(c.feature_a));
        ground_normal.insert(ground_normal.end(), {plane.normal.x, plane.normal.y});
        ground_offset.push_back(plane.offset);
        ground_b.add(c.body_b, c.feature_b, e);
        rows[0].push_back(static_cast<std::int64_t>(i));
        break;
      }
      case ContactKind::kFace:
        face_body.push_back(c.body_a);
        face_first.push_back(c.feature_a);
        face_next.push_back(world.next_vertex(static_cast<std::size_t>(c.feature_a)));
        face_b.add(c.body_b, c.feature_b, e);
        rows[1].push_back(static_cast<std::int64_t>(i));
        break;
      case ContactKind::kPoints:
        points_a.add(c.body_a, c.feature_a, e);
        points_b.add(c.body_b, c.feature_b, e);
        rows[2].push_back(static_cast<std::int64_t>(i));
        break;
    }
  }
  std::vector<TensorVar> points, normals, depths;
  Indices body_a, body_b, order;
  const auto finish = [&](const PointFeatures& b, TensorVar world_b, TensorVar radius_b,
                          TensorVar normal, TensorVar depth) {
    // The deepest point of b: point = P_b - r_b n.
    points.push_back(world_b - column(radius_b) * normal);
    normals.push_back(normal);
    depths.push_back(depth);
    body_b.insert(body_b.end(), b.body.begin(), b.body.end());
  };
  if (!rows[0].empty()) {
    // pen = offset - n . P + r_b
    const std::size_t c = rows[0].size();
    const TensorVar normal = tape.constant(Tensor::from_data(ground_normal, {c, 2}));
    const TensorVar offset = tape.constant(Tensor::from_data(ground_offset, {c}));
    const TensorVar world_b = ground_b.world(e);
    const TensorVar radius_b = ground_b.radii(e);
    finish(ground_b, world_b, radius_b, normal, offset - sum(normal * world_b, 1) + radius_b);
    body_a.insert(body_a.end(), c, e.ground);
  }
  if (!rows[1].empty()) {
    // n = R_a (e_y, -e_x) / |e|, e = v1 - v0;  pen = n . (q - P) + r_b,  q = x_a + R_a v0
    const TensorVar v0 = index_select(e.vertices, 0, face_first);
    const TensorVar edge = index_select(e.vertices, 0, face_next) - v0;
    const TensorVar outward = stack({select(edge, 1, 1), -select(edge, 1, 0)}, 1);
    const TensorVar local_normal = outward / norm(outward, 1, true);
    const TensorVar angle_a = index_select(e.angle, 0, face_body);
    const TensorVar normal = rotate(angle_a, local_normal);
    const TensorVar face_point = index_select(e.position, 0, face_body) + rotate(angle_a, v0);
    const TensorVar world_b = face_b.world(e);
    const TensorVar radius_b = face_b.radii(e);
    finish(face_b, world_b, radius_b, normal, sum(normal * (face_point - world_b), 1) + radius_b);
    body_a.insert(body_a.end(), face_body.begin(), face_body.end());
  }
  if (!rows[2].empty()) {
    // n = d / |d|, d = P_b - P_a;  pen = r_a + r_b - |d|
    const TensorVar world_a = points_a.world(e);
    const TensorVar world_b = points_b.world(e);
    const TensorVar radius_b = points_b.radii(e);
    const TensorVar d = world_b - world_a;
    const TensorVar length = norm(d, 1, true);
    finish(points_b, world_b, radius_b, d / length,
           points_a.radii(e) + radius_b - squeeze(length, 1));
    body_a.insert(body_a.end(), points_a.body.begin(), points_a.body.end());
  }
  for (const Indices& r : rows) order.insert(order.end(), r.begin(), r.end());
  Batch batch{concat(points, 0), concat(normals, 0), concat(depths, 0), {}, {}};
  // Row j of the groups' concatenation is contact order[j]: row i of the result is row inverse[i].
  Indices inverse(order.size());
  bool identity = true;
  for (std::size_t j = 0; j < order.size(); ++j) {
    inverse[static_cast<std::size_t>(order[j])] = static_cast<std::int64_t>(j);
    identity = identity && order[j] == static_cast<std::int64_t>(j);
  }
  batch.body_a.resize(order.size());
  batch.body_b.resize(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    batch.body_a[i] = body_a[static_cast<std::size_t>(inverse[i])];
    batch.body_b[i] = body_b[static_cast<std::size_t>(inverse[i])];
  }
  if (!identity) {
    batch.point = index_select(batch.point, 0, inverse);
    batch.normal = index_select(batch.normal, 0, inverse);
    batch.depth = index_select(batch.depth, 0, inverse);
  }
  return batch;
}

}  // namespace

ContactFrames RigidWorld2D::contact_frames(TensorVar state, const RigidParameters& params,
                                           std::span<const Contact> contacts) const {
  check_inputs(state, params, "RigidWorld2D::contact_frames");
  // A point feature is one of the body's own vertices, or -1 (the centre) for a circle; a face
  // is a vertex of a polygon; a ground feature names a ground.
  const auto n = static_cast<std::int32_t>(shapes_.size());
  const auto owns = [&](std::int32_t body, std::int32_t vertex) {
    if (body < 0 || body >= n) return false;
    const BodyShape& shape = shapes_[static_cast<std::size_t>(body)];
    if (vertex < 0) return false;
    const auto first = static_cast<std::int32_t>(first_vertex_[static_cast<std::size_t>(body)]);
    return shape.kind() == ShapeKind::kPolygon && vertex >= first &&
           vertex < first + static_cast<std::int32_t>(shape.vertices().size());
  };
  const auto point_ok = [&](std::int32_t body, std::int32_t feature) {
    if (body < 0 || body >= n) return false;
    if (feature == -1) return shapes_[static_cast<std::size_t>(body)].kind() == ShapeKind::kCircle;
    return owns(body, feature);
  };
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const Contact& c = contacts[i];
    bool a_ok = false;
    switch (c.kind) {
      case ContactKind::kGround:
        a_ok = c.feature_a >= 0 && c.feature_a < static_cast<std::int32_t>(options_.grounds.size());
        break;
      case ContactKind::kFace: a_ok = owns(c.body_a, c.feature_a); break;
      case ContactKind::kPoints: a_ok = point_ok(c.body_a, c.feature_a); break;
    }
    if (!a_ok || !point_ok(c.body_b, c.feature_b)) {
      throw ValueError("RigidWorld2D::contact_frames: contact " + std::to_string(i) +
                       " names bodies " + std::to_string(c.body_a) + ", " +
                       std::to_string(c.body_b) + " and features " + std::to_string(c.feature_a) +
                       ", " + std::to_string(c.feature_b) + " that this world does not have");
    }
  }
  if (contacts.empty()) {
    TensorTape& tape = state.tape();
    return {tape.constant(Tensor::zeros({0, 2})), tape.constant(Tensor::zeros({0, 2})),
            tape.constant(Tensor::zeros({0}))};
  }
  const Batch batch = contact_batch(state.tape(), extend(state, params), contacts, *this);
  return {batch.point, batch.normal, batch.depth};
}

template <class Dt>
TensorVar RigidWorld2D::compose_step(TensorVar state, const RigidParameters& params, Dt dt) const {
  check_inputs(state, params, "rigid_step_composed");
  TensorTape& tape = state.tape();
  const std::size_t n = shapes_.size();
  const TensorVar pose = dynamics::positions_of(state);
  const TensorVar velocity = dynamics::velocities_of(state);
  const std::vector<Contact> contacts = find_contacts(state, params);
  TensorVar wrench = params.applied;
  if (!contacts.empty()) {
    const ExtendedBodies e = extend(state, params);
    const Batch batch = contact_batch(tape, e, contacts, *this);
    const TensorVar normal = batch.normal;
    const TensorVar tangent = perp(normal);
    // Relative velocity of b's and a's material points at the contact point.
    const TensorVar arm_b = batch.point - index_select(e.position, 0, batch.body_b);
    const TensorVar arm_a = batch.point - index_select(e.position, 0, batch.body_a);
    const TensorVar velocity_b = index_select(e.velocity, 0, batch.body_b) +
                                 column(index_select(e.omega, 0, batch.body_b)) * perp(arm_b);
    const TensorVar velocity_a = index_select(e.velocity, 0, batch.body_a) +
                                 column(index_select(e.omega, 0, batch.body_a)) * perp(arm_a);
    const TensorVar relative = velocity_b - velocity_a;
    const TensorVar normal_speed = sum(normal * relative, 1);
    const TensorVar tangent_speed = sum(tangent * relative, 1);
    TensorVar normal_force;
    if (options_.normal_law == NormalForceLaw::kKelvinVoigt) {
      normal_force = params.stiffness * batch.depth - params.damping * normal_speed;
    } else {
      const TensorVar depth = relu(batch.depth);
      normal_force =
          relu(params.stiffness * (depth * sqrt(depth)) * (1.0 - params.damping * normal_speed));
    }
    const TensorVar slip = tanh(tangent_speed / options_.friction_smoothing);
    const TensorVar tangential = -params.friction * normal_force * slip;
    const TensorVar force = column(normal_force) * normal + column(tangential) * tangent;
    const TensorVar wrench_b = concat({force, column(cross(arm_b, force))}, 1);
    const TensorVar wrench_a = concat({force, column(cross(arm_a, force))}, 1);
    const TensorVar extended = concat({params.applied, tape.constant(Tensor::zeros({1, 3}))}, 0);
    wrench =
        slice(index_add(index_add(extended, 0, batch.body_b, wrench_b), 0, batch.body_a, -wrench_a),
              0, 0, static_cast<long>(n));
  }
  const TensorVar moment = stack({params.mass, params.mass, params.inertia}, 1);
  const TensorVar gravity =
      tape.constant(Tensor::from_data({options_.gravity.x, options_.gravity.y, 0.0}, {3}));
  const TensorVar damping = tape.constant(Tensor::from_data(
      {options_.linear_damping, options_.linear_damping, options_.angular_damping}, {3}));
  const TensorVar acceleration = wrench / moment + gravity - damping * velocity;
  const TensorVar velocity1 = velocity + acceleration * dt;
  const TensorVar pose1 = pose + velocity1 * dt;
  return stack({pose1, velocity1}, 0);
}

TensorVar RigidWorld2D::step_composed(TensorVar state, const RigidParameters& params,
                                      double dt) const {
  (void)check_positive(dt, "rigid_step_composed: dt");
  return compose_step(state, params, dt);
}

TensorVar RigidWorld2D::step_composed(TensorVar state, const RigidParameters& params,
                                      TensorVar dt) const {
  if (dt.numel() != 1 || !(dt.view()[0] > 0.0) || !std::isfinite(dt.view()[0])) {
    throw ValueError("rigid_step_composed: dt must be one positive finite element, got shape " +
                     shape_string(dt.shape()));
  }
  return compose_step(state, params, dt);
}

}  // namespace maya::rigid
