// The walking robots on the GPU (one thread block per robot) against the CPU: the fused rollout's
// CPU twin (the same phases on one thread) and walk_distance on the tape, distances and every
// controller gradient to 1e-10 relative; over the demo's full 1000 steps, within the CPU's own
// sensitivity to rounding. Skipped where no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <maya/maya.hpp>
#include <maya/tasks/walker.hpp>
#include <vector>

namespace {

using maya::Device;
using maya::Tensor;
using maya::tasks::WalkerOptions;
using maya::tasks::WalkerRollout;

#define MAYA_REQUIRE_WALKER_GPU()                                                        \
  if (maya::tasks::walker_cuda_devices() == 0) {                                         \
    GTEST_SKIP() << "no CUDA GPU here (or maya built without CUDA): nothing to compare"; \
  }

double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a.data()[i]) || !std::isfinite(b.data()[i])) return 1.0;
    const double d = a.data()[i] - b.data()[i];
    diff += d * d;
    norm += b.data()[i] * b.data()[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

double worst_gradient_error(const WalkerRollout& a, const WalkerRollout& b) {
  double worst = 0.0;
  for (std::size_t k = 0; k < 4; ++k) {
    worst = std::max(worst, relative_error(a.gradient[k], b.gradient[k]));
  }
  return worst;
}

// Initial controllers moved by uniform noise, so that biases and every path are exercised.
std::vector<Tensor> varied_controllers(const WalkerOptions& options) {
  WalkerOptions on_cpu = options;
  on_cpu.device = Device::kCpu;
  const maya::tasks::WalkerTraining training(on_cpu);
  std::vector<Tensor> values(training.controllers().values().begin(),
                             training.controllers().values().end());
  for (Tensor& value : values) {
    const Tensor shift = Tensor::uniform(value.shape(), -0.3, 0.3, 5);
    for (std::size_t i = 0; i < value.numel(); ++i) value.mutable_data()[i] += shift.data()[i];
  }
  return values;
}

}  // namespace

// 150 steps (the feet land, slip and push off): the GPU against the CPU twin and the tape.
TEST(GpuWalker, MatchesTheCpuTwinAndTheTapeOverAShortRollout) {
  MAYA_REQUIRE_WALKER_GPU();
  WalkerOptions options;
  options.robots = 20;
  options.steps = 150;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  const std::vector<Tensor> controllers = varied_controllers(options);
  const WalkerRollout cpu =
      maya::tasks::walker_rollout(options, robot, controllers, Device::kCpu, true);
  const WalkerRollout gpu =
      maya::tasks::walker_rollout(options, robot, controllers, Device::kCuda, true);
  for (std::size_t e = 0; e < options.robots; ++e) {
    EXPECT_NEAR(gpu.distance[e], cpu.distance[e], 1e-12) << "robot " << e;
  }
  EXPECT_LE(worst_gradient_error(gpu, cpu), 1e-10);
  EXPECT_GT(gpu.kernel_seconds, 0.0);

  maya::TensorTape tape;
  const maya::tasks::WalkerController c{tape.var(controllers[0]), tape.var(controllers[1]),
                                        tape.var(controllers[2]), tape.var(controllers[3])};
  const maya::TensorVar distance = maya::tasks::walk_distance(options, robot, c);
  const auto g = tape.grad(-maya::sum(distance));
  const Tensor composed[4] = {g[c.w1], g[c.b1], g[c.w2], g[c.b2]};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_LE(relative_error(gpu.gradient[k], composed[k]), 1e-10) << "controller " << k;
  }
}

// The demo's 1000 steps: contact switching amplifies rounding, so two correct implementations
// agree only as well as the CPU agrees with itself when its controllers move by 1e-15 relative.
TEST(GpuWalker, MatchesTheCpuOver1000StepsWithinRoundingSensitivity) {
  MAYA_REQUIRE_WALKER_GPU();
  WalkerOptions options;
  options.robots = 8;
  options.steps = 1000;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  std::vector<Tensor> controllers = varied_controllers(options);
  const WalkerRollout cpu =
      maya::tasks::walker_rollout(options, robot, controllers, Device::kCpu, true);
  std::vector<Tensor> moved = controllers;
  for (double& w : moved[0].mutable_data()) w *= 1.0 + 1e-15;
  const WalkerRollout cpu_moved =
      maya::tasks::walker_rollout(options, robot, moved, Device::kCpu, true);
  const double sensitivity = worst_gradient_error(cpu_moved, cpu);
  const WalkerRollout gpu =
      maya::tasks::walker_rollout(options, robot, controllers, Device::kCuda, true);
  const double error = worst_gradient_error(gpu, cpu);
  std::printf("  1000 steps: gpu vs cpu %.2e, cpu vs cpu with W1 moved by 1e-15 %.2e\n", error,
              sensitivity);
  EXPECT_LE(error, std::max(1e-10, 10 * sensitivity));
  double worst_distance = 0.0;
  for (std::size_t e = 0; e < options.robots; ++e) {
    worst_distance = std::max(worst_distance, std::abs(gpu.distance[e] - cpu.distance[e]));
  }
  EXPECT_LE(worst_distance, std::max(1e-10, 1e3 * sensitivity)) << "distances (m)";
}

