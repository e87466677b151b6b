// The CUDA rollout kernels against the CPU fused step: values and every gradient to 1e-10
// relative, for one world in one block (W2's G = 16), many worlds (one block each), a world
// spread over a cooperative grid, and 1-D and 3-D systems. Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <maya/dynamics/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <maya/tensor/cuda.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/spring_worlds.hpp"

namespace {

using maya::Tensor;
using maya::dynamics::SpringRolloutGradients;
using maya::dynamics::SpringRolloutOptions;
using maya::test::relative_error;

#define MAYA_REQUIRE_GPU()                                                               \
  if (maya::dynamics::cuda_device_count() == 0) {                                        \
    GTEST_SKIP() << "no CUDA GPU here (or maya built without CUDA): nothing to compare"; \
  }

void expect_close(const SpringRolloutGradients& gpu, const SpringRolloutGradients& cpu,
                  double tolerance, double gradient_tolerance);

// Every output of the GPU rollout against the CPU's: values to `tolerance`, gradients to
// `gradient_tolerance` (relative, over whole tensors).
void expect_gpu_matches_cpu(const maya::dynamics::MassSpringModel& model,
                            const maya::dynamics::SpringWorlds& worlds, std::size_t steps,
                            double tolerance = 1e-10, double gradient_tolerance = 1e-10) {
  SpringRolloutOptions options{.dt = 1e-3, .steps = steps};
  const auto loss = maya::test::w2_loss_of(model.dim());
  const SpringRolloutGradients cpu =
      maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
  options.device = maya::Device::kCuda;
  // Every kernel variant, whichever the size would pick; the resident block kernels also with
  // one, two and four springs per thread in both directions, the lane kernels also on worlds that
  // would fit one block, the tiled kernels also on tiles of 4 x 4 particles over 3 blocks (so
  // that tiles have halos and a block several tiles) and staging a tile in one round of loads.
  for (const char* kernels : {"split", "gather", "resident", "resident-1", "resident-2",
                              "resident-4", "lanes", "tiled", "tiled-small", "tiled-deep"}) {
    SCOPED_TRACE(kernels);
    const std::string name = kernels;
    const bool per_thread = name.rfind("resident-", 0) == 0;
    const bool small_tiles = name == "tiled-small";
    const bool deep = name == "tiled-deep";
    setenv("MAYA_SPRING_KERNEL",
           per_thread ? "resident" : (small_tiles || deep ? "tiled" : kernels), 1);
    if (deep) setenv("MAYA_SPRING_TILE_DEEP", "1", 1);
    if (per_thread) setenv("MAYA_SPRING_RESIDENT_K", name.substr(9).c_str(), 1);
    if (small_tiles) {
      setenv("MAYA_SPRING_TILE", "4", 1);
      setenv("MAYA_SPRING_TILE_BLOCKS", "3", 1);
    }
    const SpringRolloutGradients gpu =
        maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
    unsetenv("MAYA_SPRING_KERNEL");
    unsetenv("MAYA_SPRING_RESIDENT_K");
    unsetenv("MAYA_SPRING_TILE");
    unsetenv("MAYA_SPRING_TILE_BLOCKS");
    unsetenv("MAYA_SPRING_TILE_DEEP");
    expect_close(gpu, cpu, tolerance, gradient_tolerance);
  }
}

void expect_close(const SpringRolloutGradients& gpu, const SpringRolloutGradients& cpu,
                  double tolerance, double gradient_tolerance) {
  EXPECT_LT(relative_error(gpu.loss, cpu.loss), tolerance);
  EXPECT_LT(relative_error(gpu.final_state, cpu.final_state), tolerance);
  EXPECT_LT(relative_error(gpu.state, cpu.state), gradient_tolerance);
  EXPECT_LT(relative_error(gpu.mass, cpu.mass), gradient_tolerance);
  EXPECT_LT(relative_error(gpu.stiffness, cpu.stiffness), gradient_tolerance);
  EXPECT_LT(relative_error(gpu.damping, cpu.damping), gradient_tolerance);
  EXPECT_LT(relative_error(gpu.rest_length, cpu.rest_length), gradient_tolerance);
  EXPECT_GT(gpu.kernel_seconds_forward, 0.0);
  EXPECT_GT(gpu.kernel_seconds_reverse, 0.0);
  std::printf(
      "  gpu vs cpu: loss %.2e state %.2e | gradients: state %.2e mass %.2e stiffness "
      "%.2e damping %.2e rest %.2e\n",
      relative_error(gpu.loss, cpu.loss), relative_error(gpu.final_state, cpu.final_state),
      relative_error(gpu.state, cpu.state), relative_error(gpu.mass, cpu.mass),
      relative_error(gpu.stiffness, cpu.stiffness), relative_error(gpu.damping, cpu.damping),
      relative_error(gpu.rest_length, cpu.rest_length));
}

// How far the CPU's own gradient moves when the initial velocities move by one part in 1e15
// (rounding-sized): the rollout's sensitivity, which bounds how closely two correct
// implementations that round differently (multiply-add contraction) can agree.
double cpu_rounding_sensitivity(const maya::dynamics::MassSpringModel& model,
                                maya::dynamics::SpringWorlds worlds, std::size_t steps) {
  const SpringRolloutOptions options{.dt = 1e-3, .steps = steps};
  const auto loss = maya::test::w2_loss_of(model.dim());
  const auto base = maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
  auto data = worlds.state.mutable_data();
  const std::size_t half = worlds.state.shape()[2] * worlds.state.shape()[3];
  for (std::size_t w = 0; w < worlds.state.shape()[0]; ++w) {
    for (std::size_t j = 0; j < half; ++j) data[(2 * w + 1) * half + j] *= 1.0 + 1e-15;
  }
  const auto moved = maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
  const double error = relative_error(moved.stiffness, base.stiffness);
  std::printf("  cpu vs cpu with v0 moved by 1e-15: stiffness gradient %.2e\n", error);
  return error;
}

maya::dynamics::SpringLattice w2_lattice(std::size_t size) {
  return maya::dynamics::make_spring_lattice({.size = size});
}

TEST(GpuSpringRollout, OneBlockW2G16MatchesCpu) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(16);
  const auto worlds = maya::test::varied_worlds(lattice, 1, 3);
  // 400 steps: the lattice lands at step ~250 and bounces.
  expect_gpu_matches_cpu(lattice.model, worlds, 400);
}

