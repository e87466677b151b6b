// The CUDA soft-body rollout kernels against the CPU fused step (soft_rollout_gradient on both
// devices): the loss, the final state and every gradient (initial state, rest shape, volumes,
// Lame parameters, masses, actuation) to 1e-10 relative, or to the rollout's own conditioning
// where that is worse; for triangles and tetrahedra and every material, per-element and global
// parameters, pinned vertices, ground contact with damping and friction, many worlds, and a mesh
// whose scratch does not fit in shared memory. Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <maya/fem/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fem/fem_support.hpp"

namespace {

namespace fem = maya::fem;
using fem::SoftRolloutGradients;
using fem::SoftRolloutOptions;
using fem::SoftWorlds;
using maya::Tensor;

#define MAYA_REQUIRE_GPU()                                                               \
  if (maya::dynamics::cuda_device_count() == 0) {                                        \
    GTEST_SKIP() << "no CUDA GPU here (or maya built without CUDA): nothing to compare"; \
  }

// ||a - b|| / ||b|| (absolute where b is zero).
double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < b.numel(); ++i) {
    const double d = a.data()[i] - b.data()[i];
    diff += std::isnan(d) ? std::numeric_limits<double>::infinity() : d * d;
    norm += b.data()[i] * b.data()[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
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
  fem::SoftBody body;
  SoftWorlds worlds;
};

struct Scene {
  bool per_element = true;  // mu and actuation [E, M]; else [E, 1] (lambda is always [E, 1])
  bool actuated = true;
  bool pinned = true;
  double friction = 0.4;
};

// A mesh dropped onto a frictional ground, moving sideways; world-varied parameters and states.
Batch make_batch(const fem::Mesh& mesh, fem::Energy energy, std::size_t worlds, Scene scene) {
  const std::size_t dim = mesh.dim();
  fem::SoftBodyOptions options;
  options.energy = energy;
  options.ground = {.enabled = true,
                    .height = 0.02,
                    .up_axis = 1,
                    .stiffness = 1e4,
                    .damping = 5.0,
                    .friction = scene.friction};
  if (scene.pinned) options.pinned = {0};
  if (dim == 3) options.fiber = {0.6, 0.0, 0.8};
  fem::SoftBody body(mesh, options);
  const std::size_t n = body.num_vertices();
  const std::size_t m = body.num_elements();
  Tensor state = body.rest_state();
  for (std::size_t i = 0; i < n; ++i) state.mutable_data()[n * dim + i * dim] = 0.3;  // v_x
  SoftWorlds batch =
      fem::replicate_world(body, state, mesh.rest_positions(), 2e4, 0.3, 1000.0, worlds);
  const double mu = batch.mu.data()[0];
  const std::size_t p = scene.per_element ? m : 1;
  batch.mu = Tensor::zeros({worlds, p});
  if (scene.actuated) batch.actuation = Tensor::zeros({worlds, p});
  for (std::size_t w = 0; w < worlds; ++w) {
    const double f = static_cast<double>(w) / static_cast<double>(worlds);
    for (std::size_t e = 0; e < p; ++e) {
      const double u = std::sin(1.3 * static_cast<double>(e) + 2.9 * f);
      batch.mu.mutable_data()[w * p + e] = mu * (1.0 + 0.2 * u);
      if (scene.actuated) batch.actuation.mutable_data()[w * p + e] = 50.0 * u;
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

// The worlds with every initial state entry moved by a few units in the last place.
SoftWorlds nudged(const SoftWorlds& worlds) {
  SoftWorlds out = worlds;
  std::size_t i = 0;
  for (double& x : out.state.mutable_data()) {
    x *= 1.0 + 1e-15 * static_cast<double>(static_cast<int>((7 * i++) % 5) - 2);
  }
  return out;
}

std::vector<std::pair<const char*, const Tensor*>> outputs(const SoftRolloutGradients& r) {
  return {{"loss", &r.loss},          {"final state", &r.final_state},
          {"state", &r.state},        {"inverse edges", &r.inverse_edges},
          {"volumes", &r.volumes},    {"mu", &r.mu},
          {"lambda", &r.lambda},      {"mass", &r.mass},
          {"actuation", &r.actuation}};
}

// Every output of the GPU rollout against the CPU's, to `tolerance` relative, or to 10 times
// what the CPU's own result moves when the initial state moves by a few units in the last place
// (contacts with friction amplify rounding; two correct implementations that round differently,
// here by contracted multiply-adds, can agree no closer than that).
void expect_gpu_matches_cpu(const Batch& batch, std::size_t steps, double tolerance = 1e-10) {
  SoftRolloutOptions options{.dt = 1e-3, .steps = steps};
  const SoftRolloutGradients cpu =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const SoftRolloutGradients spread =
      fem::soft_rollout_gradient(batch.body, nudged(batch.worlds), weighted_loss, options);
  options.device = maya::Device::kCuda;
  const SoftRolloutGradients gpu =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  EXPECT_GT(gpu.kernel_seconds_forward, 0.0);
  EXPECT_GT(gpu.kernel_seconds_reverse, 0.0);
  const auto on_gpu = outputs(gpu);
  const auto on_cpu = outputs(cpu);
  const auto nudged_cpu = outputs(spread);
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    const char* name = on_cpu[i].first;
    ASSERT_EQ(on_gpu[i].second->shape(), on_cpu[i].second->shape()) << name;
    if (on_cpu[i].second->numel() == 0) continue;
    // A scene that blows up would compare NaN with NaN: every reference value must be finite.
    for (const double x : on_cpu[i].second->data()) ASSERT_TRUE(std::isfinite(x)) << name;
    const double conditioning = relative_error(*nudged_cpu[i].second, *on_cpu[i].second);
    const double error = relative_error(*on_gpu[i].second, *on_cpu[i].second);
    EXPECT_LE(error, std::max(tolerance, 10.0 * conditioning))
        << name << " (the CPU moves by " << conditioning << " for a nudge of its initial state)";
    std::printf("  %-14s gpu vs cpu %.2e   cpu nudged %.2e\n", name, error, conditioning);
  }
}

class SoftRolloutGpuEveryBody
    : public ::testing::TestWithParam<std::tuple<std::size_t, fem::Energy>> {};

TEST_P(SoftRolloutGpuEveryBody, ManyWorldsMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  const auto [dim, energy] = GetParam();
  expect_gpu_matches_cpu(make_batch(fem_test::small_mesh(dim), energy, 5, {}), 100);
}

INSTANTIATE_TEST_SUITE_P(TrianglesAndTetrahedra, SoftRolloutGpuEveryBody,
                         ::testing::Combine(::testing::Values(std::size_t{2}, std::size_t{3}),
                                            ::testing::ValuesIn(fem_test::kEnergies)));

TEST(SoftRolloutGpu, GlobalParametersWithoutPinsOrFrictionMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  const Scene scene{.per_element = false, .actuated = true, .pinned = false, .friction = 0.0};
  expect_gpu_matches_cpu(make_batch(fem_test::small_mesh(3), fem::Energy::kCorotational, 3, scene),
                         150);
  expect_gpu_matches_cpu(
      make_batch(fem_test::small_mesh(2), fem::Energy::kStableNeoHookean, 3, scene), 150);
}

TEST(SoftRolloutGpu, NoActuationMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  const Scene scene{.per_element = true, .actuated = false};
  expect_gpu_matches_cpu(
      make_batch(fem_test::small_mesh(3), fem::Energy::kStableNeoHookean, 2, scene), 60);
}

// 128 triangles and 96 tetrahedra (the benchmark's bodies): more elements than a warp, vertices
// shared by up to eight elements.
TEST(SoftRolloutGpu, BenchmarkBodiesMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  const fem::Mesh beam = fem::rectangle_mesh(
      {.width = 0.8, .height = 0.2, .cells_x = 16, .cells_y = 4, .origin_y = 0.05});
  const fem::Mesh block = fem::box_mesh({.size_x = 0.4,
                                         .size_y = 0.2,
                                         .size_z = 0.2,
                                         .cells_x = 4,
                                         .cells_y = 2,
                                         .cells_z = 2,
                                         .origin_y = 0.05});
  expect_gpu_matches_cpu(make_batch(beam, fem::Energy::kStableNeoHookean, 4, {}), 100);
  expect_gpu_matches_cpu(make_batch(block, fem::Energy::kCorotational, 4, {}), 100);
}

// 6,000 tetrahedra: a world's scratch (twice 9 doubles per element) exceeds shared memory, so the
// kernels keep it in global memory, and each thread strides over many elements and vertices.
// (Vertices of 6 g on this ground would need a smaller dt for its friction, so the block falls
// freely and the other tests cover contact.)
TEST(SoftRolloutGpu, AMeshBeyondSharedMemoryMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  const fem::Mesh block = fem::box_mesh({.size_x = 0.2,
                                         .size_y = 0.2,
                                         .size_z = 0.2,
                                         .cells_x = 10,
                                         .cells_y = 10,
                                         .cells_z = 10,
                                         .origin_y = 0.2});
  expect_gpu_matches_cpu(make_batch(block, fem::Energy::kStableNeoHookean, 2, {}), 20);
}

TEST(SoftRolloutGpu, RepeatedCallsAgreeBitForBit) {
  MAYA_REQUIRE_GPU();
  const Batch batch = make_batch(fem_test::small_mesh(3), fem::Energy::kCorotational, 3, {});
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 50, .device = maya::Device::kCuda};
  const SoftRolloutGradients a =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const SoftRolloutGradients b =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const auto first = outputs(a);
  const auto second = outputs(b);
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(relative_error(*first[i].second, *second[i].second), 0.0) << first[i].first;
  }
}

TEST(SoftRolloutGpu, ABlownUpWorldIsNamedAndLeavesTheOthersAlone) {
  MAYA_REQUIRE_GPU();
  Batch batch = make_batch(fem_test::small_mesh(3), fem::Energy::kCorotational, 4, {});
  SoftRolloutOptions options{.dt = 1e-3, .steps = 10, .device = maya::Device::kCuda};
  const SoftRolloutGradients clean =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  batch.worlds.state.mutable_data()[2 * 72 + 40] = std::numeric_limits<double>::quiet_NaN();
  const SoftRolloutGradients dirty =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  EXPECT_TRUE(std::isnan(dirty.loss.data()[2]));
  for (const std::size_t w : {0, 1, 3}) EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
  options.finite_check = true;
  try {
    (void)fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
    FAIL() << "no error";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("world 2 of 4"), std::string::npos) << e.what();
  }
}

