#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <memory>
#include <string>
#include <vector>

#include "rigid/rigid_scenes.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::BodyShape;
using maya::rigid::RigidParameters;
using maya::rigid::RigidWorld2D;
using maya::rigid::RigidWorldOptions;
using rigid_test::Path;

RigidWorldOptions free_space(double gx = 0.0, double gy = 0.0) {
  RigidWorldOptions options;
  options.grounds.clear();
  options.gravity = {gx, gy};
  return options;
}

std::vector<BodyShape> three_shapes() {
  return {BodyShape::box(0.2, 0.1), BodyShape::circle(0.15),
          BodyShape::polygon({{0.0, 0.0}, {0.3, 0.0}, {0.1, 0.25}})};
}

// x_N = x_0 + N dt v_0 + dt^2 N (N + 1) / 2 a,  v_N = v_0 + N dt a: semi-implicit Euler's exact
// solution for a constant acceleration (the parabola of initial velocity v_0 + a dt / 2).
TEST(FreeFlight, FollowsTheClosedFormParabolaAndConstantSpin) {
  const RigidWorld2D world(three_shapes(), free_space(0.3, -9.8));
  auto values = world.parameters_from_density(40.0);
  values.applied = Tensor::from_data({1.0, 2.0, 0.3, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0}, {3, 3});
  const Tensor start = rigid_test::state_of({{0.0, 1.0, 0.3, 0.5, 2.0, 2.0},
                                             {5.0, 2.0, -1.0, -1.0, 0.5, -3.0},
                                             {10.0, 0.0, 0.0, 0.0, 4.0, 0.0}});
  TensorTape tape;
  const auto params = values.constants(tape);
  const int steps = 500;
  const double dt = 2e-3;
  TensorVar state = tape.constant(start);
  for (int i = 0; i < steps; ++i) state = world.step(state, params, dt);
  const double n = steps, t = steps * dt;
  const double gravity[3] = {0.3, -9.8, 0.0};
  for (std::size_t k = 0; k < 3; ++k) {
    const double moment[3] = {values.mass.data()[k], values.mass.data()[k],
                              values.inertia.data()[k]};
    for (std::size_t j = 0; j < 3; ++j) {
      const double a = values.applied.data()[3 * k + j] / moment[j] + gravity[j];
      const double x0 = start.data()[3 * k + j], v0 = start.data()[9 + 3 * k + j];
      const double x = state.view()[3 * k + j], v = state.view()[9 + 3 * k + j];
      EXPECT_NEAR(x, x0 + n * dt * v0 + dt * dt * n * (n + 1) / 2 * a, 1e-12 * (1 + std::abs(x)));
      EXPECT_NEAR(v, v0 + n * dt * a, 1e-12 * (1 + std::abs(v)));
      // The continuous parabola x0 + v0 t + a t^2 / 2 is off by exactly a t dt / 2.
      EXPECT_NEAR(x - (x0 + v0 * t + a * t * t / 2), a * t * dt / 2, 1e-11);
    }
    const double spin = n * dt * values.applied.data()[3 * k + 2] / values.inertia.data()[k];
    EXPECT_NEAR(state.view()[9 + 3 * k + 2] - start.data()[9 + 3 * k + 2], spin,
                1e-12 * (1 + std::abs(spin)));
  }
}