// Over W2's 1000 steps the contact amplifies rounding: the gradients of two correct
// implementations agree only as far as the rollout's sensitivity to rounding allows.
TEST(GpuSpringRollout, OneBlockW2G16MatchesCpuOver1000StepsWithinRoundingSensitivity) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(16);
  const auto worlds = maya::test::varied_worlds(lattice, 1, 3);
  const double sensitivity = cpu_rounding_sensitivity(lattice.model, worlds, 1000);
  expect_gpu_matches_cpu(lattice.model, worlds, 1000, 1e-10, std::max(1e-10, 10 * sensitivity));
}

TEST(GpuSpringRollout, ManyWorldsOneBlockEachMatchCpu) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  expect_gpu_matches_cpu(lattice.model, maya::test::varied_worlds(lattice, 100, 5), 400);
}

TEST(GpuSpringRollout, ManyWorldsMatchCpuOver1000StepsWithinRoundingSensitivity) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  const auto worlds = maya::test::varied_worlds(lattice, 100, 5);
  const double sensitivity = cpu_rounding_sensitivity(lattice.model, worlds, 1000);
  expect_gpu_matches_cpu(lattice.model, worlds, 1000, 1e-10, std::max(1e-10, 10 * sensitivity));
}

TEST(GpuSpringRollout, CooperativeGridWorldMatchesCpu) {
  MAYA_REQUIRE_GPU();
  // 1600 particles, 6162 springs: more than one block's shared memory holds.
  const maya::dynamics::SpringLattice lattice = w2_lattice(40);
  expect_gpu_matches_cpu(lattice.model, maya::test::varied_worlds(lattice, 2, 9), 300);
}

