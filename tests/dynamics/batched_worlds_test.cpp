// Many worlds on the CPU: the fused step on a [E, 2, N, D] state and spring_rollout_gradient,
// each against E single-world fused steps on their own tapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <maya/dynamics/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "support/spring_worlds.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::test::relative_error;
using maya::test::world_slice;

maya::dynamics::SpringLattice falling_lattice(std::size_t size) {
  maya::dynamics::LatticeOptions options;
  options.size = size;
  options.spacing = 0.1;
  options.origin_y = 0.02;  // reaches the ground within the rollouts below
  options.velocity_y = -1.0;
  return maya::dynamics::make_spring_lattice(options);
}

// One world's rollout through the single-world fused step on a tape: its loss and gradients.
struct SingleWorld {
  double loss;
  Tensor final_state, state, mass, stiffness, damping, rest;
};

SingleWorld single_world(const maya::dynamics::MassSpringModel& model,
                         const maya::dynamics::SpringWorlds& w, std::size_t world, double dt,
                         std::size_t steps) {
  TensorTape tape;
  TensorVar state = tape.var(world_slice(w.state, world));
  const maya::dynamics::SpringParameters params{
      tape.var(world_slice(w.mass, world)), tape.var(world_slice(w.stiffness, world)),
      tape.var(world_slice(w.damping, world)), tape.var(world_slice(w.rest_length, world))};
  const TensorVar initial = state;
  for (std::size_t t = 0; t < steps; ++t) state = model.step(state, params, dt);
  const std::size_t n = model.num_particles();
  std::vector<double> target;
  for (std::size_t i = 0; i < n; ++i) target.insert(target.end(), {1.0, 0.1});
  const TensorVar diff =
      maya::dynamics::positions_of(state) - tape.constant(Tensor::from_data(target, {n, 2}));
  const TensorVar loss = maya::sum(maya::square(diff)) / static_cast<double>(n);
  maya::TensorGradients g = tape.grad(loss);
  return {tape.view(loss).data()[0],
          Tensor::from_view(tape.view(state)),
          g[initial],
          g[params.mass],
          g[params.stiffness],
          g[params.damping],
          g[params.rest_length]};
}

TEST(SpringRolloutGradient, CpuEqualsSingleWorldFusedStepsOnTapes) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(4);
  const auto worlds = maya::test::varied_worlds(lattice, 3, 7);
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = 120};
  const auto out = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                           maya::test::w2_loss_of(2), options);
  for (std::size_t w = 0; w < 3; ++w) {
    const SingleWorld ref = single_world(lattice.model, worlds, w, options.dt, options.steps);
    EXPECT_NEAR(out.loss.data()[w], ref.loss, 1e-12 * std::abs(ref.loss)) << "world " << w;
    EXPECT_LT(relative_error(world_slice(out.final_state, w), ref.final_state), 1e-13);
    EXPECT_LT(relative_error(world_slice(out.state, w), ref.state), 1e-12) << "world " << w;
    EXPECT_LT(relative_error(world_slice(out.mass, w), ref.mass), 1e-12) << "world " << w;
    EXPECT_LT(relative_error(world_slice(out.stiffness, w), ref.stiffness), 1e-12);
    EXPECT_LT(relative_error(world_slice(out.damping, w), ref.damping), 1e-12);
    EXPECT_LT(relative_error(world_slice(out.rest_length, w), ref.rest), 1e-12);
  }
  // Worlds differ, so their gradients must too.
  EXPECT_GT(relative_error(world_slice(out.stiffness, 0), world_slice(out.stiffness, 1)), 1e-3);
}

TEST(SpringRolloutGradient, GivesTheSameBitsOnEveryThreadCount) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(4);
  const auto worlds = maya::test::varied_worlds(lattice, 5, 11);
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = 60};
  maya::set_num_threads(1);
  const auto one = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                           maya::test::w2_loss_of(2), options);
  maya::set_num_threads(3);
  const auto three = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options);
  maya::set_num_threads(1);
  EXPECT_EQ(relative_error(one.stiffness, three.stiffness), 0.0);
  EXPECT_EQ(relative_error(one.state, three.state), 0.0);
  EXPECT_EQ(relative_error(one.final_state, three.final_state), 0.0);
}

TEST(SpringRolloutGradient, StiffnessGradientMatchesCentralDifferences) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  auto worlds = maya::test::varied_worlds(lattice, 2, 5);
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = 80};
  const auto out = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                           maya::test::w2_loss_of(2), options);
  const std::size_t s = lattice.model.num_springs();
  for (const std::size_t spring : {std::size_t{0}, std::size_t{5}}) {
    const std::size_t j = 1 * s + spring;  // world 1
    const double h = 1e-3;                 // stiffness ~ 1000: relative step 1e-6
    const double k = worlds.stiffness.data()[j];
    worlds.stiffness.mutable_data()[j] = k + h;
    const double up = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                              maya::test::w2_loss_of(2), options)
                          .loss.data()[1];
    worlds.stiffness.mutable_data()[j] = k - h;
    const double down = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                                maya::test::w2_loss_of(2), options)
                            .loss.data()[1];
    worlds.stiffness.mutable_data()[j] = k;
    const double numeric = (up - down) / (2 * h);
    // Relative to the world's largest stiffness gradient: these two are small.
    double largest = 0.0;
    for (std::size_t e = 0; e < s; ++e)
      largest = std::max(largest, std::abs(out.stiffness.data()[s + e]));
    EXPECT_NEAR(out.stiffness.data()[j], numeric, 1e-6 * largest);
  }
}