TEST(FreeFlight, GradientsMatchTheClosedFormInEveryParameter) {
  const RigidWorld2D world(three_shapes(), free_space(0.3, -9.8));
  const auto base = world.parameters_from_density(40.0);
  const Tensor start = rigid_test::state_of({{0.0, 1.0, 0.3, 0.5, 2.0, 2.0},
                                             {5.0, 2.0, -1.0, -1.0, 0.5, -3.0},
                                             {10.0, 0.0, 0.0, 0.0, 4.0, 0.0}});
  const Tensor applied = Tensor::from_data({1.0, 2.0, 0.3, -0.5, 0.7, -0.2, 0.4, 0.0, 0.1}, {3, 3});
  const double width = 0.2, height = 0.1, radius = 0.15, density = 40.0, dt = 2e-3;
  const int steps = 300;
  // Loss weights per body and component: c_pose (x, y, theta), c_velocity.
  const Tensor weights = Tensor::uniform({2, 3, 3}, -1.0, 1.0, 3);

  TensorTape tape;
  const TensorVar w = tape.var(Tensor::scalar(width));
  const TensorVar h = tape.var(Tensor::scalar(height));
  const TensorVar r = tape.var(Tensor::scalar(radius));
  const TensorVar rho = tape.constant(Tensor::scalar(density));
  const TensorVar polygon_mass = tape.var(Tensor::from_data({base.mass.data()[2]}, {1}));
  const TensorVar polygon_inertia = tape.var(Tensor::from_data({base.inertia.data()[2]}, {1}));
  const TensorVar state0 = tape.var(start);
  const TensorVar force = tape.var(applied);
  const TensorVar step = tape.var(Tensor::scalar(dt));
  const auto box = maya::rigid::box_mass_properties(w, h, rho);
  const auto disc = maya::rigid::circle_mass_properties(r, rho);
  RigidParameters params = base.constants(tape);
  params.mass =
      maya::concat({maya::reshape(box.mass, {1}), maya::reshape(disc.mass, {1}), polygon_mass}, 0);
  params.inertia = maya::concat(
      {maya::reshape(box.inertia, {1}), maya::reshape(disc.inertia, {1}), polygon_inertia}, 0);
  params.applied = force;
  TensorVar state = state0;
  for (int i = 0; i < steps; ++i) state = world.step(state, params, step);
  const auto g = tape.grad(maya::sum(state * tape.constant(weights)));

  const double n = steps;
  const double s = dt * dt * n * (n + 1) / 2;  // x_N's factor of a
  const double gravity[3] = {0.3, -9.8, 0.0};
  const double masses[3] = {density * width * height, density * 3.141592653589793 * radius * radius,
                            base.mass.data()[2]};
  const double inertias[3] = {masses[0] * (width * width + height * height) / 12.0,
                              masses[1] * radius * radius / 2.0, base.inertia.data()[2]};
  double g_moment[3][3] = {};  // d loss / d M_j per body
  double g_dt = 0.0;
  for (std::size_t k = 0; k < 3; ++k) {
    const double moment[3] = {masses[k], masses[k], inertias[k]};
    for (std::size_t j = 0; j < 3; ++j) {
      const std::size_t i = 3 * k + j;
      const double cp = weights.data()[i], cv = weights.data()[9 + i];
      const double f = applied.data()[i], a = f / moment[j] + gravity[j];
      const double v0 = start.data()[9 + i];
      const double by_acceleration = cp * s + cv * n * dt;
      EXPECT_NEAR(g[state0].data()[i], cp, 1e-10);
      EXPECT_NEAR(g[state0].data()[9 + i], cp * n * dt + cv, 1e-10);
      EXPECT_NEAR(g[force].data()[i], by_acceleration / moment[j], 1e-9);
      g_moment[k][j] = -by_acceleration * f / (moment[j] * moment[j]);
      g_dt += cp * (n * v0 + a * dt * n * (n + 1)) + cv * n * a;
    }
  }
  EXPECT_NEAR(g[step].item(), g_dt, 1e-9 * std::abs(g_dt));
  const double g_mass[3] = {g_moment[0][0] + g_moment[0][1], g_moment[1][0] + g_moment[1][1],
                            g_moment[2][0] + g_moment[2][1]};
  EXPECT_NEAR(g[polygon_mass].item(), g_mass[2], 1e-9);
  EXPECT_NEAR(g[polygon_inertia].item(), g_moment[2][2], 1e-9);
  // Dimensions through m = rho w h, I = m (w^2 + h^2) / 12 and m = rho pi r^2, I = m r^2 / 2.
  const double dm_dw = density * height, dm_dh = density * width;
  const double di_dw = dm_dw * (width * width + height * height) / 12 + masses[0] * 2 * width / 12;
  const double di_dh = dm_dh * (width * width + height * height) / 12 + masses[0] * 2 * height / 12;
  EXPECT_NEAR(g[w].item(), g_mass[0] * dm_dw + g_moment[0][2] * di_dw, 1e-8);
  EXPECT_NEAR(g[h].item(), g_mass[0] * dm_dh + g_moment[0][2] * di_dh, 1e-8);
  const double dm_dr = density * 2 * 3.141592653589793 * radius;
  const double di_dr = dm_dr * radius * radius / 2 + masses[1] * radius;
  EXPECT_NEAR(g[r].item(), g_mass[1] * dm_dr + g_moment[1][2] * di_dr, 1e-8);
}