TEST(GpuSpringRollout, WorldOfMoreSpringsThanThreadsMatchesCpu) {
  MAYA_REQUIRE_GPU();
  // 400 particles, 1482 springs: the resident block kernels give each thread up to 4 springs.
  const maya::dynamics::SpringLattice lattice = w2_lattice(20);
  expect_gpu_matches_cpu(lattice.model, maya::test::varied_worlds(lattice, 3, 11), 300);
}

// The GPU keeps the last topology on the device between calls: a model of the same size but
// other springs (every spring's ends swapped) must not reuse it.
TEST(GpuSpringRollout, SameSizedModelWithOtherSpringsIsUploadedAgain) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  const auto worlds = maya::test::varied_worlds(lattice, 3, 13);
  const auto& model = lattice.model;
  std::vector<std::int64_t> first(model.end_b().begin(), model.end_b().end());
  std::vector<std::int64_t> second(model.end_a().begin(), model.end_a().end());
  const std::vector<double> gravity(model.gravity().begin(), model.gravity().end());
  const maya::dynamics::MassSpringModel swapped(model.num_particles(), model.dim(), first, second,
                                                gravity, model.ground());
  expect_gpu_matches_cpu(model, worlds, 200);
  expect_gpu_matches_cpu(swapped, worlds, 200);
}

// The device's incidence lists are kept under the model's topology id, or reused when a new
// model's springs compare equal: every switch of model, copy, move and assignment must give the
// results of the model passed, never those of the last one.
TEST(GpuSpringRollout, ChangedModelIsDetectedByItsTopologyId) {
  MAYA_REQUIRE_GPU();
  using maya::dynamics::MassSpringModel;
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  const auto worlds = maya::test::varied_worlds(lattice, 3, 14);
  const MassSpringModel& model = lattice.model;
  // The same springs, or (reversed) the same springs in the opposite order: spring j then joins
  // other particles, and takes the rest length of the spring it is now (the worlds' stiffness
  // and damping stay in place, so each physical spring gets another).
  const auto rebuilt = [&](bool reversed) {
    std::vector<std::int64_t> first(model.end_a().begin(), model.end_a().end());
    std::vector<std::int64_t> second(model.end_b().begin(), model.end_b().end());
    if (reversed) {
      std::reverse(first.begin(), first.end());
      std::reverse(second.begin(), second.end());
    }
    const std::vector<double> gravity(model.gravity().begin(), model.gravity().end());
    return MassSpringModel(model.num_particles(), model.dim(), first, second, gravity,
                           model.ground());
  };
  auto reversed_worlds = worlds;
  const std::size_t s = model.num_springs();
  for (std::size_t w = 0; w < 3; ++w) {
    auto rest = reversed_worlds.rest_length.mutable_data().subspan(w * s, s);
    std::reverse(rest.begin(), rest.end());
  }
  const MassSpringModel reordered = rebuilt(true);
  const auto loss = maya::test::w2_loss_of(model.dim());
  const auto worlds_of = [&](const MassSpringModel& m) {
    return m.end_a() == model.end_a() ? worlds : reversed_worlds;
  };
  const auto gpu_of = [&](const MassSpringModel& m) {
    return maya::dynamics::spring_rollout_gradient(
        m, worlds_of(m), loss, {.dt = 1e-3, .steps = 200, .device = maya::Device::kCuda});
  };
  const auto cpu_of = [&](const MassSpringModel& m) {
    return maya::dynamics::spring_rollout_gradient(m, worlds_of(m), loss,
                                                   {.dt = 1e-3, .steps = 200});
  };
  const SpringRolloutGradients cpu = cpu_of(model);
  const SpringRolloutGradients cpu_reordered = cpu_of(reordered);
  // Another system: results that the first model's incidence lists would not give.
  ASSERT_GT(relative_error(cpu_reordered.final_state, cpu.final_state), 1e-4);
  ASSERT_GT(relative_error(cpu_reordered.stiffness, cpu.stiffness), 1e-3);
  const SpringRolloutGradients first = gpu_of(model);
  expect_close(first, cpu, 1e-10, 1e-10);
  {
    SCOPED_TRACE("another model of the same sizes");
    expect_close(gpu_of(reordered), cpu_reordered, 1e-10, 1e-10);
  }
  {
    SCOPED_TRACE("the first model again, then a copy of it: the same bits");
    const SpringRolloutGradients again = gpu_of(model);
    EXPECT_EQ(relative_error(again.stiffness, first.stiffness), 0.0);
    const MassSpringModel copy(model);
    EXPECT_EQ(relative_error(gpu_of(copy).state, first.state), 0.0);
  }
  {
    SCOPED_TRACE("a model rebuilt with the same springs (a new id, the springs compared)");
    EXPECT_EQ(relative_error(gpu_of(rebuilt(false)).stiffness, first.stiffness), 0.0);
  }
  {
    SCOPED_TRACE("one model object whose springs change by assignment and by move");
    MassSpringModel changing = model;
    (void)gpu_of(changing);
    changing = reordered;
    expect_close(gpu_of(changing), cpu_reordered, 1e-10, 1e-10);
    MassSpringModel kept = std::move(changing);
    changing = model;
    expect_close(gpu_of(changing), cpu, 1e-10, 1e-10);
    changing = std::move(kept);
    expect_close(gpu_of(changing), cpu_reordered, 1e-10, 1e-10);
  }
}

