// The CUDA rigid rollout kernels against the CPU fused step: the loss, the final state and every
// gradient to 1e-10 relative (or to the rollout's own conditioning, where that is worse), on W4's
// boxes tumbling and sliding (many worlds, more than one block holds), on a mixed scene of
// boxes, a triangle and circles over two grounds with damping under both normal laws, and, with
// body-body contact on, on a pile of boxes, a triangle and circles (both laws), boxes knocking
// into each other and a row of more circles than a block has threads. Skipped where no GPU is
// present.
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
using maya::rigid::RigidRolloutGradients;
using maya::rigid::RigidRolloutOptions;
using maya::test::rigid_relative_error;

#define MAYA_REQUIRE_GPU()                                                               \
  if (maya::dynamics::cuda_device_count() == 0) {                                        \
    GTEST_SKIP() << "no CUDA GPU here (or maya built without CUDA): nothing to compare"; \
  }

// The worlds with every initial state entry moved by a few units in the last place (relative
// 1e-15 times -2..2).
maya::rigid::RigidWorlds nudged(const maya::rigid::RigidWorlds& worlds) {
  maya::rigid::RigidWorlds out = worlds;
  std::size_t i = 0;
  for (double& x : out.state.mutable_data()) {
    x *= 1.0 + 1e-15 * static_cast<double>(static_cast<int>((7 * i++) % 5) - 2);
  }
  return out;
}

// Every output of the GPU rollout against the CPU's, to `tolerance` relative, or, where the
// rollout itself is ill-conditioned (contacts that tumble and slide amplify rounding by many
// orders of magnitude within a few hundred steps), to 10 times what the CPU's own result moves
// when the initial state moves by a few units in the last place: the GPU's rounding differs from
// the CPU's (contracted multiply-adds, the last bit of sin, cos and tanh), and no agreement
// closer than that conditioning can be asked of two correct implementations.
void expect_gpu_matches_cpu(const maya::test::RigidBatch& batch, std::size_t steps,
                            const maya::rigid::FinalStateLoss& loss, double tolerance = 1e-10) {
  RigidRolloutOptions options{.dt = 1e-3, .steps = steps};
  const RigidRolloutGradients cpu =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, loss, options);
  const RigidRolloutGradients spread =
      maya::rigid::rigid_rollout_gradient(batch.world, nudged(batch.worlds), loss, options);
  options.device = maya::Device::kCuda;
  const RigidRolloutGradients gpu =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, loss, options);
  EXPECT_GT(gpu.kernel_seconds_forward, 0.0);
  EXPECT_GT(gpu.kernel_seconds_reverse, 0.0);
  const auto tensors = [](const RigidRolloutGradients& r) {
    return std::vector<std::pair<const char*, const Tensor*>>{
        {"loss", &r.loss},       {"final state", &r.final_state}, {"state", &r.state},
        {"mass", &r.mass},       {"inertia", &r.inertia},         {"vertices", &r.vertices},
        {"radius", &r.radius},   {"applied", &r.applied},         {"stiffness", &r.stiffness},
        {"damping", &r.damping}, {"friction", &r.friction}};
  };
  const auto on_gpu = tensors(gpu);
  const auto on_cpu = tensors(cpu);
  const auto nudged_cpu = tensors(spread);
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    const char* name = on_cpu[i].first;
    ASSERT_EQ(on_gpu[i].second->shape(), on_cpu[i].second->shape()) << name;
    const double conditioning = rigid_relative_error(*nudged_cpu[i].second, *on_cpu[i].second);
    EXPECT_LE(rigid_relative_error(*on_gpu[i].second, *on_cpu[i].second),
              std::max(tolerance, 10.0 * conditioning))
        << name << " (the CPU moves by " << conditioning << " for a nudge of its initial state)";
  }
}

TEST(RigidRolloutGpu, W4BoxesOfManyWorldsMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  // Tumbling boxes, in contact from the first steps.
  expect_gpu_matches_cpu(maya::test::w4_batch(16, 8, 0.066), 150, maya::test::w4_loss);
}

TEST(RigidRolloutGpu, MoreWorldsThanOneBlockMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  // Boxes sliding on their lower face.
  expect_gpu_matches_cpu(maya::test::w4_batch(3, 100, 0.0495, false), 300,
                         maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, KelvinVoigtMixedSceneMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::mixed_batch(5, maya::rigid::NormalForceLaw::kKelvinVoigt), 400,
                         maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, HuntCrossleyMixedSceneMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::mixed_batch(5, maya::rigid::NormalForceLaw::kHuntCrossley),
                         200, maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, RepeatedCallsAgree) {
  MAYA_REQUIRE_GPU();
  const maya::test::RigidBatch batch = maya::test::w4_batch(8, 4);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 200, .device = maya::Device::kCuda};
  const RigidRolloutGradients a =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  const RigidRolloutGradients b =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  EXPECT_EQ(rigid_relative_error(a.state, b.state), 0.0);
  EXPECT_EQ(rigid_relative_error(a.vertices, b.vertices), 0.0);
}

