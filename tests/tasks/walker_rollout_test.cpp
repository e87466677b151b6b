// The fused walker rollout (one loop per phase, a hand-written adjoint) against its composed
// twin walk_distance (tensor ops on the tape): distances and every controller gradient to 1e-10
// relative, on the CPU; the GPU's kernels run the same phases (tests/gpu/walker_gpu_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/tasks/walker.hpp>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::tasks::WalkerOptions;

double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const double d = a.data()[i] - b.data()[i];
    diff += d * d;
    norm += b.data()[i] * b.data()[i];
  }
  return std::sqrt(diff / norm);
}

// Controllers moved off their initial values (biases zero there), so every path is exercised.
std::vector<Tensor> varied_controllers(const WalkerOptions& options) {
  const maya::tasks::WalkerTraining training(options);
  std::vector<Tensor> values(training.controllers().values().begin(),
                             training.controllers().values().end());
  for (Tensor& value : values) {
    const Tensor shift = Tensor::uniform(value.shape(), -0.3, 0.3, 5);
    for (std::size_t i = 0; i < value.numel(); ++i) value.mutable_data()[i] += shift.data()[i];
  }
  return values;
}

struct TapeResult {
  std::vector<double> distance;
  std::vector<Tensor> gradient;
};

TapeResult on_tape(const WalkerOptions& options, const maya::tasks::WalkerRobot& robot,
                   const std::vector<Tensor>& controllers) {
  TensorTape tape;
  const maya::tasks::WalkerController c{tape.var(controllers[0]), tape.var(controllers[1]),
                                        tape.var(controllers[2]), tape.var(controllers[3])};
  const TensorVar distance = maya::tasks::walk_distance(options, robot, c);
  const auto g = tape.grad(-maya::sum(distance));
  const auto d = distance.view().data();
  return {{d.begin(), d.end()}, {g[c.w1], g[c.b1], g[c.w2], g[c.b2]}};
}

}  // namespace

// 150 steps: the feet land, slip and push off (contact and friction active), short enough that
// rounding differences between the two are not yet amplified by the contact switching.
TEST(WalkerRollout, FusedCpuMatchesTheTapeTwin) {
  WalkerOptions options;
  options.robots = 3;
  options.steps = 150;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  const std::vector<Tensor> controllers = varied_controllers(options);
  const TapeResult tape = on_tape(options, robot, controllers);
  const maya::tasks::WalkerRollout fused =
      maya::tasks::walker_rollout(options, robot, controllers, maya::Device::kCpu, true);
  ASSERT_EQ(fused.distance.size(), 3u);
  ASSERT_EQ(fused.gradient.size(), 4u);
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_NEAR(fused.distance[e], tape.distance[e], 1e-12) << "robot " << e;
    EXPECT_NE(fused.distance[e], 0.0);
  }
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_LE(relative_error(fused.gradient[k], tape.gradient[k]), 1e-10) << "controller " << k;
  }
}

// The same open loop (the sines alone) with a small network. (Without friction nothing pushes a
// robot along x: its distance and gradient are zero.)
TEST(WalkerRollout, FusedCpuMatchesTheTapeTwinOpenLoop) {
  WalkerOptions options;
  options.robots = 2;
  options.steps = 120;
  options.hidden = 5;
  options.sine_waves = 3;
  options.state_input = 0.0;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  const std::vector<Tensor> controllers = varied_controllers(options);
  const TapeResult tape = on_tape(options, robot, controllers);
  const maya::tasks::WalkerRollout fused =
      maya::tasks::walker_rollout(options, robot, controllers, maya::Device::kCpu, true);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_LE(relative_error(fused.gradient[k], tape.gradient[k]), 1e-10) << "controller " << k;
  }
}

// Recording through the fused rollout gives the tape's frames.
TEST(WalkerRollout, RecordsTheTapesFrames) {
  WalkerOptions options;
  options.robots = 2;
  options.steps = 40;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  const std::vector<Tensor> controllers = varied_controllers(options);
  maya::io::Trajectory fused;
  (void)maya::tasks::walker_rollout(options, robot, controllers, maya::Device::kCpu, false, &fused,
                                    1, 4);
  maya::io::Trajectory tape;
  TensorTape t;
  (void)maya::tasks::walk_distance(options, robot,
                                   {t.constant(controllers[0]), t.constant(controllers[1]),
                                    t.constant(controllers[2]), t.constant(controllers[3])},
                                   &tape, 1, 4);
  ASSERT_EQ(fused.num_frames(), 11u);
  ASSERT_EQ(fused.positions.size(), tape.positions.size());
  for (std::size_t i = 0; i < tape.positions.size(); ++i) {
    EXPECT_NEAR(fused.positions[i], tape.positions[i], 1e-12);
  }
  EXPECT_EQ(fused.times, tape.times);
}

TEST(WalkerRollout, BadInputIsNamed) {
  WalkerOptions options;
  options.robots = 2;
  options.steps = 5;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  std::vector<Tensor> controllers = varied_controllers(options);
  maya::io::Trajectory trajectory;
  EXPECT_THROW((void)maya::tasks::walker_rollout(options, robot, controllers, maya::Device::kCpu,
                                                 false, &trajectory, 2),
               maya::ValueError);
  controllers[1] = Tensor::zeros({2, 1, 3});
  EXPECT_THROW(
      (void)maya::tasks::walker_rollout(options, robot, controllers, maya::Device::kCpu, false),
      maya::ShapeError);
  if (maya::tasks::walker_cuda_devices() == 0) {
    options.device = maya::Device::kCuda;
    EXPECT_THROW(maya::tasks::WalkerTraining{options}, maya::DeviceError);
  }
}