// The rollout runs after, on the device, whatever maya's stream queued before the call, with no
// wait on the host in between. Here the worlds' buffers hold NaN, then a few milliseconds of
// matrix products and the copies of the worlds' values into them are queued: a rollout that did
// not wait for them would read NaN.
TEST(GpuSpringRollout, DeviceWorldsStillBeingWrittenAreWaitedFor) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(16);
  const auto worlds = maya::test::varied_worlds(lattice, 2, 15);
  SpringRolloutOptions options{.dt = 1e-3, .steps = 300, .device = maya::Device::kCuda};
  const auto reference = maya::dynamics::spring_rollout_gradient(
      lattice.model, maya::test::worlds_on(worlds, maya::Device::kCuda),
      maya::test::w2_worlds_loss(), options);
  const auto poisoned = [](const Tensor& t) {
    return Tensor::full(t.shape(), std::numeric_limits<double>::quiet_NaN(), maya::Device::kCuda);
  };
  for (int round = 0; round < 3; ++round) {
    maya::dynamics::SpringWorlds gpu{poisoned(worlds.state), poisoned(worlds.mass),
                                     poisoned(worlds.stiffness), poisoned(worlds.damping),
                                     poisoned(worlds.rest_length)};
    maya::cuda_synchronize();
    maya::TensorTape tape;
    maya::TensorVar busy =
        tape.var(Tensor::uniform({2048, 2048}, -1.0, 1.0, 7, maya::Device::kCuda));
    for (int k = 0; k < 8; ++k) busy = matmul(busy, busy) * (1.0 / 30.0);
    gpu.state.assign(worlds.state);
    gpu.mass.assign(worlds.mass);
    gpu.stiffness.assign(worlds.stiffness);
    gpu.damping.assign(worlds.damping);
    gpu.rest_length.assign(worlds.rest_length);
    const auto out = maya::dynamics::spring_rollout_gradient(lattice.model, gpu,
                                                             maya::test::w2_worlds_loss(), options);
    const auto same = [](const Tensor& a, const Tensor& b) {
      return relative_error(a.to(maya::Device::kCpu), b.to(maya::Device::kCpu));
    };
    EXPECT_EQ(same(out.final_state, reference.final_state), 0.0);
    EXPECT_EQ(same(out.stiffness, reference.stiffness), 0.0);
    EXPECT_EQ(same(out.mass, reference.mass), 0.0);
    EXPECT_EQ(same(out.loss, reference.loss), 0.0);
  }
}