// weighted_loss of every world on the tape: sum over (2, N, D) of weight x^2, [E].
maya::TensorVar weighted_worlds_loss(maya::TensorTape& tape, maya::TensorVar x) {
  const std::size_t e = x.shape()[0];
  const std::size_t size = x.numel() / e;
  std::vector<double> weights(e * size);
  for (std::size_t w = 0; w < e; ++w) {
    for (std::size_t i = 0; i < size; ++i) {
      weights[w * size + i] = 0.5 + 0.1 * static_cast<double>((i * 7 + w) % 11);
    }
  }
  const maya::TensorVar weight =
      tape.constant(Tensor::from_data(std::move(weights), {e, size}, x.device()));
  return maya::sum(maya::reshape(x, {e, size}) * maya::reshape(x, {e, size}) * weight, 1);
}

SoftWorlds worlds_on(const SoftWorlds& w, maya::Device device) {
  return {w.state.to(device),  w.inverse_edges.to(device), w.volumes.to(device),  w.mu.to(device),
          w.lambda.to(device), w.mass.to(device),          w.actuation.to(device)};
}

// Worlds kept on the GPU, with the loss on the host or on the tape there, against host worlds:
// the kernels and their inputs are the same, so with the same host loss the final states and
// every gradient are the same bits. The tape's loss sums in its own order and may round its
// adjoint 2 w x differently (a fused multiply-add); the reverse sweep is linear in that seed, so
// those results agree to a few units in the last place.
TEST(SoftRolloutGpu, DeviceWorldsMatchHostWorlds) {
  MAYA_REQUIRE_GPU();
  for (const std::size_t dim : {std::size_t{2}, std::size_t{3}}) {
    const Batch batch =
        make_batch(fem_test::small_mesh(dim), fem::Energy::kStableNeoHookean, 4, {});
    const SoftRolloutOptions options{.dt = 1e-3, .steps = 80, .device = maya::Device::kCuda};
    const SoftRolloutGradients host =
        fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
    const SoftWorlds on_gpu = worlds_on(batch.worlds, maya::Device::kCuda);
    const fem::WorldsLoss tape_loss = weighted_worlds_loss;
    const SoftRolloutGradients device_loss =
        fem::soft_rollout_gradient(batch.body, on_gpu, tape_loss, options);
    const SoftRolloutGradients host_loss =
        fem::soft_rollout_gradient(batch.body, on_gpu, weighted_loss, options);
    const SoftRolloutGradients host_worlds_tape_loss =
        fem::soft_rollout_gradient(batch.body, batch.worlds, tape_loss, options);
    const auto expected = outputs(host);
    for (const SoftRolloutGradients* result : {&device_loss, &host_loss, &host_worlds_tape_loss}) {
      const bool device = result != &host_worlds_tape_loss;
      const bool same_loss = result == &host_loss;
      const auto got = outputs(*result);
      for (std::size_t i = 0; i < got.size(); ++i) {
        const char* name = got[i].first;
        ASSERT_EQ(got[i].second->shape(), expected[i].second->shape()) << name;
        if (expected[i].second->numel() == 0) continue;
        EXPECT_EQ(got[i].second->device(), device ? maya::Device::kCuda : maya::Device::kCpu)
            << name;
        const Tensor values = got[i].second->to(maya::Device::kCpu);
        const double error = relative_error(values, *expected[i].second);
        if (same_loss || i == 1) {  // i == 1: the final states, before any loss
          EXPECT_EQ(error, 0.0) << name << " in " << dim << "-D";
        } else {
          EXPECT_LE(error, 1e-13) << name << " in " << dim << "-D";
        }
      }
    }
    // The inputs on the GPU are not written.
    EXPECT_EQ(relative_error(on_gpu.state.to(maya::Device::kCpu), batch.worlds.state), 0.0);
    EXPECT_EQ(relative_error(on_gpu.mass.to(maya::Device::kCpu), batch.worlds.mass), 0.0);
  }
}