double momentum_error(const RigidWorld2D& world, const Tensor& start, int steps, double dt) {
  const auto values = world.parameters_from_density(30.0, {3e3, 8.0, 0.6});
  TensorTape tape;
  const auto params = values.constants(tape);
  const std::size_t n = world.num_bodies();
  // Linear momentum and angular momentum about the origin: sum m (x v_y - y v_x) + I omega.
  const auto totals = [&](const maya::TensorView s) {
    std::array<double, 3> out{};
    for (std::size_t k = 0; k < n; ++k) {
      const double m = values.mass.data()[k];
      const double* pose = s.values + 3 * k;
      const double* vel = s.values + 3 * n + 3 * k;
      out[0] += m * vel[0];
      out[1] += m * vel[1];
      out[2] += m * (pose[0] * vel[1] - pose[1] * vel[0]) + values.inertia.data()[k] * vel[2];
    }
    return out;
  };
  TensorVar state = tape.constant(start);
  const auto before = totals(state.view());
  double worst = 0.0;
  for (int i = 0; i < steps; ++i) {
    state = world.step(state, params, dt);
    const auto now = totals(state.view());
    for (int j = 0; j < 3; ++j) worst = std::max(worst, std::abs(now[j] - before[j]));
  }
  return worst;
}

TEST(FreeFlight, ConservesMomentumAndAngularMomentum) {
  const RigidWorld2D world(three_shapes(), free_space());
  const Tensor start = rigid_test::state_of({{0.0, 1.0, 0.3, 0.5, 2.0, 2.0},
                                             {5.0, 2.0, -1.0, -1.0, 0.5, -3.0},
                                             {-4.0, -1.0, 0.0, 0.3, -0.4, 7.0}});
  EXPECT_LT(momentum_error(world, start, 2000, 1e-3), 1e-12);
}

TEST(Collision, BodiesConserveLinearAndAngularMomentumThroughImpacts) {
  // Two boxes and a disc collide off-centre, with friction, in free space.
  const RigidWorld2D world(
      {BodyShape::box(0.3, 0.2), BodyShape::box(0.2, 0.2), BodyShape::circle(0.1)}, free_space());
  const Tensor start = rigid_test::state_of({{0.0, 0.0, 0.2, 1.0, 0.0, 1.0},
                                             {0.5, 0.08, -0.3, -1.0, 0.1, 0.0},
                                             {0.1, 0.45, 0.0, 0.0, -1.5, 3.0}});
  EXPECT_LT(momentum_error(world, start, 1500, 2e-4), 1e-12);
  // And they did collide: the first box bounced back.
  const auto values = world.parameters_from_density(30.0, {3e3, 8.0, 0.6});
  TensorTape tape;
  const auto params = values.constants(tape);
  TensorVar state = tape.constant(start);
  bool touched = false;
  for (int i = 0; i < 1500; ++i) {
    touched = touched || !world.find_contacts(state, params).empty();
    state = world.step(state, params, 2e-4);
  }
  EXPECT_TRUE(touched);
  EXPECT_LT(state.view()[9], 0.5);
}

// A scene with every kind of contact at once, switching contacts included: two grounds, boxes
// resting on and falling onto each other, a disc and a triangle.
RigidWorld2D busy_world(maya::rigid::NormalForceLaw law) {
  RigidWorldOptions options;
  options.grounds = {maya::rigid::GroundPlane{},
                     maya::rigid::GroundPlane::through({1.2, 0.0}, {-1.0, 0.3})};
  options.normal_law = law;
  options.linear_damping = 0.1;
  options.angular_damping = 0.2;
  return RigidWorld2D(
      {BodyShape::box(0.4, 0.1), BodyShape::box(0.2, 0.1), BodyShape::circle(0.08),
       BodyShape::polygon({{0.0, 0.0}, {0.2, 0.0}, {0.05, 0.15}}), BodyShape::circle(0.06)},
      options);
}

Tensor busy_state() {
  return rigid_test::state_of({{0.3, 0.049, 0.0, 0.2, 0.0, 0.0},
                               {0.35, 0.148, 0.1, -0.1, -0.2, 0.5},
                               {0.75, 0.12, 0.0, 0.6, -0.5, 1.0},
                               {1.0, 0.3, 0.4, 0.3, -1.0, -2.0},
                               {0.76, 0.27, 0.0, 0.5, -1.0, 0.0}});
}