TEST(GpuSpringRollout, OneAndThreeDimensionsMatchCpu) {
  MAYA_REQUIRE_GPU();
  for (const std::size_t dim : {std::size_t{1}, std::size_t{3}}) {
    // A chain of particles with a spring to the one after next as well, falling onto a ground
    // normal to the last axis.
    const std::size_t n = 24;
    std::vector<std::int64_t> first;
    std::vector<std::int64_t> second;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      first.push_back(static_cast<std::int64_t>(i));
      second.push_back(static_cast<std::int64_t>(i + 1));
      if (i + 2 < n) {
        first.push_back(static_cast<std::int64_t>(i));
        second.push_back(static_cast<std::int64_t>(i + 2));
      }
    }
    std::vector<double> gravity(dim, 0.0);
    gravity[dim - 1] = -9.8;
    const maya::dynamics::MassSpringModel model(n, dim, first, second, gravity,
                                                {true, 0.0, 1e4, 10.0, dim - 1});
    const std::size_t worlds = 7;
    const std::size_t s = model.num_springs();
    std::vector<double> state;
    for (std::size_t w = 0; w < worlds; ++w) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < dim; ++k) {
          const bool last = k == dim - 1;
          // In 1-D the chain stands on its axis; in 3-D it lies along x, 0.1 above the ground.
          state.push_back(dim == 1 ? 0.05 + 0.03 * static_cast<double>(i)
                                   : (k == 0 ? 0.03 * static_cast<double>(i) : (last ? 0.1 : 0.0)));
        }
      }
      for (std::size_t i = 0; i < n * dim; ++i) {
        state.push_back(0.05 * std::sin(static_cast<double>(w * 31 + i)) - 0.5);
      }
    }
    Tensor positions =
        Tensor::from_data(std::vector<double>(state.begin(), state.begin() + n * dim), {n, dim});
    const Tensor rest = model.rest_lengths_of(positions);
    std::vector<double> rests;
    for (std::size_t w = 0; w < worlds; ++w) {
      rests.insert(rests.end(), rest.data().begin(), rest.data().end());
    }
    const maya::dynamics::SpringWorlds batch{
        Tensor::from_data(state, {worlds, 2, n, dim}), Tensor::uniform({worlds, n}, 0.8, 1.2, 3),
        Tensor::uniform({worlds, s}, 500, 1500, 4), Tensor::uniform({worlds, s}, 1, 5, 5),
        Tensor::from_data(rests, {worlds, s})};
    SCOPED_TRACE("dimension " + std::to_string(dim));
    expect_gpu_matches_cpu(model, batch, 500);
  }
}

