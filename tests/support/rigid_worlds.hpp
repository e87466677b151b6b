// Batches of rigid worlds for the batched-rollout tests (tests/rigid on the CPU, tests/gpu on the
// GPU): W4's tossed boxes with every world's parameters and initial velocities varied, a mixed
// scene of boxes, a triangle and circles over two grounds, and W4's loss per world.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <maya/maya.hpp>
#include <maya/rigid/batched_rollout.hpp>
#include <vector>

namespace maya::test {

struct RigidBatch {
  maya::rigid::RigidWorld2D world;
  maya::rigid::RigidWorlds worlds;
};

// W4's box k at (0.5 k, height, 0.3) with velocity (0.5, 0, 2) in world 0; world w tilts,
// spins and lifts its boxes a little and changes the material, so no two worlds agree. Not
// tumbling: the boxes start flat (angle 0, no spin) and slide on their lower face.
inline RigidBatch w4_batch(std::size_t boxes, std::size_t worlds, double height = 0.2,
                           bool tumbling = true, maya::rigid::RigidWorldOptions options = {}) {
  options.body_contacts = false;
  maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(boxes, maya::rigid::BodyShape::box(0.2, 0.1)), options);
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses(std::vector<double>(boxes, 1.0), {1e4, 30.0, 0.5});
  std::vector<double> poses, velocities;
  for (std::size_t k = 0; k < boxes; ++k) {
    poses.insert(poses.end(), {0.5 * static_cast<double>(k), height, tumbling ? 0.3 : 0.0});
    velocities.insert(velocities.end(), {0.5, 0.0, tumbling ? 2.0 : 0.0});
  }
  const double tilt = tumbling ? 1.0 : 0.05;
  const Tensor state = maya::rigid::RigidWorld2D::make_state(
      Tensor::from_data(poses, {boxes, 3}), Tensor::from_data(velocities, {boxes, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t w = 0; w < worlds; ++w) {
    const double f = static_cast<double>(w) / static_cast<double>(std::max<std::size_t>(worlds, 1));
    auto s = batch.state.mutable_data().subspan(w * 6 * boxes, 6 * boxes);
    for (std::size_t k = 0; k < boxes; ++k) {
      const double u = 0.1 * std::sin(1.7 * static_cast<double>(k) + 3.1 * f);
      s[3 * k + 1] += tilt * (0.05 * f + 0.02 * u);
      s[3 * k + 2] += tilt * 0.2 * u;
      s[3 * boxes + 3 * k] += u;
      s[3 * boxes + 3 * k + 2] -= tilt * 2.0 * u;
      batch.mass.mutable_data()[w * boxes + k] *= 1.0 + 0.3 * f + u;
      batch.applied.mutable_data()[3 * (w * boxes + k)] = 0.3 * u;
      batch.applied.mutable_data()[3 * (w * boxes + k) + 2] = 0.01 * u;
    }
    batch.stiffness.mutable_data()[w] *= 1.0 + 0.5 * f;
    batch.damping.mutable_data()[w] *= 1.0 - 0.3 * f;
    batch.friction.mutable_data()[w] *= 1.0 + f;
  }
  return {std::move(world), std::move(batch)};
}

// Two boxes, a triangle and two circles over a floor and a slanted wall, with damping, dropped
// at varied heights and spins per world.
inline RigidBatch mixed_batch(std::size_t worlds, maya::rigid::NormalForceLaw law) {
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = false;
  options.normal_law = law;
  options.grounds = {maya::rigid::GroundPlane{},
                     maya::rigid::GroundPlane::through({1.6, 0.0}, {-1.0, 0.4})};
  options.linear_damping = 0.1;
  options.angular_damping = 0.2;
  std::vector<maya::rigid::BodyShape> shapes = {
      maya::rigid::BodyShape::box(0.2, 0.1), maya::rigid::BodyShape::circle(0.08),
      maya::rigid::BodyShape::polygon({{0.0, 0.0}, {0.2, 0.0}, {0.05, 0.15}}),
      maya::rigid::BodyShape::circle(0.05), maya::rigid::BodyShape::box(0.1, 0.3)};
  maya::rigid::RigidWorld2D world(shapes, options);
  const bool hertz = law == maya::rigid::NormalForceLaw::kHuntCrossley;
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_density(200.0, {hertz ? 1e5 : 1e4, hertz ? 0.5 : 30.0, 0.4});
  const std::size_t k = shapes.size();
  std::vector<double> poses, velocities;
  for (std::size_t b = 0; b < k; ++b) {
    const double x = 0.35 * static_cast<double>(b);
    poses.insert(poses.end(),
                 {x, 0.12 + 0.02 * static_cast<double>(b), 0.1 * static_cast<double>(b)});
    velocities.insert(velocities.end(), {0.8, -0.3, 1.0 - 0.4 * static_cast<double>(b)});
  }
  const Tensor state = maya::rigid::RigidWorld2D::make_state(Tensor::from_data(poses, {k, 3}),
                                                             Tensor::from_data(velocities, {k, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t w = 0; w < worlds; ++w) {
    const double f = static_cast<double>(w) / static_cast<double>(std::max<std::size_t>(worlds, 1));
    auto s = batch.state.mutable_data().subspan(w * 6 * k, 6 * k);
    for (std::size_t b = 0; b < k; ++b) {
      s[3 * b + 1] += 0.03 * f;
      s[3 * k + 3 * b + 2] += f;
      batch.applied.mutable_data()[3 * (w * k + b) + 1] = 0.5 * f;
    }
    auto v = batch.vertices.mutable_data().subspan(w * 2 * world.num_vertices(),
                                                   2 * world.num_vertices());
    for (double& c : v) c *= 1.0 + 0.1 * f;
    batch.radius.mutable_data()[w * k + 1] *= 1.0 + 0.2 * f;
    batch.friction.mutable_data()[w] *= 1.0 - 0.5 * f;
  }
  return {std::move(world), std::move(batch)};
}

// Body-body contact on: two boxes, a triangle and three circles dropped close together over a
// floor and a slanted wall, so that circles touch circles, circles touch polygons (faces and
// corners) and polygons touch polygons; heights, spins and the material vary per world.
inline RigidBatch pile_batch(std::size_t worlds, maya::rigid::NormalForceLaw law) {
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = true;
  options.normal_law = law;
  options.grounds = {maya::rigid::GroundPlane{},
                     maya::rigid::GroundPlane::through({0.9, 0.0}, {-1.0, 0.4})};
  options.linear_damping = 0.1;
  options.angular_damping = 0.2;
  std::vector<maya::rigid::BodyShape> shapes = {
      maya::rigid::BodyShape::box(0.3, 0.1),
      maya::rigid::BodyShape::circle(0.06),
      maya::rigid::BodyShape::box(0.12, 0.12),
      maya::rigid::BodyShape::polygon({{0.0, 0.0}, {0.16, 0.0}, {0.04, 0.12}}),
      maya::rigid::BodyShape::circle(0.05),
      maya::rigid::BodyShape::circle(0.04)};
  maya::rigid::RigidWorld2D world(shapes, options);
  const bool hertz = law == maya::rigid::NormalForceLaw::kHuntCrossley;
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_density(200.0, {hertz ? 1e5 : 1e4, hertz ? 0.5 : 30.0, 0.4});
  const std::size_t k = shapes.size();
  const std::vector<double> poses = {0.3,  0.052, 0.0,  0.25, 0.16, 0.0, 0.42, 0.15, 0.2,
                                     0.55, 0.05,  -0.1, 0.6,  0.21, 0.0, 0.67, 0.1,  0.0};
  const std::vector<double> velocities = {0.2, 0.0,  0.5, -0.3, -0.5, 1.0, 0.1,  -0.4, -0.5,
                                          0.4, -0.1, 0.3, -0.2, -0.6, 0.0, -0.5, 0.0,  2.0};
  const Tensor state = maya::rigid::RigidWorld2D::make_state(Tensor::from_data(poses, {k, 3}),
                                                             Tensor::from_data(velocities, {k, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t w = 0; w < worlds; ++w) {
    const double f = static_cast<double>(w) / static_cast<double>(std::max<std::size_t>(worlds, 1));
    auto s = batch.state.mutable_data().subspan(w * 6 * k, 6 * k);
    for (std::size_t b = 0; b < k; ++b) {
      s[3 * b + 1] += 0.01 * f * static_cast<double>(b % 3);
      s[3 * k + 3 * b + 2] += 0.5 * f;
      batch.applied.mutable_data()[3 * (w * k + b)] = 0.2 * f;
    }
    batch.radius.mutable_data()[w * k + 1] *= 1.0 + 0.1 * f;
    batch.friction.mutable_data()[w] *= 1.0 - 0.5 * f;
    batch.stiffness.mutable_data()[w] *= 1.0 + 0.3 * f;
  }
  return {std::move(world), std::move(batch)};
}

// Body-body contact on: a row of `count` circles without gravity or grounds, each pressed into
// its neighbours and jostling them, without friction (explicit steps of stiff friction on light
// circles chatter), so that every neighbour contact persists (more bodies than
// one block has threads where count > 256).
inline RigidBatch circle_row_batch(std::size_t count, std::size_t worlds) {
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = true;
  options.gravity = {0.0, 0.0};
  options.grounds = {};
  maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(count, maya::rigid::BodyShape::circle(0.05)), options);
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses(std::vector<double>(count, 0.1), {1e4, 10.0, 0.0});
  std::vector<double> poses, velocities;
  for (std::size_t b = 0; b < count; ++b) {
    const double u = std::sin(1.3 * static_cast<double>(b));
    poses.insert(poses.end(), {0.096 * static_cast<double>(b), 0.001 * u, 0.0});
    velocities.insert(velocities.end(), {0.01 * u, 0.01 * u, 0.2 * u});
  }
  const Tensor state = maya::rigid::RigidWorld2D::make_state(
      Tensor::from_data(poses, {count, 3}), Tensor::from_data(velocities, {count, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t w = 0; w < worlds; ++w) {
    batch.stiffness.mutable_data()[w] *= 1.0 + 0.2 * static_cast<double>(w);
  }
  return {std::move(world), std::move(batch)};
}

// Body-body contact on: a crowd of `side` x `side` circles of radius 0.05 on a grid of spacing
// 0.02, without gravity or grounds, so that every circle overlaps dozens of others (many more
// candidate pairs than a few per body); soft and short-lived, so the crowd spreads out smoothly.
inline RigidBatch circle_crowd_batch(std::size_t side, std::size_t worlds) {
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = true;
  options.gravity = {0.0, 0.0};
  options.grounds = {};
  const std::size_t count = side * side;
  maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(count, maya::rigid::BodyShape::circle(0.05)), options);
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses(std::vector<double>(count, 0.1), {50.0, 0.5, 0.0});
  std::vector<double> poses, velocities;
  for (std::size_t b = 0; b < count; ++b) {
    const double u = std::sin(1.3 * static_cast<double>(b));
    poses.insert(poses.end(), {0.02 * static_cast<double>(b % side) + 0.001 * u,
                               0.02 * static_cast<double>(b / side), 0.0});
    velocities.insert(velocities.end(), {0.01 * u, -0.01 * u, 0.1 * u});
  }
  const Tensor state = maya::rigid::RigidWorld2D::make_state(
      Tensor::from_data(poses, {count, 3}), Tensor::from_data(velocities, {count, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t w = 0; w < worlds; ++w) {
    batch.stiffness.mutable_data()[w] *= 1.0 + 0.2 * static_cast<double>(w);
  }
  return {std::move(world), std::move(batch)};
}

// W4's loss of one world: sum over bodies of (x - 2)^2 + y^2 + theta^2.
inline double w4_loss(std::size_t, std::span<const double> final_state, std::span<double> adjoint) {
  const std::size_t k = final_state.size() / 6;
  double loss = 0.0;
  for (std::size_t b = 0; b < k; ++b) {
    const double dx = final_state[3 * b] - 2.0;
    const double y = final_state[3 * b + 1];
    const double theta = final_state[3 * b + 2];
    loss += dx * dx + y * y + theta * theta;
    adjoint[3 * b] = 2.0 * dx;
    adjoint[3 * b + 1] = 2.0 * y;
    adjoint[3 * b + 2] = 2.0 * theta;
  }
  return loss;
}

// A loss that weighs every component of the final state, velocities too.
inline double weighted_loss(std::size_t world, std::span<const double> final_state,
                            std::span<double> adjoint) {
  double loss = 0.0;
  for (std::size_t i = 0; i < final_state.size(); ++i) {
    const double weight = 0.5 + 0.1 * static_cast<double>((i * 7 + world) % 11);
    loss += weight * final_state[i] * final_state[i];
    adjoint[i] = 2.0 * weight * final_state[i];
  }
  return loss;
}

inline double rigid_relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < b.numel(); ++i) {
    if (!std::isfinite(a.data()[i]) || !std::isfinite(b.data()[i])) return INFINITY;
    diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
    norm += b.data()[i] * b.data()[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

// Every result of `out` equals `fresh`'s bit for bit (shapes too).
inline void expect_same_rigid_results(const maya::rigid::RigidRolloutGradients& out,
                                      const maya::rigid::RigidRolloutGradients& fresh) {
  const auto tensors = [](const maya::rigid::RigidRolloutGradients& r) {
    return std::vector<const Tensor*>{&r.loss,      &r.final_state, &r.state,   &r.mass,
                                      &r.inertia,   &r.vertices,    &r.radius,  &r.applied,
                                      &r.stiffness, &r.damping,     &r.friction};
  };
  const auto a = tensors(out);
  const auto b = tensors(fresh);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i]->shape(), b[i]->shape()) << "result " << i;
    EXPECT_EQ(rigid_relative_error(*a[i], *b[i]), 0.0) << "result " << i;
  }
}

}  // namespace maya::test
