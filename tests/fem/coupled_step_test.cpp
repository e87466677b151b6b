#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <maya/maya.hpp>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::fem::BodyParameters;
using maya::fem::RigidObstacles;
using maya::fem::SoftBody;
using maya::rigid::BodyShape;
namespace fem = maya::fem;

// A 10 cm square block of 4 x 4 cells with its bottom at `bottom`.
maya::fem::Mesh block(double bottom, double left = 0.0) {
  return maya::fem::rectangle_mesh({.width = 0.1,
                                    .height = 0.1,
                                    .cells_x = 4,
                                    .cells_y = 4,
                                    .origin_x = left,
                                    .origin_y = bottom});
}

struct Drop {
  double lowest_ever = 1.0;  // lowest vertex over the whole fall
  double lowest = 1.0;       // at the end
  double fastest = 0.0;      // largest vertex speed at the end
  double mean_x = 0.0;       // at the end
  double mean_vy = 0.0;      // at the end
};

// A stable Neo-Hookean block dropped from 5 cm above a rigid box whose top is at y = 0.05, with
// no ground: 1 s of explicit (dt = 1e-3) or implicit (dt = 5e-3) steps.
Drop drop_on_box(bool implicit) {
  maya::fem::SoftBodyOptions options;
  options.gravity = {0.0, -9.81};
  options.rigid = {.shapes = {BodyShape::box(0.4, 0.1)}, .slip_velocity = 0.05};
  const SoftBody body(block(0.1), options);
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e5)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  const RigidObstacles box{
      tape.constant(Tensor::from_data({0.05, 0.0, 0.0, 0.0, 0.0, 0.0}, {2, 1, 3})),
      {tape.constant(Tensor::scalar(1e5)), tape.constant(Tensor::scalar(1e5)),
       tape.constant(Tensor::scalar(0.5))}};
  TensorVar state = tape.constant(body.rest_state());
  const std::size_t n = body.num_vertices();
  const double dt = implicit ? 5e-3 : 1e-3;
  Drop drop;
  for (int t = 0; t < static_cast<int>(std::lround(1.0 / dt)); ++t) {
    state = implicit ? fem::step_implicit(body, state, params, dt, box)
                     : fem::step_explicit(body, state, params, dt, box);
    for (std::size_t i = 0; i < n; ++i) {
      drop.lowest_ever = std::min(drop.lowest_ever, state.view()[2 * i + 1]);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto values = state.view();
    drop.lowest = std::min(drop.lowest, values[2 * i + 1]);
    drop.fastest =
        std::max(drop.fastest, std::hypot(values[2 * n + 2 * i], values[2 * n + 2 * i + 1]));
    drop.mean_x += values[2 * i] / static_cast<double>(n);
    drop.mean_vy += values[2 * n + 2 * i + 1] / static_cast<double>(n);
  }
  return drop;
}

}  // namespace

// The block lands on the box (at about 1 m/s) and stays on it: its weight (98 N per metre of
// thickness on the five bottom vertices) sinks them m g / (5 k) = 0.2 mm; it never passes
// through. Implicit Euler damps the block's elastic vibration away; explicit steps keep it (the
// material has no damping), so there only its centre of mass is at rest.
TEST(RigidContact, SoftBlockDroppedOnARigidBoxComesToRestOnIt) {
  for (const bool implicit : {false, true}) {
    const Drop drop = drop_on_box(implicit);
    const char* kind = implicit ? "implicit" : "explicit";
    EXPECT_GT(drop.lowest_ever, 0.05 - 0.005) << kind;
    EXPECT_GT(drop.lowest, 0.05 - 0.001) << kind;
    EXPECT_LT(drop.lowest, 0.05) << kind;  // resting on the box, not above it
    EXPECT_LT(std::abs(drop.mean_vy), 0.02) << kind;
    EXPECT_LT(drop.fastest, implicit ? 1e-3 : 0.2) << kind;
    EXPECT_NEAR(drop.mean_x, 0.05, implicit ? 1e-3 : 5e-3) << kind;
  }
}

// A prescribed trajectory: a platform moving up and to the right at (0.3, 0.2) m/s picks up a
// block resting on it. Friction (against the platform's velocity, not the block's) accelerates
// it to the platform's velocity, and the normal law's damping acts on the relative velocity
// only, so the block rides on the platform at the depth of its weight (0.2 mm).
TEST(RigidContact, AMovingPlatformCarriesABlock) {
  for (const bool implicit : {false, true}) {
    maya::fem::SoftBodyOptions options;
    options.gravity = {0.0, -9.81};
    options.rigid = {.shapes = {BodyShape::box(0.4, 0.1)}, .slip_velocity = 0.01};
    const SoftBody body(block(0.05), options);
    TensorTape tape;
    const BodyParameters params = fem::parameters(
        body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e5)),
        tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
    const maya::fem::RigidContactMaterial material{tape.constant(Tensor::scalar(1e5)),
                                                   tape.constant(Tensor::scalar(1e5)),
                                                   tape.constant(Tensor::scalar(0.8))};
    const double speed[2] = {0.3, 0.2};
    const double dt = implicit ? 5e-3 : 1e-3;
    const int steps = static_cast<int>(std::lround(1.0 / dt));
    TensorVar state = tape.constant(body.rest_state());
    maya::fem::NewtonReport report;
    std::size_t most_iterations = 0;
    for (int t = 0; t < steps; ++t) {
      // Explicit steps meet the platform where it is at the start of the step, implicit ones at
      // the end.
      const double time = dt * (implicit ? t + 1 : t);
      const TensorVar platform = tape.constant(Tensor::from_data(
          {0.05 + speed[0] * time, speed[1] * time, 0.0, speed[0], speed[1], 0.0}, {2, 1, 3}));
      const RigidObstacles obstacles{platform, material};
      if (implicit) {
        state = fem::step_implicit(body, state, params, dt, obstacles, {.report = &report});
        most_iterations = std::max(most_iterations, report.iterations);
      } else {
        state = fem::step_explicit(body, state, params, dt, obstacles);
      }
    }
    const double top = 0.05 + speed[1] * dt * steps;  // the platform's top at the end
    const std::size_t n = body.num_vertices();
    const auto values = state.view();
    double lowest = 1.0;
    double mean_v[2] = {0.0, 0.0};
    for (std::size_t i = 0; i < n; ++i) {
      lowest = std::min(lowest, values[2 * i + 1]);
      for (std::size_t k = 0; k < 2; ++k) {
        mean_v[k] += values[2 * n + 2 * i + k] / static_cast<double>(n);
      }
    }
    const char* kind = implicit ? "implicit" : "explicit";
    EXPECT_NEAR(mean_v[0], speed[0], 5e-3) << kind;
    EXPECT_NEAR(mean_v[1], speed[1], 5e-3) << kind;
    EXPECT_LT(lowest, top) << kind;
    EXPECT_GT(lowest, top - 1e-3) << kind;
    if (implicit) {
      EXPECT_LE(most_iterations, 10u);
    }
  }
}