TEST(SoftRolloutGpu, DeviceWorldsOnTheWrongDevicesOrWithBadLossesThrow) {
  MAYA_REQUIRE_GPU();
  const Batch batch = make_batch(fem_test::small_mesh(2), fem::Energy::kCorotational, 3, {});
  SoftRolloutOptions options{.dt = 1e-3, .steps = 5, .device = maya::Device::kCuda};
  SoftWorlds mixed = worlds_on(batch.worlds, maya::Device::kCuda);
  mixed.mass = batch.worlds.mass;
  try {
    (void)fem::soft_rollout_gradient(batch.body, mixed, weighted_loss, options);
    FAIL() << "no error";
  } catch (const maya::DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("mass is on cpu but state is on cuda"), std::string::npos)
        << e.what();
  }
  SoftWorlds on_gpu = worlds_on(batch.worlds, maya::Device::kCuda);
  options.device = maya::Device::kCpu;
  EXPECT_THROW((void)fem::soft_rollout_gradient(batch.body, on_gpu, weighted_loss, options),
               maya::DeviceError);
  options.device = maya::Device::kCuda;
  const fem::WorldsLoss one_loss = [](maya::TensorTape&, maya::TensorVar x) {
    return maya::sum(x);
  };
  EXPECT_THROW((void)fem::soft_rollout_gradient(batch.body, on_gpu, one_loss, options),
               maya::ShapeError);
  Tensor mass = batch.worlds.mass;
  mass.mutable_data()[batch.body.num_vertices() + 2] = -1.0;  // world 1, vertex 2
  on_gpu.mass = mass.to(maya::Device::kCuda);
  try {
    (void)fem::soft_rollout_gradient(batch.body, on_gpu, weighted_loss, options);
    FAIL() << "no error";
  } catch (const maya::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("vertex 2 of world 1"), std::string::npos) << e.what();
  }
}