// Ground friction (GroundContact::friction) in every kernel family: lattices thrown sideways
// that land and slide, and 1-D and 3-D chains, against the CPU.
TEST(GpuSpringRollout, FrictionMatchesCpuInEveryKernel) {
  MAYA_REQUIRE_GPU();
  struct Case {
    std::size_t size, worlds, steps;
  };
  for (const Case c : {Case{16, 1, 400}, Case{8, 50, 400}, Case{20, 3, 300}, Case{40, 2, 300}}) {
    maya::dynamics::LatticeOptions options;
    options.size = c.size;
    options.ground.friction = 0.8;
    options.ground.slip_velocity = 0.05;
    const maya::dynamics::SpringLattice lattice = maya::dynamics::make_spring_lattice(options);
    SCOPED_TRACE("lattice " + std::to_string(c.size));
    // Sliding, sticking and landing amplify rounding as contact does over long rollouts (50
    // worlds of G = 8: the kernels agree with each other to every printed digit and with the
    // CPU to 3e-10).
    const auto worlds = maya::test::varied_worlds(lattice, c.worlds, 17);
    const double sensitivity = cpu_rounding_sensitivity(lattice.model, worlds, c.steps);
    expect_gpu_matches_cpu(lattice.model, worlds, c.steps, 1e-10,
                           std::max(1e-10, 10 * sensitivity));
  }
  for (const std::size_t dim : {std::size_t{1}, std::size_t{3}}) {
    const std::size_t n = 12;
    std::vector<std::int64_t> first;
    std::vector<std::int64_t> second;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      first.push_back(static_cast<std::int64_t>(i));
      second.push_back(static_cast<std::int64_t>(i + 1));
    }
    std::vector<double> gravity(dim, 0.0);
    gravity[dim - 1] = -9.8;
    maya::dynamics::GroundContact ground;
    ground.up_axis = dim - 1;
    ground.friction = 0.6;
    ground.slip_velocity = 0.05;
    const maya::dynamics::MassSpringModel model(n, dim, first, second, gravity, ground);
    const std::size_t worlds = 5;
    const std::size_t s = model.num_springs();
    std::vector<double> state;
    for (std::size_t w = 0; w < worlds; ++w) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < dim; ++k) {
          state.push_back(
              dim == 1 ? 0.02 + 0.03 * static_cast<double>(i)
                       : (k == 0 ? 0.03 * static_cast<double>(i) : (k == dim - 1 ? 0.02 : 0.0)));
        }
      }
      for (std::size_t i = 0; i < n * dim; ++i) {
        state.push_back(0.3 * std::sin(static_cast<double>(w * 17 + i)) - 0.3);
      }
    }
    const Tensor positions =
        Tensor::from_data(std::vector<double>(state.begin(), state.begin() + n * dim), {n, dim});
    const Tensor rest = model.rest_lengths_of(positions);
    std::vector<double> rests;
    for (std::size_t w = 0; w < worlds; ++w) {
      rests.insert(rests.end(), rest.data().begin(), rest.data().end());
    }
    const maya::dynamics::SpringWorlds batch{
        Tensor::from_data(state, {worlds, 2, n, dim}), Tensor::uniform({worlds, n}, 0.8, 1.2, 3),
        Tensor::uniform({worlds, s}, 500, 1500, 4), Tensor::uniform({worlds, s}, 1, 5, 5),
        Tensor::from_data(rests, {worlds, s})};
    SCOPED_TRACE("chain in dimension " + std::to_string(dim));
    expect_gpu_matches_cpu(model, batch, 300);
  }
}

TEST(GpuSpringRollout, BlownUpWorldIsNamedAndLeavesOthersUntouched) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  auto worlds = maya::test::varied_worlds(lattice, 4, 8);
  SpringRolloutOptions options{.dt = 1e-3, .steps = 200, .device = maya::Device::kCuda};
  const auto clean = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options);
  worlds.state.mutable_data()[3 * 2 * 64 * 2 + 70] = std::numeric_limits<double>::quiet_NaN();
  const auto dirty = maya::dynamics::spring_rollout_gradient(lattice.model, worlds,
                                                             maya::test::w2_loss_of(2), options);
  EXPECT_TRUE(std::isnan(dirty.loss.data()[3]));
  for (std::size_t w = 0; w < 3; ++w) {
    EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
    EXPECT_EQ(relative_error(maya::test::world_slice(dirty.stiffness, w),
                             maya::test::world_slice(clean.stiffness, w)),
              0.0);
  }
  options.finite_check = true;
  try {
    (void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds, maya::test::w2_loss_of(2),
                                                  options);
    FAIL() << "expected NonFiniteError";
  } catch (const maya::NonFiniteError& error) {
    EXPECT_NE(std::string(error.what()).find("world 3 of 4"), std::string::npos) << error.what();
  }
}

