#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "contact_scenes.hpp"

namespace {

using namespace contact_test;
using maya::contact::kWorld;
using maya::contact::RevoluteJoint;
using maya::rigid::BodyShape;
using maya::rigid::RigidWorld2D;

constexpr double kGravity = 9.8;
constexpr double kBobRadius = 0.05;

HardContactWorld2D pendulum_world(std::size_t links, double tolerance = 1e-10) {
  std::vector<BodyShape> shapes(links, BodyShape::circle(kBobRadius));
  std::vector<RevoluteJoint> joints{{0, kWorld}};
  for (std::int32_t i = 1; i < static_cast<std::int32_t>(links); ++i) joints.push_back({i, i - 1});
  maya::rigid::RigidWorldOptions options;
  options.gravity = {0.0, -kGravity};
  options.grounds.clear();
  HardContactOptions contact;
  contact.solver.tolerance = tolerance;
  return HardContactWorld2D(RigidWorld2D(shapes, options), joints, contact);
}

// A chain of point-like bobs hanging from the origin, link i at angle angles[i] from straight
// down with length lengths[i], recorded on the tape from the angle and length TensorVars: bob i
// at p_i = p_(i-1) + L_i (sin a_i, -cos a_i), turned by a_i, at rest. Joint i holds the anchor
// (0, L_i) of bob i (its link's top, in its frame) on bob i-1's centre, or on the origin.
struct Chain {
  TensorVar state;
  HardContactParameters params;
};

Chain hanging_chain(TensorTape& tape, TensorVar angles, TensorVar lengths, std::size_t links) {
  std::vector<TensorVar> poses;
  std::vector<TensorVar> anchors;
  TensorVar x = tape.constant(Tensor::zeros({1}));
  TensorVar y = tape.constant(Tensor::zeros({1}));
  const TensorVar zero = tape.constant(Tensor::zeros({1}));
  for (std::size_t i = 0; i < links; ++i) {
    const long l = static_cast<long>(i);
    const TensorVar a = maya::slice(angles, 0, l, l + 1);
    const TensorVar length = maya::slice(lengths, 0, l, l + 1);
    x = x + length * maya::sin(a);
    y = y - length * maya::cos(a);
    poses.push_back(maya::concat({x, y, a}, 0));
    anchors.push_back(maya::concat({zero, length, zero, zero}, 0));
  }
  const TensorVar pose = maya::stack(poses, 0);
  const TensorVar state = maya::stack({pose, tape.constant(Tensor::zeros({links, 3}))}, 0);
  HardContactParameters params;
  params.mass = tape.constant(Tensor::full({links}, 1.0));
  params.inertia = tape.constant(Tensor::full({links}, 0.5 * kBobRadius * kBobRadius));
  params.vertices = tape.constant(Tensor::zeros({0, 2}));
  params.radius = tape.constant(Tensor::full({links}, kBobRadius));
  params.applied = tape.constant(Tensor::zeros({links, 3}));
  params.anchors = maya::stack(anchors, 0);
  return {state, params};
}

double energy(const Tensor& state, const HardContactParameters& params) {
  return maya::contact::kinetic_energy(state, params.mass.value(), params.inertia.value()) +
         maya::contact::potential_energy(state, params.mass.value(), {0.0, -kGravity});
}

// The largest |E(t) - E(0)| of a chain swinging for `duration` seconds, expecting on the way
// that every link keeps its length to `joint_tolerance`; the times the first link's angle crosses
// zero downwards.
struct Swing {
  double energy_error = 0.0;
  std::vector<double> crossings;
};

Swing swing(const std::vector<double>& angles, const std::vector<double>& lengths, double dt,
            double duration, double joint_tolerance) {
  const std::size_t links = angles.size();
  const HardContactWorld2D world = pendulum_world(links);
  TensorTape tape;
  const Chain chain = hanging_chain(tape, tape.constant(Tensor::from_data(angles, {links})),
                                    tape.constant(Tensor::from_data(lengths, {links})), links);
  const double e0 = energy(chain.state.value(), chain.params);
  TensorVar state = chain.state;
  Swing out;
  double previous_angle = angles[0];
  const int steps = static_cast<int>(std::lround(duration / dt));
  for (int i = 1; i <= steps; ++i) {
    state = world.step(state, chain.params, dt);
    const Tensor s = state.value();
    out.energy_error = std::max(out.energy_error, std::abs(energy(s, chain.params) - e0));
    const double angle = body(s, 0).theta;
    if (previous_angle > 0.0 && angle <= 0.0) out.crossings.push_back(i * dt);
    previous_angle = angle;
    double x = 0.0, y = 0.0;
    for (std::size_t l = 0; l < links; ++l) {
      const BodyState b = body(s, l);
      EXPECT_NEAR(std::hypot(b.x - x, b.y - y), lengths[l], joint_tolerance) << "step " << i;
      x = b.x;
      y = b.y;
    }
  }
  return out;
}

}  // namespace

