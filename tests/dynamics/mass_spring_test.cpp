#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <maya/maya.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "support/kernel_copies.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::dynamics::MassSpringModel;
using maya::dynamics::SpringParameters;

// A small lattice that falls onto the ground during the rollout, with perturbed parameters so
// no two springs are alike.
maya::dynamics::SpringLattice small_lattice(bool ground = true, double gravity = -9.8) {
  maya::dynamics::LatticeOptions options;
  options.size = 3;
  options.spacing = 0.1;
  options.origin_y = -0.003;  // the bottom row starts in contact with the ground
  options.velocity_y = -0.5;
  options.gravity = gravity;
  options.ground.enabled = ground;
  return maya::dynamics::make_spring_lattice(options);
}

struct Inputs {
  Tensor state, mass, stiffness, damping, rest;
};

Inputs perturbed_inputs(const maya::dynamics::SpringLattice& lattice) {
  const std::size_t e = lattice.model.num_springs();
  Tensor velocities = lattice.velocities;
  const Tensor jitter = Tensor::uniform(velocities.shape(), -0.3, 0.3, 21);
  for (std::size_t i = 0; i < velocities.numel(); ++i)
    velocities.mutable_data()[i] += jitter.data()[i];
  Tensor rest = lattice.rest_length;
  const Tensor rest_jitter = Tensor::uniform({e}, 0.9, 1.1, 22);
  for (std::size_t i = 0; i < e; ++i) rest.mutable_data()[i] *= rest_jitter.data()[i];
  return {MassSpringModel::make_state(lattice.positions, velocities),
          Tensor::uniform({lattice.model.num_particles()}, 0.5, 1.5, 23),
          Tensor::uniform({e}, 800, 1200, 24), Tensor::uniform({e}, 2, 8, 25), rest};
}

// `springs` springs joining random pairs of `particles` particles in `dim` dimensions (many
// share a particle), with gravity and a ground along the last axis.
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
  maya::dynamics::GroundContact ground;
  ground.up_axis = dim - 1;
  ground.height = -0.2;
  return MassSpringModel(particles, dim, first, second, gravity, ground);
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
      Tensor::uniform(maya::Shape(state.shape().begin(), state.shape().end()), -1, 1, 9);
  return maya::sum(state * state * state.tape().constant(w));
}

// The fused step's kernels are compiled for baseline x86-64, x86-64-v3 and x86-64-v4: the tests
// of this fixture run once with each copy the CPU has.
class MassSpringKernels : public kernel_copies::EveryKernelCopy {};

}  // namespace

TEST(MassSpring, FusedStepEqualsComposedInValuesAndGradientsOver100Steps) {
  const auto lattice = small_lattice();
  const Inputs in = perturbed_inputs(lattice);
  Tensor final_state[2];
  Tensor gradients[2][5];
  for (const Path path : {Path::kFused, Path::kComposed}) {
    TensorTape t;
    const TensorVar x[] = {t.var(in.state), t.var(in.mass), t.var(in.stiffness), t.var(in.damping),
                           t.var(in.rest)};
    const TensorVar state = run(lattice.model, x, 100, 1e-3, path);
    const auto g = t.grad(loss_of(state));
    const int k = path == Path::kFused ? 0 : 1;
    final_state[k] = state.value();
    for (int i = 0; i < 5; ++i) gradients[k][i] = g[x[i]];
  }
  // The rollout touches the ground: both paths see the same contacts.
  EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(maya::allclose(gradients[0][i], gradients[1][i], 1e-12, 1e-12))
        << "input " << i << ": max difference "
        << maya::max_abs_difference(gradients[0][i], gradients[1][i]);
  }
}

