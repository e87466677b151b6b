// soft_rollout_gradient on the CPU: every world against a single-world rollout of step_explicit
// on a tape of its own (triangles and tetrahedra, every energy), gradients against central
// differences, shape errors naming both sides, and a world that blows up named by its index.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <maya/fem/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fem/fem_support.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::fem::SoftRolloutGradients;
using maya::fem::SoftRolloutOptions;
using maya::fem::SoftWorlds;

double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < b.numel(); ++i) {
    diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
    norm += b.data()[i] * b.data()[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

Tensor slice(const Tensor& t, std::size_t w, maya::Shape shape) {
  std::size_t size = 1;
  for (const std::size_t d : shape) size *= d;
  const auto values = t.data().subspan(w * size, size);
  return Tensor::from_data(std::vector<double>(values.begin(), values.end()), std::move(shape));
}

// Weighs every component of the final state, velocities too.
double weighted_loss(std::size_t world, std::span<const double> x, std::span<double> adjoint) {
  double loss = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double weight = 0.5 + 0.1 * static_cast<double>((i * 7 + world) % 11);
    loss += weight * x[i] * x[i];
    adjoint[i] = 2.0 * weight * x[i];
  }
  return loss;
}

struct Batch {
  maya::fem::SoftBody body;
  SoftWorlds worlds;
};

// A small mesh dropped onto a frictional ground, per-element mu in world-varied parameters, an
// actuation, and per-world states.
Batch make_batch(std::size_t dim, maya::fem::Energy energy, std::size_t worlds) {
  const maya::fem::Mesh mesh = fem_test::small_mesh(dim);
  maya::fem::SoftBodyOptions options;
  options.energy = energy;
  options.ground = {.enabled = true,
                    .height = 0.02,
                    .up_axis = 1,
                    .stiffness = 1e4,
                    .damping = 5.0,
                    .friction = 0.4};
  maya::fem::SoftBody body(mesh, options);
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  Tensor state = body.rest_state();
  for (std::size_t i = 0; i < n; ++i) state.mutable_data()[n * dim + i * dim] = 0.3;  // vx
  SoftWorlds batch =
      maya::fem::replicate_world(body, state, mesh.rest_positions(), 2e4, 0.3, 1000.0, worlds);
  // Per-element mu, and an actuation per element.
  const double mu = batch.mu.data()[0];
  batch.mu = Tensor::zeros({worlds, m});
  batch.actuation = Tensor::zeros({worlds, m});
  for (std::size_t w = 0; w < worlds; ++w) {
    const double f = static_cast<double>(w) / static_cast<double>(worlds);
    for (std::size_t e = 0; e < m; ++e) {
      const double u = std::sin(1.3 * static_cast<double>(e) + 2.9 * f);
      batch.mu.mutable_data()[w * m + e] = mu * (1.0 + 0.2 * u);
      batch.actuation.mutable_data()[w * m + e] = 50.0 * u;
    }
    batch.lambda.mutable_data()[w] *= 1.0 + 0.5 * f;
    auto s = batch.state.mutable_data().subspan(w * 2 * n * dim, 2 * n * dim);
    for (std::size_t i = 0; i < n; ++i) s[i * dim + 1] -= 0.03 * f;  // some worlds start lower
    for (std::size_t i = 0; i < n; ++i) {
      batch.mass.mutable_data()[w * n + i] *= 1.0 + 0.1 * std::cos(static_cast<double>(i) + f);
    }
  }
  return {std::move(body), std::move(batch)};
}

struct Single {
  double loss;
  Tensor final_state;
  std::vector<Tensor> gradients;  // state, inverse_edges, volumes, mu, lambda, mass, actuation
};

Single single_world(const maya::fem::SoftBody& body, const SoftWorlds& worlds, std::size_t w,
                    const SoftRolloutOptions& options) {
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  const std::size_t d = body.dim();
  TensorTape tape;
  const std::size_t pm = worlds.mu.shape()[1];
  const std::size_t pl = worlds.lambda.shape()[1];
  const std::size_t pa = worlds.actuation.shape()[1];
  std::vector<TensorVar> x = {tape.var(slice(worlds.state, w, {2, n, d})),
                              tape.var(slice(worlds.inverse_edges, w, {m, d, d})),
                              tape.var(slice(worlds.volumes, w, {m})),
                              tape.var(slice(worlds.mu, w, {pm})),
                              tape.var(slice(worlds.lambda, w, {pl})),
                              tape.var(slice(worlds.mass, w, {n})),
                              tape.var(slice(worlds.actuation, w, {pa}))};
  maya::fem::BodyParameters params;
  params.rest = {x[1], x[2]};
  params.lame = {x[3], x[4]};
  params.mass = x[5];
  params.actuation = x[6];
  TensorVar state = x[0];
  for (std::size_t t = 0; t < options.steps; ++t) {
    state = maya::fem::step_explicit(body, state, params, options.dt);
  }
  // The same loss from tensor ops.
  std::vector<double> weights(2 * n * d);
  for (std::size_t i = 0; i < weights.size(); ++i) {
    weights[i] = 0.5 + 0.1 * static_cast<double>((i * 7 + w) % 11);
  }
  const TensorVar loss =
      maya::sum(state * state * tape.constant(Tensor::from_data(std::move(weights), {2, n, d})));
  const maya::TensorGradients g = tape.grad(loss);
  Single out{loss.item(), state.value(), {}};
  for (const TensorVar var : x) out.gradients.push_back(g[var]);
  return out;
}

class SoftRolloutEveryBody
    : public ::testing::TestWithParam<std::tuple<std::size_t, maya::fem::Energy>> {};

TEST_P(SoftRolloutEveryBody, EveryWorldMatchesItsSingleWorldRollout) {
  const auto [dim, energy] = GetParam();
  const Batch batch = make_batch(dim, energy, 3);
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 40};
  const SoftRolloutGradients out =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const std::vector<const Tensor*> batched = {&out.state,    &out.inverse_edges, &out.volumes,
                                              &out.mu,       &out.lambda,        &out.mass,
                                              &out.actuation};
  for (std::size_t w = 0; w < 3; ++w) {
    SCOPED_TRACE("world " + std::to_string(w));
    const Single single = single_world(batch.body, batch.worlds, w, options);
    EXPECT_NEAR(out.loss.data()[w], single.loss, 1e-12 * std::abs(single.loss));
    EXPECT_LE(
        relative_error(slice(out.final_state, w, single.final_state.shape()), single.final_state),
        1e-14);
    for (std::size_t i = 0; i < batched.size(); ++i) {
      const Tensor& expected = single.gradients[i];
      EXPECT_LE(relative_error(slice(*batched[i], w, expected.shape()), expected), 1e-12)
          << "gradient " << i;
    }
  }
  EXPECT_GT(std::abs(out.loss.data()[0] - out.loss.data()[2]), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(TrianglesAndTetrahedra, SoftRolloutEveryBody,
                         ::testing::Combine(::testing::Values(std::size_t{2}, std::size_t{3}),
                                            ::testing::ValuesIn(fem_test::kEnergies)));

TEST(SoftRolloutGradient, MatchesCentralDifferences) {
  const Batch batch = make_batch(2, maya::fem::Energy::kStableNeoHookean, 2);
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 40};
  const SoftRolloutGradients out =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const std::size_t w = 1;
  const auto loss_of = [&](const SoftWorlds& worlds) {
    return maya::fem::soft_rollout_gradient(batch.body, worlds, weighted_loss, options)
        .loss.data()[w];
  };
  struct Probe {
    Tensor SoftWorlds::*field;
    const Tensor* gradient;
    std::size_t index;
    double step;
  };
  const std::size_t n = batch.body.num_vertices();
  const std::size_t m = batch.body.num_elements();
  std::vector<Probe> probes;
  for (const std::size_t i : {std::size_t{0}, std::size_t{5}, 2 * n + 3, 4 * n - 1}) {
    probes.push_back({&SoftWorlds::state, &out.state, w * 4 * n + i, 1e-7});
  }
  probes.push_back({&SoftWorlds::inverse_edges, &out.inverse_edges, w * 4 * m + 6, 1e-5});
  probes.push_back({&SoftWorlds::volumes, &out.volumes, w * m + 3, 1e-8});
  probes.push_back({&SoftWorlds::mu, &out.mu, w * m + 2, 1.0});
  probes.push_back({&SoftWorlds::lambda, &out.lambda, w, 1.0});
  probes.push_back({&SoftWorlds::mass, &out.mass, w * n + 4, 1e-6});
  probes.push_back({&SoftWorlds::actuation, &out.actuation, w * m + 7, 1e-3});
  for (const Probe& p : probes) {
    SoftWorlds plus = batch.worlds;
    SoftWorlds minus = batch.worlds;
    (plus.*p.field).mutable_data()[p.index] += p.step;
    (minus.*p.field).mutable_data()[p.index] -= p.step;
    const double numeric = (loss_of(plus) - loss_of(minus)) / (2.0 * p.step);
    const double analytic = p.gradient->data()[p.index];
    EXPECT_NEAR(analytic, numeric, 1e-5 * std::max(std::abs(numeric), 1e-3)) << "entry " << p.index;
  }
}

TEST(SoftRolloutGradient, ParameterBatchOfAnotherSizeIsAShapeErrorNamingBoth) {
  Batch batch = make_batch(2, maya::fem::Energy::kLinear, 3);
  batch.worlds.lambda = Tensor::full({2, 1}, 1e4);
  try {
    (void)maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, {});
    FAIL() << "no error";
  } catch (const maya::ShapeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("lambda of shape [2, 1]"), std::string::npos) << message;
    EXPECT_NE(message.find("state of shape [3, 2, 12, 2]"), std::string::npos) << message;
  }
}