TEST(SpringRolloutGradient, WorldsOfDifferentCountsThrowShapeErrorNamingBoth) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  auto worlds = maya::test::varied_worlds(lattice, 3, 1);
  worlds.stiffness = Tensor::full({2, lattice.model.num_springs()}, 1000.0);
  try {
    (void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds, maya::test::w2_loss_of(2),
                                                  {});
    FAIL() << "expected ShapeError";
  } catch (const maya::ShapeError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stiffness of shape [2, 20]"), std::string::npos) << message;
    EXPECT_NE(message.find("state of shape [3, 2, 9, 2]"), std::string::npos) << message;
  }
  worlds = maya::test::varied_worlds(lattice, 3, 1);
  worlds.state = Tensor::zeros({3, 2, 8, 2});
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), {}),
               maya::ShapeError);
}

TEST(SpringRolloutGradient, BlownUpWorldIsNamedAndLeavesOthersUntouched) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  auto worlds = maya::test::varied_worlds(lattice, 3, 2);
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = 30};
  const auto clean = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options);
  worlds.state.mutable_data()[2 * 2 * 9 * 2 + 20] = std::numeric_limits<double>::quiet_NaN();
  const auto dirty = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options);
  EXPECT_TRUE(std::isnan(dirty.loss.data()[2]));
  for (const std::size_t w : {std::size_t{0}, std::size_t{1}}) {
    EXPECT_EQ(relative_error(world_slice(dirty.stiffness, w), world_slice(clean.stiffness, w)),
              0.0);
    EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
  }
  auto checked = options;
  checked.finite_check = true;
  try {
    (void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds, maya::test::w2_loss_of(2),
                                                  checked);
    FAIL() << "expected NonFiniteError";
  } catch (const maya::NonFiniteError& error) {
    EXPECT_NE(std::string(error.what()).find("world 2 of 3"), std::string::npos) << error.what();
  }
}

// The loss on the tape for all worlds at once (each world rolled out twice) gives what the
// per-world host loss gives.
TEST(SpringRolloutGradient, WorldsLossOnTheTapeMatchesPerWorldLoss) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  const auto worlds = maya::test::varied_worlds(lattice, 4, 5);
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = 40};
  const auto host = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                            maya::test::w2_loss_of(2), options);
  const auto tape = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                            maya::test::w2_worlds_loss(), options);
  EXPECT_LT(relative_error(tape.loss, host.loss), 1e-14);
  EXPECT_EQ(relative_error(tape.final_state, host.final_state), 0.0);
  EXPECT_LT(relative_error(tape.state, host.state), 1e-14);
  EXPECT_LT(relative_error(tape.mass, host.mass), 1e-14);
  EXPECT_LT(relative_error(tape.stiffness, host.stiffness), 1e-14);
  EXPECT_LT(relative_error(tape.damping, host.damping), 1e-14);
  EXPECT_LT(relative_error(tape.rest_length, host.rest_length), 1e-14);
}

TEST(SpringRolloutGradient, WorldsLossOfWrongShapeThrowsShapeError) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  const auto worlds = maya::test::varied_worlds(lattice, 3, 5);
  const maya::dynamics::WorldsLoss total = [](maya::TensorTape&, maya::TensorVar x) {
    return sum(x);  // one number, not one per world
  };
  try {
    (void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds, total,
                                                  {.dt = 1e-3, .steps = 5});
    FAIL() << "expected ShapeError";
  } catch (const maya::ShapeError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("expected [3]"), std::string::npos) << message;
  }
}

TEST(SpringRolloutGradient, CudaWithoutAGpuThrowsDeviceError) {
  if (maya::dynamics::cuda_device_count() > 0) GTEST_SKIP() << "a GPU is present";
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  const auto worlds = maya::test::varied_worlds(lattice, 2, 1);
  maya::dynamics::SpringRolloutOptions options;
  options.device = maya::Device::kCuda;
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options),
               maya::DeviceError);
}