// The fused kernels take springs four at a time with a scalar tail, and gather 2-D points in
// pairs: random spring graphs in one, two and three dimensions, 11 springs (two blocks and a
// tail of 3), particles shared by many springs, with and without a ground.
TEST_P(MassSpringKernels, FusedStepEqualsComposedForRandomGraphsInEveryDimension) {
  for (const std::size_t dim : {1u, 2u, 3u}) {
    constexpr std::size_t kParticles = 6;
    const MassSpringModel model = random_model(kParticles, 11, dim, 12345 + dim);
    const Tensor positions = Tensor::uniform({kParticles, dim}, -0.5, 0.5, 30 + dim);
    const Tensor velocities = Tensor::uniform({kParticles, dim}, -1.0, 1.0, 40 + dim);
    const Tensor inputs[] = {MassSpringModel::make_state(positions, velocities),
                             Tensor::uniform({kParticles}, 0.5, 1.5, 50),
                             Tensor::uniform({11}, 50, 150, 51), Tensor::uniform({11}, 0.5, 2, 52),
                             Tensor::uniform({11}, 0.3, 0.6, 53)};
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

// Large enough that the step splits its springs and particles across threads (kSpringGrain,
// kParticleGrain): every thread count gives the same values and gradients, bit for bit, because
// each particle's sum is made by one thread in spring order.
TEST_P(MassSpringKernels, FusedStepGivesTheSameBitsOnEveryThreadCount) {
  constexpr std::size_t kParticles = 2500;
  constexpr std::size_t kSprings = 7001;  // a scalar tail after the blocks of four
  for (const std::size_t dim : {1u, 2u, 3u}) {
    const MassSpringModel model = random_model(kParticles, kSprings, dim, 777 + dim);
    const Tensor inputs[] = {
        MassSpringModel::make_state(Tensor::uniform({kParticles, dim}, -0.5, 0.5, 60 + dim),
                                    Tensor::uniform({kParticles, dim}, -1.0, 1.0, 70 + dim)),
        Tensor::uniform({kParticles}, 0.5, 1.5, 80), Tensor::uniform({kSprings}, 50, 150, 81),
        Tensor::uniform({kSprings}, 0.5, 2, 82), Tensor::uniform({kSprings}, 0.3, 0.6, 83)};
    Tensor final_state[2];
    Tensor gradients[2][5];
    const std::size_t thread_counts[2] = {1, 3};
    for (int k = 0; k < 2; ++k) {
      maya::set_num_threads(thread_counts[k]);
      TensorTape t;
      TensorVar x[5];
      for (int i = 0; i < 5; ++i) x[i] = t.var(inputs[i]);
      const TensorVar state = run(model, x, 5, 1e-3, Path::kFused);
      const auto g = t.grad(loss_of(state));
      final_state[k] = state.value();
      for (int i = 0; i < 5; ++i) gradients[k][i] = g[x[i]];
    }
    maya::set_num_threads(1);
    EXPECT_EQ(maya::max_abs_difference(final_state[0], final_state[1]), 0.0) << "dim " << dim;
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(maya::max_abs_difference(gradients[0][i], gradients[1][i]), 0.0)
          << "dim " << dim << " input " << i;
    }
  }
}

// One tensor feeding several parameters (here damping and rest length, and stiffness and
// damping) must collect the sum of their gradients, in the fused path as in the composed one.
TEST(MassSpring, FusedStepSumsGradientsOfATensorUsedForSeveralParameters) {
  const auto lattice = small_lattice();
  const Inputs in = perturbed_inputs(lattice);
  for (const bool damping_is_rest : {true, false}) {
    Tensor gradients[2];
    for (const Path path : {Path::kFused, Path::kComposed}) {
      TensorTape t;
      const TensorVar shared = t.var(in.rest);
      const TensorVar x[] = {t.var(in.state), t.constant(in.mass),
                             damping_is_rest ? t.var(in.stiffness) : shared, shared, shared};
      const TensorVar state = run(lattice.model, x, 30, 1e-3, path);
      gradients[path == Path::kFused ? 0 : 1] = t.grad(loss_of(state))[shared];
    }
    EXPECT_TRUE(maya::allclose(gradients[0], gradients[1], 1e-12, 1e-12))
        << "max difference " << maya::max_abs_difference(gradients[0], gradients[1]);
  }
}

TEST_P(MassSpringKernels, FusedGradientMatchesCentralDifferences) {
  const auto lattice = small_lattice();
  const Inputs in = perturbed_inputs(lattice);
  // Stiffness (~1000 N/m) enters in units of 1000 N/m, so that the difference's step (1e-6)
  // moves it by 1e-3 N/m: a step of 1e-6 N/m would move the loss by ~1e-11, at its rounding noise.
  constexpr double kStiffnessUnit = 1000.0;
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

MAYA_INSTANTIATE_FOR_EVERY_KERNEL_COPY(MassSpringKernels);

// Every copy of the kernels the CPU has gives the baseline copy's rollout and gradients, to
// rounding (the v3 and v4 copies contract a * b + c into one FMA), in each dimension.
TEST(MassSpring, KernelCopiesAgreeWithEachOther) {
  for (const std::size_t dim : {1u, 2u, 3u}) {
    constexpr std::size_t kParticles = 7;
    const MassSpringModel model = random_model(kParticles, 13, dim, 4242 + dim);
    const Tensor inputs[] = {
        MassSpringModel::make_state(Tensor::uniform({kParticles, dim}, -0.5, 0.5, 90 + dim),
                                    Tensor::uniform({kParticles, dim}, -1.0, 1.0, 95 + dim)),
        Tensor::uniform({kParticles}, 0.5, 1.5, 91), Tensor::uniform({13}, 50, 150, 92),
        Tensor::uniform({13}, 0.5, 2, 93), Tensor::uniform({13}, 0.3, 0.6, 94)};
    const auto results = kernel_copies::results_by_copy([&] {
      TensorTape t;
      TensorVar x[5];
      for (int i = 0; i < 5; ++i) x[i] = t.var(inputs[i]);
      const TensorVar state = run(model, x, 100, 2e-3, Path::kFused);
      const auto g = t.grad(loss_of(state));
      std::vector<Tensor> out = {state.value()};
      for (int i = 0; i < 5; ++i) out.push_back(g[x[i]]);
      return out;
    });
    if (results.size() < 2) {
      GTEST_SKIP() << "this CPU (or this build) runs one copy of the kernels";
    }
    const std::vector<Tensor>& baseline = results.front().second;
    for (const auto& [copy, values] : results) {
      for (std::size_t i = 0; i < values.size(); ++i) {
        // Relative to each output's largest entry: rounding over 100 steps, not a 1e-9 drift.
        const double scale =
            maya::max_abs_difference(baseline[i], Tensor::zeros(baseline[i].shape()));
        EXPECT_LE(maya::max_abs_difference(values[i], baseline[i]), 1e-12 * scale)
            << maya::core::simd::kernel_copy_name(copy) << " dim " << dim << " output " << i;
      }
    }
  }
}

TEST(MassSpring, ConservesMomentumWithoutGroundOrGravity) {
  const auto lattice = small_lattice(false, 0.0);
  const Inputs in = perturbed_inputs(lattice);
  TensorTape t;
  const TensorVar mass = t.constant(in.mass);
  const SpringParameters params{mass, t.constant(in.stiffness), t.constant(in.damping),
                                t.constant(in.rest)};
  const auto momentum = [&](TensorVar state) {
    const auto values = state.view();
    const std::size_t n = lattice.model.num_particles();
    double total[2] = {0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < 2; ++k) total[k] += in.mass.data()[i] * values[2 * n + 2 * i + k];
    }
    return std::pair{total[0], total[1]};
  };
  TensorVar state = t.constant(in.state);
  const auto start = momentum(state);
  for (int i = 0; i < 500; ++i) state = lattice.model.step(state, params, 1e-3);
  const auto end = momentum(state);
  EXPECT_NEAR(end.first, start.first, 1e-11);
  EXPECT_NEAR(end.second, start.second, 1e-11);
}

TEST(MassSpring, GroundStopsAFallingLattice) {
  const auto lattice = small_lattice();
  TensorTape t;
  const SpringParameters params{t.constant(lattice.masses),
                                t.constant(Tensor::full({lattice.model.num_springs()}, 1000.0)),
                                t.constant(Tensor::full({lattice.model.num_springs()}, 5.0)),
                                t.constant(lattice.rest_length)};
  TensorVar state = t.constant(MassSpringModel::make_state(lattice.positions, lattice.velocities));
  for (int i = 0; i < 3000; ++i) state = lattice.model.step(state, params, 1e-3);
  const auto values = state.view();
  for (std::size_t i = 0; i < lattice.model.num_particles(); ++i) {
    // Penalty contact lets particles sink by about m g / k_ground = 1e-3 at most.
    EXPECT_GT(values[2 * i + 1], -5e-3);
  }
}

TEST(MassSpring, BadInputsAreNamed) {
  EXPECT_THROW(MassSpringModel(3, 2, {0, 1}, {1, 3}, {0.0, -9.8}), maya::ValueError);
  EXPECT_THROW(MassSpringModel(3, 2, {0, 1}, {1, 1}, {0.0, -9.8}), maya::ValueError);
  EXPECT_THROW(MassSpringModel(3, 2, {0}, {1}, {-9.8}), maya::ValueError);
  const auto lattice = small_lattice();
  TensorTape t;
  const std::size_t e = lattice.model.num_springs();
  const TensorVar state = t.var(MassSpringModel::make_state(lattice.positions, lattice.velocities));
  const SpringParameters good{t.var(lattice.masses), t.var(Tensor::full({e}, 1.0)),
                              t.var(Tensor::full({e}, 1.0)), t.var(lattice.rest_length)};
  EXPECT_THROW((void)lattice.model.step(state, good, 0.0), maya::ValueError);
  SpringParameters wrong = good;
  wrong.stiffness = t.var(Tensor::full({e + 1}, 1.0));
  EXPECT_THROW((void)lattice.model.step(state, wrong, 1e-3), maya::ShapeError);
  SpringParameters negative = good;
  negative.mass = t.var(Tensor::full({lattice.model.num_particles()}, -1.0));
  try {
    (void)lattice.model.step(state, negative, 1e-3);
    FAIL() << "expected ValueError";
  } catch (const maya::ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("mass"), std::string::npos);
  }
}

