// rigid_rollout_gradient on the CPU: every world against a single-world rollout of the fused step
// on a tape of its own, gradients against central differences, shape errors naming both sides,
// and a world that blows up named by its index without touching the others.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <maya/maya.hpp>
#include <maya/rigid/batched_rollout.hpp>
#include <string>
#include <vector>

#include "support/rigid_worlds.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::RigidRolloutGradients;
using maya::rigid::RigidRolloutOptions;
using maya::rigid::RigidWorlds;
using maya::test::rigid_relative_error;

Tensor slice(const Tensor& t, std::size_t w, maya::Shape shape) {
  std::size_t size = 1;
  for (const std::size_t d : shape) size *= d;
  const auto values = t.data().subspan(w * size, size);
  return Tensor::from_data(std::vector<double>(values.begin(), values.end()), std::move(shape));
}

// World w alone: T fused steps on a tape, the loss recorded from tensor ops.
struct Single {
  double loss;
  Tensor final_state;
  std::vector<Tensor> gradients;  // state, mass, inertia, vertices, radius, applied, k, c, mu
};

Single single_world(const maya::rigid::RigidWorld2D& world, const RigidWorlds& worlds,
                    std::size_t w, std::size_t steps, double dt) {
  const std::size_t k = world.num_bodies();
  const std::size_t v = world.num_vertices();
  TensorTape tape;
  std::vector<TensorVar> x = {
      tape.var(slice(worlds.state, w, {2, k, 3})), tape.var(slice(worlds.mass, w, {k})),
      tape.var(slice(worlds.inertia, w, {k})),     tape.var(slice(worlds.vertices, w, {v, 2})),
      tape.var(slice(worlds.radius, w, {k})),      tape.var(slice(worlds.applied, w, {k, 3})),
      tape.var(slice(worlds.stiffness, w, {1})),   tape.var(slice(worlds.damping, w, {1})),
      tape.var(slice(worlds.friction, w, {1}))};
  const maya::rigid::RigidParameters params{x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8]};
  TensorVar state = x[0];
  for (std::size_t t = 0; t < steps; ++t) state = world.step(state, params, dt);
  const TensorVar pose = maya::dynamics::positions_of(state);
  const TensorVar loss = maya::sum(maya::square(maya::select(pose, 1, 0) - 2.0)) +
                         maya::sum(maya::square(maya::select(pose, 1, 1))) +
                         maya::sum(maya::square(maya::select(pose, 1, 2)));
  const maya::TensorGradients g = tape.grad(loss);
  Single out{loss.item(), state.value(), {}};
  for (const TensorVar var : x) out.gradients.push_back(g[var]);
  return out;
}

std::vector<const Tensor*> gradients_of(const RigidRolloutGradients& r) {
  return {&r.state,   &r.mass,      &r.inertia, &r.vertices, &r.radius,
          &r.applied, &r.stiffness, &r.damping, &r.friction};
}

TEST(RigidRolloutGradient, EveryWorldMatchesItsSingleWorldRollout) {
  maya::test::RigidBatch batch = maya::test::w4_batch(3, 4);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 300};
  const RigidRolloutGradients out =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  ASSERT_EQ(out.state.shape(), (maya::Shape{4, 2, 3, 3}));
  ASSERT_EQ(out.vertices.shape(), (maya::Shape{4, 12, 2}));
  for (std::size_t w = 0; w < 4; ++w) {
    SCOPED_TRACE("world " + std::to_string(w));
    const Single single = single_world(batch.world, batch.worlds, w, options.steps, options.dt);
    EXPECT_NEAR(out.loss.data()[w], single.loss, 1e-12 * std::abs(single.loss));
    EXPECT_LE(rigid_relative_error(slice(out.final_state, w, {2, 3, 3}), single.final_state),
              1e-14);
    const auto batched = gradients_of(out);
    for (std::size_t i = 0; i < batched.size(); ++i) {
      const Tensor& expected = single.gradients[i];
      const Tensor got = slice(*batched[i], w, expected.shape());
      EXPECT_LE(rigid_relative_error(got, expected), 1e-12) << "gradient " << i;
    }
  }
  // The worlds differ, so a shared result would show.
  EXPECT_GT(std::abs(out.loss.data()[0] - out.loss.data()[3]), 1e-6);
}