// Worlds as device tensors: read in place on the GPU, results there; the loss on the tape on the
// GPU, or per world on the host. The same kernels as host worlds, so the same values; the tape's
// adjoint of the loss may round differently in the last place.
void expect_device_worlds_match_host_worlds(const maya::dynamics::MassSpringModel& model,
                                            const maya::dynamics::SpringWorlds& worlds,
                                            std::size_t steps) {
  const SpringRolloutOptions options{.dt = 1e-3, .steps = steps, .device = maya::Device::kCuda};
  const auto loss = maya::test::w2_loss_of(model.dim());
  const SpringRolloutGradients host =
      maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
  const auto on_gpu = maya::test::worlds_on(worlds, maya::Device::kCuda);
  const auto to_cpu = [](const SpringRolloutGradients& g) {
    for (const Tensor* t :
         {&g.loss, &g.final_state, &g.state, &g.mass, &g.stiffness, &g.damping, &g.rest_length}) {
      EXPECT_EQ(t->device(), maya::Device::kCuda);
    }
    return SpringRolloutGradients{g.loss.to(maya::Device::kCpu),
                                  g.final_state.to(maya::Device::kCpu),
                                  g.state.to(maya::Device::kCpu),
                                  g.mass.to(maya::Device::kCpu),
                                  g.stiffness.to(maya::Device::kCpu),
                                  g.damping.to(maya::Device::kCpu),
                                  g.rest_length.to(maya::Device::kCpu),
                                  g.kernel_seconds_forward,
                                  g.kernel_seconds_reverse};
  };
  {
    SCOPED_TRACE("device worlds, tape loss on the device");
    const auto tape = to_cpu(maya::dynamics::spring_rollout_gradient(
        model, on_gpu, maya::test::w2_worlds_loss(), options));
    EXPECT_EQ(relative_error(tape.final_state, host.final_state), 0.0);
    expect_close(tape, host, 1e-14, 1e-12);
  }
  {
    SCOPED_TRACE("device worlds, per-world loss on the host");
    const auto per_world =
        to_cpu(maya::dynamics::spring_rollout_gradient(model, on_gpu, loss, options));
    EXPECT_EQ(relative_error(per_world.final_state, host.final_state), 0.0);
    expect_close(per_world, host, 1e-14, 1e-14);
  }
  {
    SCOPED_TRACE("host worlds, tape loss on the host");
    const auto tape = maya::dynamics::spring_rollout_gradient(
        model, worlds, maya::test::w2_worlds_loss(), options);
    EXPECT_EQ(tape.stiffness.device(), maya::Device::kCpu);
    expect_close(tape, host, 1e-14, 1e-12);
  }
}

TEST(GpuSpringRollout, DeviceWorldsMatchHostWorldsInEveryKernel) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice small = w2_lattice(8);
  const auto worlds = maya::test::varied_worlds(small, 5, 21);
  for (const char* kernels : {"", "split", "gather", "lanes", "resident", "tiled"}) {
    SCOPED_TRACE(std::string("kernels: ") + (*kernels != 0 ? kernels : "default"));
    if (*kernels != 0) setenv("MAYA_SPRING_KERNEL", kernels, 1);
    expect_device_worlds_match_host_worlds(small.model, worlds, 200);
    unsetenv("MAYA_SPRING_KERNEL");
  }
  // A world over the cooperative grid (lanes by default, then the gathering and tiled kernels).
  const maya::dynamics::SpringLattice grid = w2_lattice(40);
  const auto grid_worlds = maya::test::varied_worlds(grid, 2, 22);
  expect_device_worlds_match_host_worlds(grid.model, grid_worlds, 100);
  for (const char* kernels : {"gather", "tiled"}) {
    SCOPED_TRACE(std::string("grid, kernels: ") + kernels);
    setenv("MAYA_SPRING_KERNEL", kernels, 1);
    expect_device_worlds_match_host_worlds(grid.model, grid_worlds, 100);
    unsetenv("MAYA_SPRING_KERNEL");
  }
}