// The fused step's node holds the model: a model and its copy destroyed before grad() give the
// same gradient as ones still alive.
TEST(MassSpring, TapeKeepsTheModelAliveAfterTheModelIsGone) {
  const auto run_steps = [](bool drop_model) {
    auto model = std::make_unique<MassSpringModel>(random_model(5, 8, 2, 99));
    auto copy = std::make_unique<MassSpringModel>(*model);
    const Tensor positions = Tensor::uniform({5, 2}, -0.5, 0.5, 100);
    const Tensor velocities = Tensor::uniform({5, 2}, -1.0, 1.0, 101);
    TensorTape tape;
    const TensorVar start = tape.var(MassSpringModel::make_state(positions, velocities));
    const SpringParameters params{
        tape.var(Tensor::uniform({5}, 0.5, 1.5, 102)), tape.var(Tensor::uniform({8}, 50, 150, 103)),
        tape.var(Tensor::uniform({8}, 0.5, 2, 104)), tape.var(Tensor::uniform({8}, 0.3, 0.6, 105))};
    TensorVar state = start;
    for (int t = 0; t < 10; ++t) state = (t % 2 ? *copy : *model).step(state, params, 1e-3);
    const TensorVar loss = maya::sum(state * state);
    if (drop_model) {
      model.reset();
      copy.reset();
    }
    const auto g = tape.grad(loss);
    return std::vector<Tensor>{g[start], g[params.stiffness], g[params.mass]};
  };
  const std::vector<Tensor> alive = run_steps(false);
  const std::vector<Tensor> dropped = run_steps(true);
  for (std::size_t i = 0; i < alive.size(); ++i) {
    EXPECT_GT(maya::max_abs_difference(alive[i], Tensor::zeros(alive[i].shape())), 0.0) << i;
    EXPECT_EQ(maya::max_abs_difference(alive[i], dropped[i]), 0.0) << i;
  }
}