TEST(RigidStep, FusedEqualsComposedInValuesAndGradientsWithEveryContactKind) {
  for (const auto law :
       {maya::rigid::NormalForceLaw::kKelvinVoigt, maya::rigid::NormalForceLaw::kHuntCrossley}) {
    const RigidWorld2D world = busy_world(law);
    const maya::rigid::ContactMaterial material = law == maya::rigid::NormalForceLaw::kKelvinVoigt
                                                      ? maya::rigid::ContactMaterial{5e3, 10.0, 0.5}
                                                      : maya::rigid::ContactMaterial{1e5, 0.5, 0.5};
    auto values = world.parameters_from_density(50.0, material);
    values.applied = Tensor::uniform(values.applied.shape(), -0.3, 0.3, 8);
    const auto inputs = rigid_test::inputs_of(busy_state(), values);
    Tensor final_state[2];
    std::vector<Tensor> gradients[2];
    std::size_t kinds_seen = 0;
    for (const Path path : {Path::kFused, Path::kComposed}) {
      TensorTape tape;
      std::vector<TensorVar> x;
      for (const Tensor& input : inputs) x.push_back(tape.var(input));
      const RigidParameters params = rigid_test::parameters_of(x);
      TensorVar state = x[0];
      std::array<bool, 3> seen{};
      // Contact-rich rollouts are chaotic: roundoff differences between the paths grow about
      // 100-fold every 10 steps once bodies pile up (and depend on how each product rounds), so
      // compare over the first 50 steps.
      for (int i = 0; i < 50; ++i) {
        for (const auto& c : world.find_contacts(state, params)) {
          seen[static_cast<std::size_t>(c.kind)] = true;
        }
        state = path == Path::kFused ? world.step(state, params, 1e-3)
                                     : world.step_composed(state, params, 1e-3);
      }
      kinds_seen = static_cast<std::size_t>(seen[0] + seen[1] + seen[2]);
      const auto g = tape.grad(rigid_test::loss_of(state));
      const int k = path == Path::kFused ? 0 : 1;
      final_state[k] = state.value();
      for (const TensorVar leaf : x) gradients[k].push_back(g[leaf]);
    }
    EXPECT_EQ(kinds_seen, 3u);
    EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14))
        << maya::max_abs_difference(final_state[0], final_state[1]);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      EXPECT_TRUE(maya::allclose(gradients[0][i], gradients[1][i], 1e-12, 1e-12))
          << "input " << i << ": max difference "
          << maya::max_abs_difference(gradients[0][i], gradients[1][i]);
    }
  }
}

TEST(RigidStep, TimeStepGradientMatchesCentralDifferencesInContact) {
  const RigidWorld2D world = busy_world(maya::rigid::NormalForceLaw::kKelvinVoigt);
  const auto values = world.parameters_from_density(50.0, {5e3, 10.0, 0.5});
  const Tensor inputs[] = {Tensor::scalar(1e-3)};
  for (const Path path : {Path::kFused, Path::kComposed}) {
    const auto report = maya::gradcheck(
        [&](TensorTape& tape, std::span<const TensorVar> x) {
          const auto params = values.constants(tape);
          TensorVar state = tape.constant(busy_state());
          for (int i = 0; i < 20; ++i) {
            state = path == Path::kFused ? world.step(state, params, x[0])
                                         : world.step_composed(state, params, x[0]);
          }
          return rigid_test::loss_of(state);
        },
        inputs, 1e-9);
    EXPECT_LT(report.max_error(), 1e-6) << report.analytic[0] << " vs " << report.numeric[0];
  }
}