// Two-way coupling without gravity or ground: a soft block moving right at 1 m/s hits a free
// box (and, off-centre, sets it spinning). Linear momentum and angular momentum about the origin
// of soft body plus rigid body are conserved to roundoff, and the box has taken most of it.
TEST(RigidContact, TwoWayCouplingConservesMomentum) {
  const maya::rigid::RigidWorld2D world({BodyShape::box(0.1, 0.2)},
                                        {.gravity = {0.0, 0.0}, .grounds = {}});
  maya::fem::SoftBodyOptions options;
  options.gravity = {0.0, 0.0};
  options.rigid = maya::fem::RigidContactOptions::of(world, 0.05);
  const SoftBody body(block(0.005, -0.11), options);
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e5)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  const maya::rigid::RigidParameters rigid_params =
      world.parameters_from_masses({12.0}, {.stiffness = 1e4, .damping = 0.0, .friction = 0.5})
          .constants(tape);
  const maya::fem::RigidContactMaterial material{tape.constant(Tensor::scalar(1e5)),
                                                 tape.constant(Tensor::scalar(500.0)),
                                                 tape.constant(Tensor::scalar(0.5))};
  const std::size_t n = body.num_vertices();
  Tensor soft_start = body.rest_state();
  for (std::size_t i = 0; i < n; ++i) soft_start.mutable_data()[2 * n + 2 * i] = 1.0;
  maya::fem::CoupledState state{
      tape.constant(soft_start),
      tape.constant(Tensor::from_data({0.05, 0.1, 0.0, 0.0, 0.0, 0.0}, {2, 1, 3}))};
  const auto mass = params.mass.value();
  const double box_mass = 12.0;
  const double box_inertia = rigid_params.inertia.value().data()[0];
  // (p_x, p_y, L) of both bodies.
  const auto momentum = [&](const maya::fem::CoupledState& s) {
    std::array<double, 3> total{};
    const auto soft = s.soft.view();
    for (std::size_t i = 0; i < n; ++i) {
      const double x = soft[2 * i], y = soft[2 * i + 1];
      const double vx = soft[2 * n + 2 * i], vy = soft[2 * n + 2 * i + 1];
      total[0] += mass.data()[i] * vx;
      total[1] += mass.data()[i] * vy;
      total[2] += mass.data()[i] * (x * vy - y * vx);
    }
    const auto r = s.rigid.view();
    total[0] += box_mass * r[3];
    total[1] += box_mass * r[4];
    total[2] += box_mass * (r[0] * r[4] - r[1] * r[3]) + box_inertia * r[5];
    return total;
  };
  const auto start = momentum(state);
  for (int t = 0; t < 600; ++t) {
    state = maya::fem::step_coupled(body, params, world, rigid_params, material, state, 1e-4);
  }
  const auto end = momentum(state);
  const double scale = std::abs(start[0]);  // 10 kg m/s per metre of thickness
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(end[j], start[j], 1e-12 * scale) << "component " << j;
  EXPECT_GT(box_mass * state.rigid.view()[3], 0.3 * scale);  // the box was pushed
  EXPECT_GT(std::abs(state.rigid.view()[5]), 0.0);           // and spun (the hit is off-centre)
}

TEST(RigidContact, CoupledStepThrowsForAWorldOfOtherShapes) {
  const maya::rigid::RigidWorld2D world({BodyShape::circle(0.1)});
  maya::fem::SoftBodyOptions options;
  options.rigid.shapes = {BodyShape::box(0.1, 0.1)};
  const SoftBody body(block(0.0), options);
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e5)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  const maya::rigid::RigidParameters rigid_params =
      world.parameters_from_density(1e3).constants(tape);
  const auto one = [&](double v) { return tape.constant(Tensor::scalar(v)); };
  const maya::fem::CoupledState state{tape.constant(body.rest_state()),
                                      tape.constant(Tensor::zeros({2, 1, 3}))};
  EXPECT_THROW((void)maya::fem::step_coupled(body, params, world, rigid_params,
                                             {one(1e3), one(0.0), one(0.0)}, state, 1e-3),
               maya::ValueError);
}