// topology_id names a model's particles and springs: the GPU rollout keeps a model's incidence
// lists on the device under it, so two models with other springs must never share one.
TEST(MassSpring, TopologyIdIsSharedByCopiesAndNewForEveryOtherModel) {
  const auto make = [](std::vector<std::int64_t> first, std::vector<std::int64_t> second) {
    return MassSpringModel(3, 2, std::move(first), std::move(second), {0.0, -9.8});
  };
  const MassSpringModel a = make({0, 1}, {1, 2});
  const MassSpringModel same_springs = make({0, 1}, {1, 2});
  const MassSpringModel other = make({0, 2}, {1, 1});
  EXPECT_NE(a.topology_id(), 0U);
  EXPECT_NE(a.topology_id(), same_springs.topology_id());  // built apart: ids differ
  EXPECT_NE(a.topology_id(), other.topology_id());
  MassSpringModel copy = a;
  EXPECT_EQ(copy.topology_id(), a.topology_id());
  // Assigning another model takes its springs and its id.
  copy = other;
  EXPECT_EQ(copy.topology_id(), other.topology_id());
  EXPECT_EQ(copy.end_a(), other.end_a());
  // A move hands the id on with the springs; the model moved from gets an id of its own.
  MassSpringModel source = a;
  const std::uint64_t id = source.topology_id();
  MassSpringModel moved = std::move(source);
  EXPECT_EQ(moved.topology_id(), id);
  EXPECT_NE(source.topology_id(), id);  // NOLINT(bugprone-use-after-move): what the test is for
  EXPECT_NE(source.topology_id(), 0U);  // NOLINT(bugprone-use-after-move)
  MassSpringModel target = other;
  target = std::move(moved);
  EXPECT_EQ(target.topology_id(), id);
  EXPECT_EQ(target.end_a(), a.end_a());
  EXPECT_NE(moved.topology_id(), id);  // NOLINT(bugprone-use-after-move)
}