TEST(RigidStep, IsOneTapeNodeFusedAndAFewDozenComposedWhateverTheBodyCount) {
  std::size_t composed_nodes[2] = {0, 0};
  for (const std::size_t bodies : {4u, 64u}) {
    std::vector<BodyShape> shapes(bodies, BodyShape::box(0.2, 0.1));
    const RigidWorld2D world(shapes);
    const auto values = world.parameters_from_density(50.0);
    std::vector<std::array<double, 6>> rows;
    for (std::size_t k = 0; k < bodies; ++k)
      rows.push_back({0.5 * static_cast<double>(k), 0.04, 0.1, 0.5, 0.0, 2.0});
    TensorTape tape;
    const auto params = values.constants(tape);
    const TensorVar state = tape.constant(rigid_test::state_of(rows));
    ASSERT_EQ(world.find_contacts(state, params).size(), bodies);  // one corner each
    const std::size_t before = tape.size();
    (void)world.step(state, params, 1e-3);
    EXPECT_EQ(tape.size(), before + 1);
    const std::size_t fused = tape.size();
    (void)world.step_composed(state, params, 1e-3);
    composed_nodes[bodies == 4u ? 0 : 1] = tape.size() - fused;
  }
  EXPECT_EQ(composed_nodes[0], composed_nodes[1]);
  EXPECT_LT(composed_nodes[0], 150u);
}

TEST(WrenchAtPoints, GivesForceAndTorqueAboutTheCentreAndIsDifferentiable) {
  TensorTape tape;
  const TensorVar state = tape.constant(
      rigid_test::state_of({{1.0, 2.0, 0.0, 0.0, 0.0, 0.0}, {-1.0, 0.0, 0.0, 0.0, 0.0, 0.0}}));
  const std::int64_t bodies[] = {0, 0, 1};
  const TensorVar points = tape.constant(Tensor::from_data({1.5, 2.0, 1.0, 3.0, 0.0, 0.0}, {3, 2}));
  const TensorVar forces = tape.constant(Tensor::from_data({0.0, 2.0, 1.0, 0.0, 0.5, 0.5}, {3, 2}));
  const Tensor wrench = maya::rigid::wrench_at_points(state, bodies, points, forces).value();
  // Body 0: (0.5, 0) x (0, 2) = 1 and (0, 1) x (1, 0) = -1; body 1: (1, 0) x (0.5, 0.5) = 0.5.
  const Tensor expected = Tensor::from_data({1.0, 2.0, 0.0, 0.5, 0.5, 0.5}, {2, 3});
  EXPECT_TRUE(maya::allclose(wrench, expected, 1e-15, 1e-15)) << wrench;
  const Tensor inputs[] = {rigid_test::state_of({{1.0, 2.0, 0.3, 0.0, 0.0, 0.0}}),
                           Tensor::from_data({1.5, 2.5}, {1, 2}),
                           Tensor::from_data({0.2, -1.0}, {1, 2})};
  const std::int64_t one[] = {0};
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        return rigid_test::loss_of(maya::rigid::wrench_at_points(x[0], one, x[1], x[2]));
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-8);
  EXPECT_THROW((void)maya::rigid::wrench_at_points(state, std::vector<std::int64_t>{0, 0, 2},
                                                   points, forces),
               maya::ValueError);
}

