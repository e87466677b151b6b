// The walking robots: the robot's build, the gradient of the distance walked through the
// rollout, and training that makes every robot walk farther.
#include <gtest/gtest.h>

#include <algorithm>
#include <maya/maya.hpp>
#include <maya/tasks/walker.hpp>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::tasks::WalkerOptions;

}  // namespace

// 4 body cells on 1-cell legs: 10 corners on top, 4 under the legs; 4 body cells of 6 springs
// less the 3 edges they share, 2 legs of 5 more (their tops are the body's); the legs' 10
// springs below their tops are the muscles.
TEST(Walker, RobotHasItsCellsSpringsAndMuscles) {
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker({});
  EXPECT_EQ(robot.model.num_particles(), 14u);
  EXPECT_EQ(robot.model.num_springs(), 4u * 6u - 3u + 2u * 5u);
  EXPECT_EQ(robot.actuated.size(), 10u);
  EXPECT_DOUBLE_EQ(robot.body_length, 0.4);
  const auto x = robot.positions.data();
  double lowest = 1.0;
  for (std::size_t i = 0; i < 14; ++i) lowest = std::min(lowest, x[2 * i + 1]);
  EXPECT_EQ(lowest, 0.0);  // standing on the ground
}

// The distance walked is differentiated through the network and the fused batched step (with
// friction) exactly: central differences agree over a short rollout, before contact and slip
// switch often enough to make differences meaningless.
TEST(Walker, DistanceGradientMatchesCentralDifferences) {
  WalkerOptions options;
  options.robots = 2;
  options.steps = 30;
  options.hidden = 4;
  options.sine_waves = 2;
  const maya::tasks::WalkerRobot robot = maya::tasks::make_walker(options.shape);
  const maya::tasks::WalkerTraining training(options);
  std::vector<Tensor> inputs(training.controllers().values().begin(),
                             training.controllers().values().end());
  for (Tensor& input : inputs) {
    const Tensor shift = Tensor::uniform(input.shape(), -0.3, 0.3, 5);
    for (std::size_t i = 0; i < input.numel(); ++i) input.mutable_data()[i] += shift.data()[i];
  }
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        return maya::sum(maya::tasks::walk_distance(options, robot, {x[0], x[1], x[2], x[3]}) *
                         100.0);
      },
      inputs);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_LT(report.worst_error[i], 1e-5) << "input " << i;
}

// A short version of the demo: 0.6 s walks, 20 iterations. Every robot walks farther than it
// did untrained, and the best covers half a body length.
TEST(Walker, TrainingMakesEveryRobotWalkFarther) {
  WalkerOptions options;
  options.robots = 4;
  options.steps = 300;
  maya::tasks::WalkerTraining training(options);
  const std::vector<double> untrained = training.distances();
  for (int k = 0; k < 20; ++k) (void)training.iterate();
  const std::vector<double> trained = training.distances();
  ASSERT_EQ(training.history().size(), 20u);
  EXPECT_EQ(training.history().front(), untrained);
  const double length = training.robot().body_length;
  for (std::size_t e = 0; e < options.robots; ++e) {
    EXPECT_GT(trained[e] - untrained[e], 0.3 * length) << "robot " << e;
  }
  EXPECT_GT(*std::max_element(trained.begin(), trained.end()), 0.5 * length);
}

// Each robot's best controller is kept with the distance it walked, and walks it again.
TEST(Walker, KeepsEachRobotsBestController) {
  WalkerOptions options;
  options.robots = 3;
  options.steps = 200;
  maya::tasks::WalkerTraining training(options);
  for (int k = 0; k < 8; ++k) (void)training.iterate();
  for (std::size_t e = 0; e < options.robots; ++e) {
    double best = -1e300;
    std::size_t at = 0;
    for (std::size_t k = 0; k < training.history().size(); ++k) {
      if (training.history()[k][e] > best) {
        best = training.history()[k][e];
        at = k;
      }
    }
    EXPECT_EQ(training.best_distances()[e], best) << "robot " << e;
    EXPECT_EQ(training.best_iterations()[e], at) << "robot " << e;
    const maya::io::Trajectory walk = training.record_best(e, 1);
    ASSERT_EQ(walk.num_frames(), options.steps + 1);
    double distance = 0.0;
    for (std::size_t i = 0; i < walk.num_particles; ++i) {
      distance += (walk.position(options.steps, i, 0) - walk.position(0, i, 0)) /
                  static_cast<double>(walk.num_particles);
    }
    EXPECT_NEAR(distance, best, 1e-12) << "robot " << e;
  }
}

TEST(Walker, BadOptionsAreNamed) {
  WalkerOptions options;
  options.robots = 0;
  EXPECT_THROW(maya::tasks::WalkerTraining{options}, maya::ValueError);
  options = {};
  options.shape.body_cells = 1;
  EXPECT_THROW(maya::tasks::WalkerTraining{options}, maya::ValueError);
  options = {};
  options.robots = 2;
  options.steps = 5;
  const maya::tasks::WalkerTraining training(options);
  EXPECT_THROW((void)training.record(2), maya::ValueError);
}