TEST(GpuSpringRollout, DeviceWorldsWithWrongDeviceOrShapeThrow) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  const auto host = maya::test::varied_worlds(lattice, 3, 23);
  const auto gpu = maya::test::worlds_on(host, maya::Device::kCuda);
  const auto loss = maya::test::w2_worlds_loss();
  SpringRolloutOptions options{.dt = 1e-3, .steps = 20, .device = maya::Device::kCuda};
  const auto message_of = [&](const maya::dynamics::SpringWorlds& worlds,
                              const maya::dynamics::WorldsLoss& l,
                              const SpringRolloutOptions& o) -> std::string {
    try {
      (void)maya::dynamics::spring_rollout_gradient(lattice.model, worlds, l, o);
    } catch (const maya::Error& error) {
      return error.what();
    }
    return "no error";
  };
  // Worlds on the GPU, options on the CPU.
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, gpu, loss,
                                                             {.dt = 1e-3, .steps = 20}),
               maya::DeviceError);
  // Tensors on two devices.
  auto mixed = gpu;
  mixed.mass = host.mass;
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, mixed, loss, options),
               maya::DeviceError);
  std::string message = message_of(mixed, loss, options);
  EXPECT_NE(message.find("mass is on cpu but state is on cuda"), std::string::npos) << message;
  // E differs, on the device.
  auto fewer = gpu;
  fewer.stiffness = Tensor::full({2, lattice.model.num_springs()}, 1000.0, maya::Device::kCuda);
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, fewer, loss, options),
               maya::ShapeError);
  message = message_of(fewer, loss, options);
  EXPECT_NE(message.find("stiffness of shape [2, "), std::string::npos) << message;
  // A non-positive mass in device memory, named by particle and world.
  auto masses = host.mass;
  masses.mutable_data()[2 * 64 + 5] = -1.0;
  auto bad = gpu;
  bad.mass = masses.to(maya::Device::kCuda);
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, bad, loss, options),
               maya::ValueError);
  message = message_of(bad, loss, options);
  EXPECT_NE(message.find("particle 5 of world 2"), std::string::npos) << message;
  // A loss of the wrong shape, and one on the wrong device.
  const maya::dynamics::WorldsLoss total = [](maya::TensorTape&, maya::TensorVar x) {
    return sum(x);
  };
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, gpu, total, options),
               maya::ShapeError);
  const maya::dynamics::WorldsLoss on_cpu = [](maya::TensorTape&, maya::TensorVar x) {
    return sum(sum(sum(x, 3), 2), 1).to(maya::Device::kCpu);
  };
  EXPECT_THROW((void)maya::dynamics::spring_rollout_gradient(lattice.model, gpu, on_cpu, options),
               maya::DeviceError);
  message = message_of(gpu, on_cpu, options);
  EXPECT_NE(message.find("loss is on cpu but the final states are on cuda"), std::string::npos)
      << message;
  // After the errors, a good call still runs.
  const auto out = maya::dynamics::spring_rollout_gradient(lattice.model, gpu, loss, options);
  EXPECT_EQ(out.loss.device(), maya::Device::kCuda);
}

TEST(GpuSpringRollout, BlownUpDeviceWorldIsNamed) {
  MAYA_REQUIRE_GPU();
  const maya::dynamics::SpringLattice lattice = w2_lattice(8);
  auto worlds = maya::test::varied_worlds(lattice, 4, 8);
  SpringRolloutOptions options{.dt = 1e-3, .steps = 200, .device = maya::Device::kCuda};
  const auto clean = maya::dynamics::spring_rollout_gradient(
      lattice.model, maya::test::worlds_on(worlds, maya::Device::kCuda),
      maya::test::w2_worlds_loss(), options);
  worlds.state.mutable_data()[3 * 2 * 64 * 2 + 70] = std::numeric_limits<double>::quiet_NaN();
  const auto gpu = maya::test::worlds_on(worlds, maya::Device::kCuda);
  const auto dirty = maya::dynamics::spring_rollout_gradient(lattice.model, gpu,
                                                             maya::test::w2_worlds_loss(), options);
  const Tensor dirty_loss = dirty.loss.to(maya::Device::kCpu);
  const Tensor clean_loss = clean.loss.to(maya::Device::kCpu);
  EXPECT_TRUE(std::isnan(dirty_loss.data()[3]));
  for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(dirty_loss.data()[w], clean_loss.data()[w]);
  options.finite_check = true;
  try {
    (void)maya::dynamics::spring_rollout_gradient(lattice.model, gpu, maya::test::w2_worlds_loss(),
                                                  options);
    FAIL() << "expected NonFiniteError";
  } catch (const maya::NonFiniteError& error) {
    EXPECT_NE(std::string(error.what()).find("world 3 of 4"), std::string::npos) << error.what();
  }
}

}  // namespace