TEST(Pendulum, SwingsWithTheClosedFormPeriod) {
  const double amplitude = 0.3;
  const Swing s = swing({amplitude}, {1.0}, 1e-3, 4.0, 1e-4);
  // Physical pendulum (bob inertia I about its centre), finite-amplitude correction:
  // T = 2 pi sqrt((m L^2 + I) / (m g L)) (1 + a^2 / 16).
  ASSERT_GE(s.crossings.size(), 2u);
  const double inertia = 0.5 * kBobRadius * kBobRadius;
  const double period =
      2.0 * M_PI * std::sqrt((1.0 + inertia) / kGravity) * (1.0 + amplitude * amplitude / 16.0);
  EXPECT_NEAR(s.crossings[1] - s.crossings[0], period, 2e-3);
}

TEST(Pendulum, EnergyErrorIsSmallAndFirstOrderInDt) {
  // Semi-implicit stepping with a velocity-level joint and Baumgarte stabilization: the energy
  // oscillates within O(dt) of its start, with no blow-up over several periods.
  const double amplitude = 0.3;
  const double swing_energy = kGravity * (1.0 - std::cos(amplitude));  // m g L (1 - cos a)
  const Swing coarse = swing({amplitude}, {1.0}, 2e-3, 4.0, 1e-4);
  const Swing fine = swing({amplitude}, {1.0}, 1e-3, 4.0, 1e-4);
  EXPECT_LT(fine.energy_error, 5e-3 * swing_energy);
  const double order = std::log2(coarse.energy_error / fine.energy_error);
  EXPECT_GT(order, 0.7);
  EXPECT_LT(order, 1.4);
}

TEST(DoublePendulum, KeepsItsLinksAndItsEnergyToFirstOrder) {
  // A chaotic swing from 1.2 and -0.4 rad; m g L ~ 17 J sets the scale.
  const Swing coarse = swing({1.2, -0.4}, {1.0, 0.7}, 2e-3, 3.0, 2e-3);
  const Swing fine = swing({1.2, -0.4}, {1.0, 0.7}, 1e-3, 3.0, 1e-3);
  EXPECT_LT(fine.energy_error, 0.05);
  const double order = std::log2(coarse.energy_error / fine.energy_error);
  EXPECT_GT(order, 0.7);
  EXPECT_LT(order, 1.4);
}

TEST(Pendulum, FinalAngleGradientMatchesCentralDifferences) {
  const HardContactWorld2D world = pendulum_world(1, 1e-13);
  const Tensor inputs[] = {Tensor::from_data({0.4}, {1}), Tensor::from_data({0.8}, {1})};
  const auto report = maya::gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> x) {
        const Chain chain = hanging_chain(tape, x[0], x[1], 1);
        const TensorVar end = rollout(world, chain.state, chain.params, 300, 2e-3);
        return maya::select(maya::select(maya::select(end, 0, 0), 0, 0), 0, 2);
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-6);
  EXPECT_LT(report.worst_error[1], 1e-6);
  // The gradient is not trivial: a longer pendulum swings slower.
  EXPECT_GT(std::abs(report.analytic[1].item()), 0.1);
}

TEST(DoublePendulum, FinalAngleGradientsMatchCentralDifferences) {
  const HardContactWorld2D world = pendulum_world(2, 1e-13);
  const Tensor inputs[] = {Tensor::from_data({0.7, -0.3}, {2}), Tensor::from_data({1.0, 0.6}, {2})};
  const auto report = maya::gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> x) {
        const Chain chain = hanging_chain(tape, x[0], x[1], 2);
        const TensorVar end = rollout(world, chain.state, chain.params, 250, 2e-3);
        const TensorVar poses = maya::select(end, 0, 0);
        return maya::select(maya::select(poses, 0, 0), 0, 2) +
               2.0 * maya::select(maya::select(poses, 0, 1), 0, 2);
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-6);
  EXPECT_LT(report.worst_error[1], 1e-6);
}

