// The CUDA rigid rollout kernels against the CPU fused step: the loss, the final state and every
// gradient to 1e-10 relative, on W4's boxes (many worlds), on a mixed scene of boxes, a triangle
// and circles over two grounds with damping under both normal laws, and on more worlds than one
// block holds. Skipped where no GPU is present.
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

void expect_gpu_matches_cpu(const maya::test::RigidBatch& batch, std::size_t steps,
                            const maya::rigid::FinalStateLoss& loss, double tolerance = 1e-10) {
  RigidRolloutOptions options{.dt = 1e-3, .steps = steps};
  const RigidRolloutGradients cpu =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, loss, options);
  options.device = maya::Device::kCuda;
  const RigidRolloutGradients gpu =
      maya::rigid::rigid_rollout_gradient(batch.world, batch.worlds, loss, options);
  EXPECT_GT(gpu.kernel_seconds_forward, 0.0);
  EXPECT_GT(gpu.kernel_seconds_reverse, 0.0);
  const std::pair<const char*, std::pair<const Tensor*, const Tensor*>> pairs[] = {
      {"loss", {&gpu.loss, &cpu.loss}},
      {"final state", {&gpu.final_state, &cpu.final_state}},
      {"state", {&gpu.state, &cpu.state}},
      {"mass", {&gpu.mass, &cpu.mass}},
      {"inertia", {&gpu.inertia, &cpu.inertia}},
      {"vertices", {&gpu.vertices, &cpu.vertices}},
      {"radius", {&gpu.radius, &cpu.radius}},
      {"applied", {&gpu.applied, &cpu.applied}},
      {"stiffness", {&gpu.stiffness, &cpu.stiffness}},
      {"damping", {&gpu.damping, &cpu.damping}},
      {"friction", {&gpu.friction, &cpu.friction}}};
  for (const auto& [name, tensors] : pairs) {
    ASSERT_EQ(tensors.first->shape(), tensors.second->shape()) << name;
    EXPECT_LE(rigid_relative_error(*tensors.first, *tensors.second), tolerance) << name;
  }
}

TEST(RigidRolloutGpu, W4BoxesOfManyWorldsMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::w4_batch(16, 8), 400, maya::test::w4_loss);
}

TEST(RigidRolloutGpu, MoreWorldsThanOneBlockMatchTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::w4_batch(3, 100), 300, maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, KelvinVoigtMixedSceneMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::mixed_batch(5, maya::rigid::NormalForceLaw::kKelvinVoigt), 400,
                         maya::test::weighted_loss);
}

TEST(RigidRolloutGpu, HuntCrossleyMixedSceneMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_gpu_matches_cpu(maya::test::mixed_batch(5, maya::rigid::NormalForceLaw::kHuntCrossley),
                         400, maya::test::weighted_loss);
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

TEST(RigidRolloutGpu, BodyContactIsAValueError) {
  MAYA_REQUIRE_GPU();
  maya::test::RigidBatch batch = maya::test::w4_batch(2, 2);
  maya::rigid::RigidWorldOptions options = batch.world.options();
  options.body_contacts = true;
  const maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(2, maya::rigid::BodyShape::box(0.2, 0.1)), options);
  EXPECT_THROW((void)maya::rigid::rigid_rollout_gradient(
                   world, batch.worlds, maya::test::w4_loss,
                   {.dt = 1e-3, .steps = 10, .device = maya::Device::kCuda}),
               maya::ValueError);
}

}  // namespace