// Training on the GPU: every robot walks farther, and each best controller, walked again on the
// GPU, covers the distance it was kept for.
TEST(GpuWalker, TrainingMakesEveryRobotWalkFartherAndKeepsTheBest) {
  MAYA_REQUIRE_WALKER_GPU();
  WalkerOptions options;
  options.robots = 64;
  options.steps = 300;
  options.device = Device::kCuda;
  maya::tasks::WalkerTraining training(options);
  const std::vector<double> untrained = training.distances();
  for (int k = 0; k < 20; ++k) (void)training.iterate();
  const std::vector<double> trained = training.distances();
  EXPECT_EQ(training.history().front(), untrained);
  const double length = training.robot().body_length;
  std::size_t improved = 0;
  for (std::size_t e = 0; e < options.robots; ++e) improved += trained[e] > untrained[e] ? 1 : 0;
  EXPECT_GE(improved, options.robots * 9 / 10);
  EXPECT_GT(*std::max_element(trained.begin(), trained.end()), 0.5 * length);
  for (const std::size_t e : {std::size_t{0}, std::size_t{63}}) {
    const maya::io::Trajectory walk = training.record_best(e, 1);
    ASSERT_EQ(walk.num_frames(), options.steps + 1);
    double distance = 0.0;
    for (std::size_t i = 0; i < walk.num_particles; ++i) {
      distance += (walk.position(options.steps, i, 0) - walk.position(0, i, 0)) /
                  static_cast<double>(walk.num_particles);
    }
    EXPECT_NEAR(distance, training.best_distances()[e], 1e-12) << "robot " << e;
  }
}

// WalkerTraining on the GPU keeps the controllers, Adam's moments and the best controllers on the
// device. Its twin here: the GPU's rollout and gradient copied to the host each iteration, then
// optim::Adam and the best-controller bookkeeping on the host. The same gradients and the same
// Adam arithmetic give the same controllers, so the learning curves, the best distances and
// controllers and the final controllers agree bit for bit (asked for to 1e-13 relative).
TEST(GpuWalker, TrainingOnTheDeviceMatchesAdamOnTheHost) {
  MAYA_REQUIRE_WALKER_GPU();
  WalkerOptions options;
  options.robots = 24;
  options.steps = 200;
  options.learning_rate = 0.03;
  options.device = Device::kCuda;
  constexpr std::size_t kIterations = 8;
  maya::tasks::WalkerTraining training(options);

  WalkerOptions on_cpu = options;
  on_cpu.device = Device::kCpu;
  const maya::tasks::WalkerTraining initial(on_cpu);
  maya::optim::ParameterSet host = initial.controllers();
  maya::optim::Adam adam(host, {.learning_rate = options.learning_rate});
  const std::size_t e = options.robots;
  std::vector<double> best(e, -std::numeric_limits<double>::infinity());
  std::vector<std::size_t> best_iteration(e, 0);
  std::vector<Tensor> best_controllers(host.values().begin(), host.values().end());
  std::vector<std::vector<double>> history;
  for (std::size_t k = 0; k < kIterations; ++k) {
    WalkerRollout r =
        maya::tasks::walker_rollout(options, training.robot(), host.values(), Device::kCuda, true);
    for (std::size_t w = 0; w < e; ++w) {
      bool finite = true;
      for (const Tensor& g : r.gradient) {
        const std::size_t per = g.numel() / e;
        for (std::size_t i = w * per; i < (w + 1) * per; ++i) finite &= std::isfinite(g.data()[i]);
      }
      if (!finite) {
        for (Tensor& g : r.gradient) {
          const std::size_t per = g.numel() / e;
          for (std::size_t i = w * per; i < (w + 1) * per; ++i) g.mutable_data()[i] = 0.0;
        }
      }
      if (r.distance[w] > best[w]) {
        best[w] = r.distance[w];
        best_iteration[w] = k;
        for (std::size_t p = 0; p < 4; ++p) {
          const std::size_t per = host.value(p).numel() / e;
          for (std::size_t i = w * per; i < (w + 1) * per; ++i) {
            best_controllers[p].mutable_data()[i] = host.value(p).data()[i];
          }
        }
      }
    }
    adam.step(r.gradient);
    history.push_back(r.distance);
    const std::vector<double> walked = training.iterate();
    ASSERT_EQ(walked.size(), e);
    double worst = 0.0;
    for (std::size_t w = 0; w < e; ++w) {
      worst = std::max(
          worst, std::abs(walked[w] - history[k][w]) / std::max(1e-3, std::abs(history[k][w])));
    }
    EXPECT_LE(worst, 1e-13) << "iteration " << k;
  }
  EXPECT_EQ(training.best_iterations(), best_iteration);
  double worst_best = 0.0;
  for (std::size_t w = 0; w < e; ++w) {
    worst_best = std::max(worst_best, std::abs(training.best_distances()[w] - best[w]));
  }
  EXPECT_LE(worst_best, 1e-13);
  const std::vector<Tensor> device_best = training.best_controllers();
  double worst_controller = 0.0;
  for (std::size_t p = 0; p < 4; ++p) {
    worst_controller =
        std::max({worst_controller, relative_error(training.controllers().value(p), host.value(p)),
                  relative_error(device_best[p], best_controllers[p])});
  }
  std::printf(
      "  %zu iterations of %zu robots: distances differ by %.2e m at most, controllers "
      "by %.2e relative\n",
      kIterations, e, worst_best, worst_controller);
  EXPECT_LE(worst_controller, 1e-13);
  // The best controllers walk their best distances again.
  const std::vector<double> again =
      maya::tasks::walker_rollout(options, training.robot(), device_best, Device::kCuda, false)
          .distance;
  for (std::size_t w = 0; w < e; ++w) {
    EXPECT_NEAR(again[w], training.best_distances()[w], 1e-12) << "robot " << w;
  }
}