std::string error_of(auto&& call) {
  try {
    call();
  } catch (const maya::Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(RigidStep, BadInputsAreNamed) {
  EXPECT_THROW(RigidWorld2D({}), maya::ValueError);
  RigidWorldOptions zero_ground;
  zero_ground.grounds = {maya::rigid::GroundPlane{{0.0, 0.0}, 0.0}};
  EXPECT_NE(
      error_of([&] { RigidWorld2D w({BodyShape::circle(1.0)}, zero_ground); }).find("ground 0"),
      std::string::npos);
  RigidWorldOptions no_smoothing;
  no_smoothing.friction_smoothing = 0.0;
  EXPECT_THROW(RigidWorld2D({BodyShape::circle(1.0)}, no_smoothing), maya::ValueError);

  const RigidWorld2D world({BodyShape::box(0.2, 0.1), BodyShape::circle(0.1)});
  EXPECT_THROW((void)world.parameters_from_masses({1.0}), maya::ShapeError);
  EXPECT_NE(error_of([&] {
              (void)world.parameters_from_masses({1.0, -2.0});
            }).find("body 1"),
            std::string::npos);
  const auto good = world.parameters_from_density(10.0);
  const Tensor state = rigid_test::state_of({{0, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}});
  const auto step_error = [&](auto&& edit, double dt = 1e-3) {
    auto values = good;
    edit(values);
    TensorTape tape;
    return error_of([&] { (void)world.step(tape.constant(state), values.constants(tape), dt); });
  };
  const auto nothing = [](maya::rigid::RigidParameterValues&) {};
  EXPECT_NE(step_error(nothing, 0.0).find("dt"), std::string::npos);
  EXPECT_NE(step_error([](auto& v) {
              v.mass = Tensor::from_data({1.0, -1.0}, {2});
            }).find("mass of body 1"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) {
              v.inertia = Tensor::from_data({0.0, 1.0}, {2});
            }).find("inertia of body 0"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) {
              v.radius = Tensor::from_data({0.0, 0.0}, {2});
            }).find("radius of body 1"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) { v.stiffness = Tensor::scalar(0.0); }).find("stiffness"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) { v.friction = Tensor::scalar(-0.1); }).find("friction"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) {
              v.applied = Tensor::zeros({2, 2});
            }).find("applied"),
            std::string::npos);
  EXPECT_NE(step_error([](auto& v) {
              v.vertices = Tensor::zeros({3, 2});
            }).find("vertices"),
            std::string::npos);
  TensorTape tape;
  EXPECT_THROW(
      (void)world.step(tape.constant(Tensor::zeros({2, 3, 3})), good.constants(tape), 1e-3),
      maya::ShapeError);
  EXPECT_THROW((void)RigidWorld2D::make_state(Tensor::zeros({2, 3}), Tensor::zeros({2, 2})),
               maya::ShapeError);
  maya::rigid::Contact bad;
  bad.kind = maya::rigid::ContactKind::kFace;
  bad.body_a = 0;
  bad.feature_a = 7;
  bad.body_b = 1;
  EXPECT_NE(error_of([&] {
              (void)world.contact_frames(tape.constant(state), good.constants(tape), {&bad, 1});
            }).find("contact 0"),
            std::string::npos);
  // The centre of a polygon is no point feature; vertex 0 belongs to body 0, not body 1.
  maya::rigid::Contact centre_of_box;
  centre_of_box.kind = maya::rigid::ContactKind::kPoints;
  centre_of_box.body_a = 0;
  centre_of_box.feature_a = -1;
  centre_of_box.body_b = 1;
  centre_of_box.feature_b = -1;
  maya::rigid::Contact foreign_vertex = centre_of_box;
  foreign_vertex.body_a = 1;
  foreign_vertex.feature_a = 0;
  foreign_vertex.body_b = 1;
  for (const maya::rigid::Contact& c : {centre_of_box, foreign_vertex}) {
    EXPECT_THROW((void)world.contact_frames(tape.constant(state), good.constants(tape), {&c, 1}),
                 maya::ValueError);
  }
}

}  // namespace

// The fused step's node holds the world: a world destroyed before grad() gives the same gradient
// as one still alive (50 contact-rich steps, alternating between the world and a copy).
TEST(RigidStep, TapeKeepsTheWorldAliveAfterTheWorldIsGone) {
  const auto run_steps = [](bool drop_world) {
    auto world =
        std::make_unique<RigidWorld2D>(busy_world(maya::rigid::NormalForceLaw::kHuntCrossley));
    auto copy = std::make_unique<RigidWorld2D>(*world);
    const auto values =
        world->parameters_from_density(50.0, maya::rigid::ContactMaterial{1e5, 0.5, 0.5});
    const auto inputs = rigid_test::inputs_of(busy_state(), values);
    TensorTape tape;
    std::vector<TensorVar> x;
    for (const Tensor& input : inputs) x.push_back(tape.var(input));
    const RigidParameters params = rigid_test::parameters_of(x);
    TensorVar state = x[0];
    for (int i = 0; i < 50; ++i) state = (i % 2 ? *copy : *world).step(state, params, 1e-3);
    const TensorVar loss = rigid_test::loss_of(state);
    if (drop_world) {
      world.reset();
      copy.reset();
    }
    const auto g = tape.grad(loss);
    std::vector<Tensor> gradients;
    for (const TensorVar leaf : x) gradients.push_back(g[leaf]);
    return gradients;
  };
  const std::vector<Tensor> alive = run_steps(false);
  const std::vector<Tensor> dropped = run_steps(true);
  for (std::size_t i = 0; i < alive.size(); ++i) {
    EXPECT_EQ(maya::max_abs_difference(alive[i], dropped[i]), 0.0) << "input " << i;
  }
  EXPECT_GT(maya::max_abs_difference(alive[0], Tensor::zeros(alive[0].shape())), 0.0);
}