TEST(SoftRolloutGradient, WorldsOfAnotherTopologyAreAShapeError) {
  Batch batch = make_batch(2, maya::fem::Energy::kLinear, 3);
  batch.worlds.volumes = Tensor::full({3, 5}, 1e-3);
  EXPECT_THROW((void)maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, {}),
               maya::ShapeError);
  batch = make_batch(2, maya::fem::Energy::kLinear, 3);
  batch.worlds.state = Tensor::zeros({3, 2, 12, 3});  // 3-D states for a 2-D mesh
  EXPECT_THROW((void)maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, {}),
               maya::ShapeError);
}

TEST(SoftRolloutGradient, ABlownUpWorldIsNamedAndLeavesTheOthersAlone) {
  Batch batch = make_batch(3, maya::fem::Energy::kCorotational, 4);
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 10};
  const SoftRolloutGradients clean =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  batch.worlds.state.mutable_data()[2 * 72 + 40] = std::numeric_limits<double>::quiet_NaN();
  const SoftRolloutGradients dirty =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  EXPECT_TRUE(std::isnan(dirty.loss.data()[2]));
  for (const std::size_t w : {0, 1, 3}) EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
  try {
    (void)maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss,
                                           {.dt = 1e-3, .steps = 10, .finite_check = true});
    FAIL() << "no error";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("world 2 of 4"), std::string::npos) << e.what();
  }
}