// Central differences of the batched loss of world 1 in its initial state and an entry of every
// parameter, on the mixed scene (boxes, a triangle, circles, two grounds, damping). The state's
// step is 1e-7: the stiff contacts curve the loss enough that a step of 1e-6 is off by 1e-5.
void expect_matches_central_differences(maya::rigid::NormalForceLaw law) {
  maya::test::RigidBatch batch = maya::test::mixed_batch(3, law);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 150};
  const RigidRolloutGradients out = maya::rigid::rigid_rollout_gradient(
      batch.world, batch.worlds, maya::test::weighted_loss, options);
  const std::size_t w = 1;
  const std::size_t k = batch.world.num_bodies();
  const auto loss_of = [&](RigidWorlds worlds) {
    return maya::rigid::rigid_rollout_gradient(batch.world, worlds, maya::test::weighted_loss,
                                               options)
        .loss.data()[w];
  };
  struct Probe {
    Tensor RigidWorlds::*field;
    const Tensor* gradient;
    std::size_t index;
    double step;
  };
  std::vector<Probe> probes;
  for (std::size_t b = 0; b < k; ++b) {
    for (std::size_t j = 0; j < 3; ++j) {
      probes.push_back({&RigidWorlds::state, &out.state, w * 6 * k + 3 * k + 3 * b + j, 1e-7});
      probes.push_back({&RigidWorlds::state, &out.state, w * 6 * k + 3 * b + j, 1e-7});
    }
  }
  probes.push_back({&RigidWorlds::mass, &out.mass, w * k + 2, 1e-5});
  probes.push_back({&RigidWorlds::inertia, &out.inertia, w * k + 0, 1e-7});
  probes.push_back({&RigidWorlds::radius, &out.radius, w * k + 1, 1e-6});
  probes.push_back(
      {&RigidWorlds::vertices, &out.vertices, w * 2 * batch.world.num_vertices() + 5, 1e-6});
  probes.push_back({&RigidWorlds::applied, &out.applied, 3 * (w * k + 3) + 1, 1e-5});
  probes.push_back(
      {&RigidWorlds::stiffness, &out.stiffness, w, 1e-6 * batch.worlds.stiffness.data()[w]});
  probes.push_back({&RigidWorlds::damping, &out.damping, w, 1e-5});
  probes.push_back({&RigidWorlds::friction, &out.friction, w, 1e-6});
  for (const Probe& p : probes) {
    RigidWorlds plus = batch.worlds;
    RigidWorlds minus = batch.worlds;
    (plus.*p.field).mutable_data()[p.index] += p.step;
    (minus.*p.field).mutable_data()[p.index] -= p.step;
    const double numeric = (loss_of(plus) - loss_of(minus)) / (2.0 * p.step);
    const double analytic = p.gradient->data()[p.index];
    EXPECT_NEAR(analytic, numeric, 1e-5 * std::max(1.0, std::abs(numeric))) << "entry " << p.index;
  }
}

TEST(RigidRolloutGradient, KelvinVoigtMatchesCentralDifferences) {
  expect_matches_central_differences(maya::rigid::NormalForceLaw::kKelvinVoigt);
}

TEST(RigidRolloutGradient, HuntCrossleyMatchesCentralDifferences) {
  expect_matches_central_differences(maya::rigid::NormalForceLaw::kHuntCrossley);
}

TEST(RigidRolloutGradient, ParameterBatchOfAnotherSizeIsAShapeErrorNamingBoth) {
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 3);
  batch.worlds.stiffness = Tensor::full({4}, 1e4);
  try {
    (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, {});
    FAIL() << "no error";
  } catch (const maya::ShapeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("stiffness of shape [4]"), std::string::npos) << message;
    EXPECT_NE(message.find("state of shape [3, 2, 2, 3]"), std::string::npos) << message;
  }
}

TEST(RigidRolloutGradient, WorldsOfAnotherTopologyAreAShapeError) {
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 3);
  batch.worlds.vertices = Tensor::zeros({3, 6, 2});  // a triangle where a box is
  EXPECT_THROW(
      (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, {}),
      maya::ShapeError);
  batch = maya::test::w4_batch(2, 3);
  batch.worlds.state = Tensor::zeros({3, 2, 3, 3});  // three bodies for a world of two
  EXPECT_THROW(
      (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, {}),
      maya::ShapeError);
}

TEST(RigidRolloutGradient, BadValuesAreValueErrorsNamingTheWorld) {
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 3);
  batch.worlds.mass.mutable_data()[5] = 0.0;
  try {
    (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, {});
    FAIL() << "no error";
  } catch (const maya::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("body 1 of world 2"), std::string::npos) << e.what();
  }
  batch = maya::test::w4_batch(2, 3);
  EXPECT_THROW((void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds,
                                                         maya::test::w4_loss, {.dt = 0.0}),
               maya::ValueError);
}

TEST(RigidRolloutGradient, ABlownUpWorldIsNamedAndLeavesTheOthersAlone) {
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 4);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 50};
  const RigidRolloutGradients clean =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  batch.worlds.state.mutable_data()[2 * 12 + 7] = std::numeric_limits<double>::quiet_NaN();
  const RigidRolloutGradients dirty =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  EXPECT_TRUE(std::isnan(dirty.loss.data()[2]));
  for (const std::size_t w : {0, 1, 3}) {
    EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
    EXPECT_EQ(slice(dirty.state, w, {12}).data()[3], slice(clean.state, w, {12}).data()[3]);
  }
  try {
    (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss,
                                              {.dt = 1e-3, .steps = 50, .finite_check = true});
    FAIL() << "no error";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("world 2 of 4"), std::string::npos) << e.what();
  }
}

TEST(RigidRolloutGradient, CudaWithoutAGpuIsADeviceError) {
  if (maya::dynamics::cuda_device_count() > 0) GTEST_SKIP() << "a GPU is present";
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 2);
  EXPECT_THROW((void)maya::rigid::rigid_rollout_gradient(
                   batch.world, batch.worlds, maya::test::w4_loss,
                   {.dt = 1e-3, .steps = 10, .device = maya::Device::kCuda}),
               maya::DeviceError);
}

// A call into an earlier call's results (first of another E, so they are replaced, then of the
// same, so they are reused) gives a fresh call's results bit for bit.
TEST(RigidRolloutGradient, ResultsIntoEarlierResultsMatchAFreshCall) {
  const maya::test::RigidBatch small = maya::test::w4_batch(3, 2);
  const maya::test::RigidBatch batch = maya::test::w4_batch(3, 4);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 60};
  const RigidRolloutGradients fresh =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  RigidRolloutGradients out;
  maya::rigid::rigid_rollout_gradient(small.world, small.worlds, maya::test::w4_loss, options, out);
  ASSERT_EQ(out.state.shape()[0], 2u);
  for (int round = 0; round < 2; ++round) {
    maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options,
                                        out);
    maya::test::expect_same_rigid_results(out, fresh);
  }
}

}  // namespace