// Results into an earlier call's results on the GPU: host results reused bit for bit, and
// device results (from device worlds) replaced by host ones and back.
TEST(SoftRolloutGpu, ResultsIntoEarlierResultsMatchAFreshCall) {
  MAYA_REQUIRE_GPU();
  const Batch batch = make_batch(fem_test::small_mesh(3), fem::Energy::kCorotational, 3, {});
  const SoftRolloutOptions options{.dt = 1e-3, .steps = 40, .device = maya::Device::kCuda};
  const SoftRolloutGradients fresh =
      fem::soft_rollout_gradient(batch.body, batch.worlds, weighted_loss, options);
  const SoftWorlds on_gpu = worlds_on(batch.worlds, maya::Device::kCuda);
  SoftRolloutGradients out;
  for (const bool device : {false, false, true, false, true, true}) {
    fem::soft_rollout_gradient(batch.body, device ? on_gpu : batch.worlds, weighted_loss, options,
                               out);
    const auto got = outputs(out);
    const auto expected = outputs(fresh);
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].second->shape(), expected[i].second->shape()) << got[i].first;
      if (expected[i].second->numel() == 0) continue;
      EXPECT_EQ(got[i].second->device(), device ? maya::Device::kCuda : maya::Device::kCpu);
      EXPECT_EQ(relative_error(got[i].second->to(maya::Device::kCpu), *expected[i].second), 0.0)
          << got[i].first << (device ? " (device worlds)" : " (host worlds)");
    }
  }
}

}  // namespace