// (tests/gpu compares the GPU rollout with the CPU's where a GPU is present.)
TEST(SoftRolloutGradient, CudaWithoutAGpuIsADeviceError) {
  if (maya::dynamics::cuda_device_count() > 0) GTEST_SKIP() << "a CUDA GPU is present";
  const Batch batch = make_batch(2, maya::fem::Energy::kLinear, 2);
  EXPECT_THROW((void)maya::fem::soft_rollout_gradient(
                   batch.body, batch.worlds, weighted_loss,
                   {.dt = 1e-3, .steps = 5, .device = maya::Device::kCuda}),
               maya::DeviceError);
}

// The losses of every world on the tape (WorldsLoss): on the CPU each world is rolled out for its
// final state, then again with the tape's adjoint; the results match the per-world host loss.
TEST(SoftRolloutGradient, TapeLossOfAllWorldsMatchesThePerWorldLoss) {
  const Batch batch = make_batch(3, maya::fem::Energy::kCorotational, 3);
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 40};
  const SoftRolloutGradients per_world =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const maya::fem::WorldsLoss on_tape = [](TensorTape& tape, TensorVar x) {
    const std::size_t e = x.shape()[0];
    const std::size_t size = x.numel() / e;
    std::vector<double> weights(e * size);
    for (std::size_t w = 0; w < e; ++w) {
      for (std::size_t i = 0; i < size; ++i) {
        weights[w * size + i] = 0.5 + 0.1 * static_cast<double>((i * 7 + w) % 11);
      }
    }
    const TensorVar flat = maya::reshape(x, {e, size});
    return maya::sum(flat * flat * tape.constant(Tensor::from_data(weights, {e, size})), 1);
  };
  const SoftRolloutGradients all =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, on_tape, options);
  EXPECT_LE(relative_error(all.loss, per_world.loss), 1e-14);
  EXPECT_EQ(relative_error(all.final_state, per_world.final_state), 0.0);
  for (const auto& [a, b] :
       {std::pair{&all.state, &per_world.state},
        std::pair{&all.inverse_edges, &per_world.inverse_edges}, std::pair{&all.mu, &per_world.mu},
        std::pair{&all.mass, &per_world.mass}, std::pair{&all.actuation, &per_world.actuation}}) {
    EXPECT_LE(relative_error(*a, *b), 1e-13);
  }
  const maya::fem::WorldsLoss one_loss = [](TensorTape&, TensorVar x) { return maya::sum(x); };
  EXPECT_THROW((void)maya::fem::soft_rollout_gradient(batch.body, batch.worlds, one_loss, options),
               maya::ShapeError);
}

// Results written into the tensors of an earlier call's results: the same values as a fresh
// call, whatever the earlier call held; tensors of other shapes are replaced.
TEST(SoftRolloutGradient, ResultsIntoEarlierResultsMatchAFreshCall) {
  const Batch small = make_batch(2, maya::fem::Energy::kStableNeoHookean, 2);
  const Batch batch = make_batch(2, maya::fem::Energy::kStableNeoHookean, 3);
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 30};
  const SoftRolloutGradients fresh =
      maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  SoftRolloutGradients out;
  maya::fem::soft_rollout_gradient(small.body, small.worlds, weighted_loss, options, out);
  ASSERT_EQ(out.state.shape()[0], 2u);
  for (int round = 0; round < 2; ++round) {
    maya::fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options, out);
    for (const auto& [a, b] :
         {std::pair{&out.loss, &fresh.loss}, std::pair{&out.final_state, &fresh.final_state},
          std::pair{&out.state, &fresh.state}, std::pair{&out.inverse_edges, &fresh.inverse_edges},
          std::pair{&out.volumes, &fresh.volumes}, std::pair{&out.mu, &fresh.mu},
          std::pair{&out.lambda, &fresh.lambda}, std::pair{&out.mass, &fresh.mass},
          std::pair{&out.actuation, &fresh.actuation}}) {
      ASSERT_EQ(a->shape(), b->shape());
      EXPECT_EQ(relative_error(*a, *b), 0.0) << "round " << round;
    }
  }
}

}  // namespace
