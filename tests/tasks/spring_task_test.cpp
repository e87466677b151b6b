#include "maya/tasks/spring_task.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "maya/optim/objective.hpp"

namespace {

maya::io::TaskSpec free_fall_task() {
  return maya::io::parse_task_text(R"({
    "scene": {"dt": 0.01, "steps": 100, "gravity": [0, -10],
              "particles": [{"position": [0, 0], "velocity": [1, 2]}]},
    "parameters": [{"of": "particles[0].velocity"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [3, 1]}})");
}

}  // namespace

TEST(Simulate, FreeFallMatchesSemiImplicitEulerClosedForm) {
  maya::io::SceneSpec scene = free_fall_task().scene;
  const maya::io::Trajectory trajectory = maya::tasks::simulate(scene);
  ASSERT_EQ(trajectory.num_frames(), 101u);
  // Semi-implicit Euler: x_n = x0 + n dt v0 + g dt^2 n (n + 1) / 2.
  const double n = 100, dt = 0.01;
  EXPECT_NEAR(trajectory.position(100, 0, 0), n * dt * 1.0, 1e-12);
  EXPECT_NEAR(trajectory.position(100, 0, 1), n * dt * 2.0 - 10.0 * dt * dt * n * (n + 1) / 2,
              1e-12);
  EXPECT_NEAR(trajectory.velocities.back(), 2.0 - 10.0, 1e-12);
}

TEST(SpringTask, ReachTargetGradientIsTheClosedForm) {
  const maya::tasks::SpringTask task(free_fall_task());
  const maya::optim::ParameterSet parameters = task.parameters();
  std::vector<maya::Tensor> values(parameters.values().begin(), parameters.values().end());
  std::vector<maya::Tensor> gradients = {maya::Tensor::zeros({2})};
  const double loss = maya::optim::tape_objective(task.loss_function())(values, gradients);
  // x(T) = T v0 + c, so d|x - target|^2/dv0 = 2 T (x - target), T = 1 s.
  const maya::io::Trajectory trajectory = maya::tasks::simulate(task.spec().scene);
  const double miss_x = trajectory.position(100, 0, 0) - 3.0;
  const double miss_y = trajectory.position(100, 0, 1) - 1.0;
  EXPECT_NEAR(loss, miss_x * miss_x + miss_y * miss_y, 1e-12);
  EXPECT_NEAR(gradients[0].data()[0], 2.0 * miss_x, 1e-10);
  EXPECT_NEAR(gradients[0].data()[1], 2.0 * miss_y, 1e-10);
}

TEST(GradcheckTask, SpringStiffnessGradientMatchesCentralDifferences) {
  const maya::tasks::SpringTask task(maya::io::parse_task_text(R"({
    "scene": {"dt": 0.005, "steps": 80, "gravity": [0, 0],
              "particles": [{"position": [0, 0]}, {"position": [1.2, 0.1], "velocity": [0, 1]}],
              "springs": [{"i": 0, "j": 1, "stiffness": 20, "damping": 0.3, "rest_length": 1}]},
    "parameters": [{"of": "springs.stiffness", "initial": 12}, {"of": "springs.damping"}],
    "loss": {"type": "match_trajectory",
             "observed": {"simulate_with": {"springs.stiffness": 20}}}})"));
  const maya::tasks::GradcheckSummary summary = maya::tasks::gradcheck_task(task, 1e-6);
  ASSERT_EQ(summary.worst.size(), 2u);
  EXPECT_LT(summary.max_error(), 1e-6);
  EXPECT_GT(summary.loss, 0.0);
  EXPECT_EQ(task.true_values().size(), 0u);  // damping has no hidden truth
}

TEST(SceneJson, RoundTripsThroughTheParser) {
  const maya::io::SceneSpec scene = free_fall_task().scene;
  const maya::io::SceneSpec again = maya::io::parse_scene_text(maya::io::scene_json(scene));
  EXPECT_EQ(again.steps, scene.steps);
  EXPECT_EQ(again.particles[0].velocity, scene.particles[0].velocity);
  EXPECT_EQ(again.gravity, scene.gravity);
}
