// The mass-spring ground's smoothed Coulomb friction: the fused step against its composed twin
// and central differences, and the closed forms of a block sliding and creeping on the ground.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <maya/maya.hpp>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::dynamics::GroundContact;
using maya::dynamics::MassSpringModel;
using maya::dynamics::SpringParameters;

// A lattice thrown sideways and down onto a ground with friction: it lands, slides and stops
// sliding within the rollouts below, so contact and slip both switch.
maya::dynamics::SpringLattice sliding_lattice(double friction) {
  maya::dynamics::LatticeOptions options;
  options.size = 3;
  options.spacing = 0.1;
  options.origin_y = -0.002;
  options.velocity_x = 0.6;
  options.velocity_y = -0.3;
  options.ground.friction = friction;
  options.ground.slip_velocity = 0.05;
  return maya::dynamics::make_spring_lattice(options);
}

struct Inputs {
  Tensor state, mass, stiffness, damping, rest;
};

Inputs inputs_of(const maya::dynamics::SpringLattice& lattice) {
  const std::size_t e = lattice.model.num_springs();
  Tensor velocities = lattice.velocities;
  const Tensor jitter = Tensor::uniform(velocities.shape(), -0.2, 0.2, 31);
  for (std::size_t i = 0; i < velocities.numel(); ++i)
    velocities.mutable_data()[i] += jitter.data()[i];
  return {MassSpringModel::make_state(lattice.positions, velocities),
          Tensor::uniform({lattice.model.num_particles()}, 0.5, 1.5, 32),
          Tensor::uniform({e}, 800, 1200, 33), Tensor::uniform({e}, 2, 8, 34), lattice.rest_length};
}

enum class Path { kFused, kComposed };

TensorVar run(const MassSpringModel& model, std::span<const TensorVar> x, int steps, double dt,
              Path path) {
  const SpringParameters params{x[1], x[2], x[3], x[4]};
  TensorVar state = x[0];
  for (int i = 0; i < steps; ++i) {
    state = path == Path::kFused ? model.step(state, params, dt)
                                 : model.step_composed(state, params, dt);
  }
  return state;
}

TensorVar loss_of(TensorVar state) {
  const Tensor w =
      Tensor::uniform(maya::Shape(state.shape().begin(), state.shape().end()), -1, 1, 19);
  return maya::sum(state * state * state.tape().constant(w));
}

// `springs` random springs among `particles` particles in `dim` dimensions over a frictional
// ground along the last axis, some particles below it.
MassSpringModel random_model(std::size_t particles, std::size_t springs, std::size_t dim,
                             std::uint64_t seed) {
  std::vector<std::int64_t> first, second;
  const auto next = [&seed, particles] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::int64_t>((seed >> 33) % particles);
  };
  while (first.size() < springs) {
    const std::int64_t a = next(), b = next();
    if (a == b) continue;
    first.push_back(a);
    second.push_back(b);
  }
  std::vector<double> gravity(dim, 0.0);
  gravity[dim - 1] = -9.8;
  GroundContact ground;
  ground.up_axis = dim - 1;
  ground.height = -0.1;
  ground.friction = 0.7;
  ground.slip_velocity = 0.1;
  return MassSpringModel(particles, dim, first, second, gravity, ground);
}

// Two particles of mass m joined by one horizontal spring, resting on the ground (sunk by their
// weight's penalty m g_n / k so that they neither bounce nor lift), sliding at `speed` along x.
struct Block {
  MassSpringModel model;
  Tensor state;
};

Block resting_block(double friction, double slip_velocity, std::vector<double> gravity,
                    double speed) {
  GroundContact ground;
  ground.stiffness = 1e4;
  ground.damping = 20.0;
  ground.friction = friction;
  ground.slip_velocity = slip_velocity;
  const double sink = -gravity[1] / ground.stiffness;  // m = 1
  MassSpringModel model(2, 2, {0}, {1}, std::move(gravity), ground);
  const Tensor positions = Tensor::from_data({0.0, -sink, 0.2, -sink}, {2, 2});
  const Tensor velocities = Tensor::from_data({speed, 0.0, speed, 0.0}, {2, 2});
  return {std::move(model), MassSpringModel::make_state(positions, velocities)};
}

// Rolls the block `steps` steps and returns the first particle's x velocity.
double slide(const Block& block, int steps, double dt) {
  TensorTape t;
  const SpringParameters params{
      t.constant(Tensor::full({2}, 1.0)), t.constant(Tensor::full({1}, 1000.0)),
      t.constant(Tensor::full({1}, 5.0)), t.constant(Tensor::full({1}, 0.2))};
  TensorVar state = t.constant(block.state);
  for (int i = 0; i < steps; ++i) state = block.model.step(state, params, dt);
  return state.view()[4];
}

}  // namespace