TEST(Joints, BadJointsAreNamed) {
  const RigidWorld2D bodies({BodyShape::circle(0.1), BodyShape::circle(0.1)}, flat_ground());
  EXPECT_THROW(HardContactWorld2D(bodies, {{0, 2}}), maya::ValueError);
  EXPECT_THROW(HardContactWorld2D(bodies, {{1, 1}}), maya::ValueError);
  EXPECT_THROW(HardContactWorld2D(bodies, {{-1, 0}}), maya::ValueError);
}

TEST(Joints, TheSameJointTwiceIsASingularSystem) {
  const HardContactWorld2D world(RigidWorld2D({BodyShape::circle(0.1)}, flat_ground()),
                                 {{0, kWorld}, {0, kWorld}});
  const Tensor initial = state_of({{0.0, 2.0, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0}, initial, {{0.0, 3.0}, {0.0, 3.0}});
  TensorTape tape;
  EXPECT_THROW((void)world.step(tape.constant(initial), values.constants(tape), 0.01),
               maya::ValueError);
}

TEST(Chain, OfBoxesSwingsDownAndHoldsEveryJoint) {
  // Four 0.5 x 0.1 links joined end to end, pinned at the left end, released horizontally above
  // the ground; jointed neighbours do not collide with each other.
  constexpr std::size_t kLinks = 4;
  std::vector<BodyShape> shapes(kLinks, BodyShape::box(0.5, 0.1));
  std::vector<RevoluteJoint> joints{{0, kWorld}};
  std::vector<std::array<double, 6>> rows;
  std::vector<maya::rigid::Vec2> pivots{{0.0, 0.0}};
  for (std::size_t i = 0; i < kLinks; ++i) {
    rows.push_back({0.25 + 0.5 * static_cast<double>(i), 0.0, 0.0, 0.0, 0.0, 0.0});
    if (i > 0) {
      joints.push_back({static_cast<std::int32_t>(i), static_cast<std::int32_t>(i - 1)});
      pivots.push_back({0.5 * static_cast<double>(i), 0.0});
    }
  }
  maya::rigid::RigidWorldOptions bodies = flat_ground();
  bodies.grounds = {maya::rigid::GroundPlane::through({0.0, -2.5}, {0.0, 1.0})};
  const HardContactWorld2D world(RigidWorld2D(shapes, bodies), joints);
  const Tensor initial = state_of(rows);
  const auto values = world.parameters(std::vector<double>(kLinks, 0.5), initial, pivots);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  const auto anchor = [&](const Tensor& s, std::size_t body_index, double rx, double ry) {
    const BodyState b = body(s, body_index);
    return maya::rigid::Vec2{b.x + std::cos(b.theta) * rx - std::sin(b.theta) * ry,
                             b.y + std::sin(b.theta) * rx + std::cos(b.theta) * ry};
  };
  double lowest = 0.0;
  for (int step = 1; step <= 1500; ++step) {
    state = world.step(state, params, 2e-3);
    const Tensor s = state.value();
    for (std::size_t j = 0; j < joints.size(); ++j) {
      const auto r = values.anchors.data().subspan(4 * j, 4);
      const maya::rigid::Vec2 a = anchor(s, static_cast<std::size_t>(joints[j].body_a), r[0], r[1]);
      const maya::rigid::Vec2 b =
          joints[j].body_b == kWorld
              ? maya::rigid::Vec2{r[2], r[3]}
              : anchor(s, static_cast<std::size_t>(joints[j].body_b), r[2], r[3]);
      ASSERT_LT(std::hypot(a.x - b.x, a.y - b.y), 5e-3) << "joint " << j << " step " << step;
    }
    lowest = std::min(lowest, body(s, kLinks - 1).y);
  }
  // The free end swung down to about the chain's length below the pin, above the ground.
  EXPECT_LT(lowest, -1.2);
  EXPECT_GT(lowest, -2.1);
}