TEST(RigidRolloutGpu, ABlownUpWorldIsNamedAndLeavesTheOthersAlone) {
  MAYA_REQUIRE_GPU();
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 4);
  RigidRolloutOptions options{.dt = 1e-3, .steps = 50, .device = maya::Device::kCuda};
  const RigidRolloutGradients clean =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  batch.worlds.state.mutable_data()[2 * 12 + 7] = std::numeric_limits<double>::infinity();
  const RigidRolloutGradients dirty =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss, options);
  EXPECT_FALSE(std::isfinite(dirty.loss.data()[2]));
  for (const std::size_t w : {0, 1, 3}) EXPECT_EQ(dirty.loss.data()[w], clean.loss.data()[w]);
  options.finite_check = true;
  try {
    (void)maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::w4_loss,
                                              options);
    FAIL() << "no error";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("world 2 of 4"), std::string::npos) << e.what();
  }
}

TEST(RigidRolloutGpu, KelvinVoigtPileWithBodyContactMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::pile_batch(6, maya::rigid::NormalForceLaw::kKelvinVoigt), 300,
                         maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, HuntCrossleyPileWithBodyContactMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::pile_batch(4, maya::rigid::NormalForceLaw::kHuntCrossley), 200,
                         maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, BoxesInBodyContactMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  // W4's boxes with body-body contact on, overlapping in x: tumbling boxes hit their neighbours.
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = true;
  maya::test::RigidBatch batch = maya::test::w4_batch(6, 5, 0.066);
  batch.world = maya::rigid::RigidWorld2D(
      std::vector<maya::rigid::BodyShape>(6, maya::rigid::BodyShape::box(0.2, 0.1)), options);
  for (std::size_t w = 0; w < 5; ++w) {
    for (std::size_t k = 0; k < 6; ++k) {
      batch.worlds.state.mutable_data()[w * 36 + 3 * k] = 0.21 * static_cast<double>(k);
      batch.worlds.state.mutable_data()[w * 36 + 18 + 3 * k] *= k % 2 == 0 ? 1.0 : -1.0;
    }
  }
  expect_gpu_matches_cpu(batch, 150, maya::test::w4_loss);
}

TEST(RigidRolloutGpu, MoreBodiesThanBlockThreadsWithBodyContactMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::circle_row_batch(300, 2), 100, maya::test::weighted_loss);
}

// 1,100 bodies: the block's shared scratch no longer fits its 48 KiB, so the world's rows of the
// global scratch stand in for it, and the scan of the candidate counts runs on one thread.
TEST(RigidRolloutGpu, BodiesBeyondTheSharedScratchWithBodyContactMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::circle_row_batch(1100, 1), 40, maya::test::weighted_loss);
}

// Dozens of candidate pairs per body: more than the pair slots' first size, so the forward pass
// reports the count, the slots grow and the pass runs again; a second call starts with the room
// the first one learned.
TEST(RigidRolloutGpu, CrowdsBeyondTheFirstRoomForPairsMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  const maya::test::RigidBatch crowd = maya::test::circle_crowd_batch(10, 2);
  expect_gpu_matches_cpu(crowd, 60, maya::test::weighted_loss);
  expect_gpu_matches_cpu(crowd, 60, maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, BodyContactRepeatedCallsAgree) {
  MAYA_REQUIRE_GPU();
  const maya::test::RigidBatch batch =
      maya::test::pile_batch(3, maya::rigid::NormalForceLaw::kKelvinVoigt);
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 200, .device = maya::Device::kCuda};
  const RigidRolloutGradients a = maya::rigid::rigid_rollout_gradient(
      batch.world, batch.worlds, maya::test::weighted_loss, options);
  const RigidRolloutGradients b = maya::rigid::rigid_rollout_gradient(
      batch.world, batch.worlds, maya::test::weighted_loss, options);
  EXPECT_EQ(rigid_relative_error(a.final_state, b.final_state), 0.0);
  EXPECT_EQ(rigid_relative_error(a.state, b.state), 0.0);
  EXPECT_EQ(rigid_relative_error(a.vertices, b.vertices), 0.0);
  EXPECT_EQ(rigid_relative_error(a.stiffness, b.stiffness), 0.0);
}

// Calls into earlier results, with and without body-body contact: the same bits as fresh calls.
TEST(RigidRolloutGpu, ResultsIntoEarlierResultsMatchAFreshCall) {
  MAYA_REQUIRE_GPU();
  const RigidRolloutOptions options{.dt = 1e-3, .steps = 100, .device = maya::Device::kCuda};
  for (const maya::test::RigidBatch& batch :
       {maya::test::w4_batch(8, 4),
        maya::test::pile_batch(3, maya::rigid::NormalForceLaw::kKelvinVoigt)}) {
    const RigidRolloutGradients fresh = maya::rigid::rigid_rollout_gradient(
        batch.world, batch.worlds, maya::test::weighted_loss, options);
    RigidRolloutGradients out;
    for (int round = 0; round < 2; ++round) {
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, maya::test::weighted_loss,
                                          options, out);
      maya::test::expect_same_rigid_results(out, fresh);
    }
  }
}

}  // namespace