TEST(GroundFriction, FusedStepEqualsComposedInValuesAndGradients) {
  const auto lattice = sliding_lattice(0.8);
  const Inputs in = inputs_of(lattice);
  Tensor final_state[2];
  Tensor gradients[2][5];
  for (const Path path : {Path::kFused, Path::kComposed}) {
    TensorTape t;
    const TensorVar x[] = {t.var(in.state), t.var(in.mass), t.var(in.stiffness), t.var(in.damping),
                           t.var(in.rest)};
    const TensorVar state = run(lattice.model, x, 150, 1e-3, path);
    const auto g = t.grad(loss_of(state));
    const int k = path == Path::kFused ? 0 : 1;
    final_state[k] = state.value();
    for (int i = 0; i < 5; ++i) gradients[k][i] = g[x[i]];
  }
  EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(maya::allclose(gradients[0][i], gradients[1][i], 1e-11, 1e-12))
        << "input " << i << ": max difference "
        << maya::max_abs_difference(gradients[0][i], gradients[1][i]);
  }
}

// In 1-D friction has no tangent axis; in 3-D two (the slip is a 2-vector).
TEST(GroundFriction, FusedStepEqualsComposedForRandomGraphsInEveryDimension) {
  for (const std::size_t dim : {1u, 2u, 3u}) {
    constexpr std::size_t kParticles = 6;
    const MassSpringModel model = random_model(kParticles, 11, dim, 999 + dim);
    const Tensor inputs[] = {
        MassSpringModel::make_state(Tensor::uniform({kParticles, dim}, -0.3, 0.3, 60 + dim),
                                    Tensor::uniform({kParticles, dim}, -1.0, 1.0, 70 + dim)),
        Tensor::uniform({kParticles}, 0.5, 1.5, 80), Tensor::uniform({11}, 50, 150, 81),
        Tensor::uniform({11}, 0.5, 2, 82), Tensor::uniform({11}, 0.3, 0.6, 83)};
    Tensor final_state[2];
    Tensor gradients[2][5];
    for (const Path path : {Path::kFused, Path::kComposed}) {
      TensorTape t;
      TensorVar x[5];
      for (int i = 0; i < 5; ++i) x[i] = t.var(inputs[i]);
      const TensorVar state = run(model, x, 200, 2e-3, path);
      const auto g = t.grad(loss_of(state));
      const int k = path == Path::kFused ? 0 : 1;
      final_state[k] = state.value();
      for (int i = 0; i < 5; ++i) gradients[k][i] = g[x[i]];
    }
    EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14)) << "dim " << dim;
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(maya::allclose(gradients[0][i], gradients[1][i], 1e-11, 1e-12))
          << "dim " << dim << " input " << i << ": max difference "
          << maya::max_abs_difference(gradients[0][i], gradients[1][i]);
    }
  }
}

TEST(GroundFriction, FusedGradientMatchesCentralDifferences) {
  const auto lattice = sliding_lattice(0.8);
  const Inputs in = inputs_of(lattice);
  constexpr double kStiffnessUnit = 1000.0;  // as in mass_spring_test: a step the loss can see
  Tensor stiffness = in.stiffness;
  for (double& k : stiffness.mutable_data()) k /= kStiffnessUnit;
  const Tensor inputs[] = {in.state, in.mass, stiffness, in.damping, in.rest};
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar scaled[] = {x[0], x[1], x[2] * kStiffnessUnit, x[3], x[4]};
        return loss_of(run(lattice.model, scaled, 20, 1e-3, Path::kFused));
      },
      inputs);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_LT(report.worst_error[i], 1e-6) << "input " << i;
}

// A block sliding on the ground decelerates at mu g (while its speed is far above the
// smoothing): v(t) = v0 - mu g t, exact for semi-implicit Euler under a constant force. Explicit
// steps resolve the smoothed law near rest when dt mu g / eps < 2 (here 0.49).
TEST(GroundFriction, SlidingBlockDeceleratesAtMuGAndStops) {
  constexpr double kMu = 0.5, kG = 9.8, kSpeed = 2.0, kEps = 1e-2, kDt = 1e-3;
  const Block block = resting_block(kMu, kEps, {0.0, -kG}, kSpeed);
  const int steps = 200;
  const double expected = kSpeed - kMu * kG * steps * kDt;  // 1.02 m/s
  EXPECT_NEAR(slide(block, steps, kDt), expected, 1e-4 * kSpeed);
  // It stops after v0 / (mu g) = 0.41 s and then stays at rest, to the smoothing.
  EXPECT_LT(std::abs(slide(block, 800, kDt)), 1e-6);
}