// The fused step itself on E worlds, on one tape, against E single-world tapes.
TEST(BatchedMassSpringStep, EqualsSingleWorldStepsInValuesAndGradients) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(4);
  const std::size_t e = 3;
  const auto worlds = maya::test::varied_worlds(lattice, e, 3);
  const double dt = 1e-3;
  const std::size_t steps = 80;
  maya::set_num_threads(2);
  TensorTape tape;
  TensorVar state = tape.var(worlds.state);
  const maya::dynamics::SpringParameters params{tape.var(worlds.mass), tape.var(worlds.stiffness),
                                                tape.var(worlds.damping),
                                                tape.var(worlds.rest_length)};
  const TensorVar initial = state;
  for (std::size_t t = 0; t < steps; ++t) state = lattice.model.step(state, params, dt);
  EXPECT_EQ(tape.view(state).shape.size(), 4U);
  // Sum of the worlds' W2 losses: each world's gradient is its own loss's.
  const std::size_t n = lattice.model.num_particles();
  std::vector<double> target;
  for (std::size_t i = 0; i < e * n; ++i) target.insert(target.end(), {1.0, 0.1});
  const TensorVar x = maya::select(state, 1, 0);  // [E, N, 2]
  const TensorVar diff = x - tape.constant(Tensor::from_data(target, {e, n, 2}));
  const TensorVar loss = maya::sum(maya::square(diff)) / static_cast<double>(n);
  maya::TensorGradients g = tape.grad(loss);
  maya::set_num_threads(1);
  const Tensor final_state = Tensor::from_view(tape.view(state));
  for (std::size_t w = 0; w < e; ++w) {
    const SingleWorld ref = single_world(lattice.model, worlds, w, dt, steps);
    EXPECT_EQ(relative_error(world_slice(final_state, w), ref.final_state), 0.0);
    EXPECT_LT(relative_error(world_slice(g[initial], w), ref.state), 1e-13);
    EXPECT_LT(relative_error(world_slice(g[params.stiffness], w), ref.stiffness), 1e-13);
    EXPECT_LT(relative_error(world_slice(g[params.mass], w), ref.mass), 1e-13);
    EXPECT_LT(relative_error(world_slice(g[params.damping], w), ref.damping), 1e-13);
    EXPECT_LT(relative_error(world_slice(g[params.rest_length], w), ref.rest), 1e-13);
  }
}

TEST(BatchedMassSpringStep, ParametersOfAnotherWorldCountThrowShapeErrorNamingBoth) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  const auto worlds = maya::test::varied_worlds(lattice, 4, 3);
  TensorTape tape;
  const TensorVar state = tape.var(worlds.state);
  const maya::dynamics::SpringParameters params{
      tape.var(worlds.mass), tape.var(Tensor::full({3, lattice.model.num_springs()}, 1000.0)),
      tape.var(worlds.damping), tape.var(worlds.rest_length)};
  try {
    (void)lattice.model.step(state, params, 1e-3);
    FAIL() << "expected ShapeError";
  } catch (const maya::ShapeError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stiffness of shape [3, 20]"), std::string::npos) << message;
    EXPECT_NE(message.find("state of shape [4, 2, 9, 2]"), std::string::npos) << message;
  }
  EXPECT_THROW(
      (void)lattice.model.step_composed(state,
                                        {tape.var(worlds.mass), tape.var(worlds.stiffness),
                                         tape.var(worlds.damping), tape.var(worlds.rest_length)},
                                        1e-3),
      maya::ShapeError);
}

TEST(BatchedMassSpringStep, FiniteCheckNamesTheWorldAndOtherWorldsStayExact) {
  const maya::dynamics::SpringLattice lattice = falling_lattice(3);
  auto worlds = maya::test::varied_worlds(lattice, 3, 4);
  worlds.state.mutable_data()[1 * 2 * 9 * 2 + 3] = std::numeric_limits<double>::infinity();
  {
    TensorTape tape;
    const maya::dynamics::SpringParameters params{tape.var(worlds.mass), tape.var(worlds.stiffness),
                                                  tape.var(worlds.damping),
                                                  tape.var(worlds.rest_length)};
    const TensorVar state = tape.constant(worlds.state);  // recorded before the check is on
    tape.set_finite_check(true);
    try {
      (void)lattice.model.step(state, params, 1e-3);
      FAIL() << "expected NonFiniteError";
    } catch (const maya::NonFiniteError& error) {
      EXPECT_NE(std::string(error.what()).find("world 1 of 3"), std::string::npos) << error.what();
    }
  }
  TensorTape tape;
  const maya::dynamics::SpringParameters params{tape.var(worlds.mass), tape.var(worlds.stiffness),
                                                tape.var(worlds.damping),
                                                tape.var(worlds.rest_length)};
  const TensorVar next = lattice.model.step(tape.constant(worlds.state), params, 1e-3);
  const Tensor batched = Tensor::from_view(tape.view(next));
  for (const std::size_t w : {std::size_t{0}, std::size_t{2}}) {
    TensorTape single;
    const maya::dynamics::SpringParameters p{
        single.var(world_slice(worlds.mass, w)), single.var(world_slice(worlds.stiffness, w)),
        single.var(world_slice(worlds.damping, w)), single.var(world_slice(worlds.rest_length, w))};
    const TensorVar ref = lattice.model.step(single.var(world_slice(worlds.state, w)), p, 1e-3);
    EXPECT_EQ(relative_error(world_slice(batched, w), Tensor::from_view(single.view(ref))), 0.0);
  }
}

}  // namespace