// On a slope gentler than the friction angle (tan(theta) < mu), Coulomb's block sticks; the
// smoothed law lets it creep at the speed where friction balances the slope:
// mu N v / sqrt(v^2 + eps^2) = m g sin(theta), so v = eps r / sqrt(1 - r^2), r = tan(theta) / mu.
// Beyond the friction angle it slides with acceleration g (sin(theta) - mu cos(theta)).
TEST(GroundFriction, BlockOnASlopeCreepsWithinTheSmoothingOrSlides) {
  constexpr double kMu = 0.6, kG = 9.8, kEps = 1e-2, kDt = 1e-3;
  for (const double theta : {0.2, 0.4}) {  // tan 0.2 = 0.20 < mu; tan 0.4 = 0.42 < mu
    const Block block =
        resting_block(kMu, kEps, {kG * std::sin(theta), -kG * std::cos(theta)}, 0.0);
    const double r = std::tan(theta) / kMu;
    const double creep = kEps * r / std::sqrt(1.0 - r * r);
    EXPECT_NEAR(slide(block, 1000, kDt), creep, 1e-6 * creep) << "theta " << theta;
    EXPECT_LT(creep, kEps);
  }
  const double theta = 1.0;  // tan 1.0 = 1.56 > mu
  constexpr double kSpeed = 1.0;
  const Block block =
      resting_block(kMu, kEps, {kG * std::sin(theta), -kG * std::cos(theta)}, kSpeed);
  const double t = 0.5;
  const double expected = kSpeed + kG * (std::sin(theta) - kMu * std::cos(theta)) * t;
  EXPECT_NEAR(slide(block, 500, kDt), expected, 1e-4 * expected);
}

TEST(GroundFriction, BadFrictionIsNamed) {
  GroundContact ground;
  ground.friction = -0.1;
  EXPECT_THROW(MassSpringModel(2, 2, {0}, {1}, {0.0, -9.8}, ground), maya::ValueError);
  ground.friction = 0.5;
  ground.slip_velocity = 0.0;
  EXPECT_THROW(MassSpringModel(2, 2, {0}, {1}, {0.0, -9.8}, ground), maya::ValueError);
}

// The CPU batched rollout (the same kernels, each world on its own) agrees with stepping the
// worlds on the tape: friction reaches spring_rollout_gradient too.
TEST(GroundFriction, BatchedRolloutMatchesTheTape) {
  const auto lattice = sliding_lattice(0.8);
  constexpr std::size_t kWorlds = 3;
  constexpr std::size_t kSteps = 80;
  constexpr double kDt = 1e-3;
  const Inputs in = inputs_of(lattice);
  auto worlds = maya::dynamics::replicate_world(in.state, in.mass, in.stiffness, in.damping,
                                                in.rest, kWorlds);
  const Tensor jitter = Tensor::uniform(worlds.stiffness.shape(), 0.9, 1.1, 41);
  for (std::size_t i = 0; i < worlds.stiffness.numel(); ++i)
    worlds.stiffness.mutable_data()[i] *= jitter.data()[i];
  // loss_w = |final state|^2 / 2, so d loss / d final state = final state.
  const auto loss = [](std::size_t, std::span<const double> final_state,
                       std::span<double> adjoint) {
    double total = 0.0;
    for (std::size_t j = 0; j < final_state.size(); ++j) {
      adjoint[j] = final_state[j];
      total += 0.5 * final_state[j] * final_state[j];
    }
    return total;
  };
  const auto rollout = maya::dynamics::spring_rollout_gradient(lattice.model, worlds, loss,
                                                               {.dt = kDt, .steps = kSteps});
  TensorTape t;
  const TensorVar x[] = {t.var(worlds.state), t.var(worlds.mass), t.var(worlds.stiffness),
                         t.var(worlds.damping), t.var(worlds.rest_length)};
  const TensorVar state = run(lattice.model, x, kSteps, kDt, Path::kFused);
  const auto g = t.grad(0.5 * maya::sum(state * state));
  EXPECT_TRUE(maya::allclose(rollout.final_state, state.value(), 1e-12, 1e-14));
  const Tensor* expected[] = {&rollout.state, &rollout.mass, &rollout.stiffness, &rollout.damping,
                              &rollout.rest_length};
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(maya::allclose(*expected[i], g[x[i]], 1e-10, 1e-12))
        << "input " << i << ": max difference " << maya::max_abs_difference(*expected[i], g[x[i]]);
  }
}
