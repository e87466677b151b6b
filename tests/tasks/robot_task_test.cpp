// Robot tasks: the task gradient (through the fused multibody steps, with respect to model
// parameters, the initial state and the control knots) against central differences, fits that
// recover a known mass and reach a target, and bad input named by file and field.
#include "maya/tasks/robot_task.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"

namespace {

namespace fs = std::filesystem;
namespace mb = maya::multibody;
using maya::tasks::RobotTask;

const fs::path kScenes = fs::path(MAYA_SOURCE_DIR) / "examples" / "scenes";

RobotTask task_of(const std::string& text) {
  return RobotTask(maya::io::parse_robot_task_text(text, "task.json", kScenes));
}

std::string parse_error(const std::string& text) {
  try {
    static_cast<void>(maya::io::parse_robot_task_text(text, "task.json", kScenes));
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  return "no error";
}

TEST(RobotTask, GradientOfEveryKindOfParameterMatchesCentralDifferences) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  // The arm: a body's mass, centre of mass and joint offset, every joint's damping, the initial
  // velocities, the control knots; the tool's reach, joint matching, effort and final velocity.
  const RobotTask task = task_of(R"({
    "robot": "../robots/arm7.urdf", "steps": 40, "dt": 0.001,
    "controls": {"knots": 4, "initial": [1, -2, 0.5, 1, -0.3, 0.2, 0.1]},
    "initial_state": {"qdot": [0.3, -0.2, 0.1, 0.4, -0.1, 0.2, 0.3]},
    "parameters": [
      {"of": "bodies[link3].mass"}, {"of": "bodies[link2].com", "shared": true},
      {"of": "bodies[link4].joint_position"},
      {"of": "joints.damping", "shared": false, "initial": 0.05},
      {"of": "initial_state.qdot"}, {"of": "controls"}],
    "loss": [
      {"type": "reach_target", "body": "tool", "point": [0, 0, 0.05], "target": [0.3, 0.2, 0.9]},
      {"type": "match_joints", "observed": {"simulate_with": {"bodies[link3].mass": 2.5}},
       "joints": ["joint2", "joint4"], "every": 5},
      {"type": "control_effort", "weight": 0.01},
      {"type": "final_velocity", "weight": 0.1}]})");
  const maya::tasks::GradcheckSummary summary = maya::tasks::gradcheck_robot_task(task, 1e-6);
  ASSERT_EQ(summary.worst.size(), 6u);
  for (const auto& entry : summary.worst) {
    EXPECT_LT(entry.relative_error, 1e-5) << entry.parameter << "[" << entry.entry
                                          << "]: " << entry.analytic << " vs " << entry.numeric;
  }
  EXPECT_GT(summary.loss, 0.0);
}

TEST(RobotTask, RungeKuttaGradientsMatchCentralDifferences) {
  if (!mb::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  // The cart-pole (MJCF) under RK4, its pole's mass and inertia and the contact-free joints.
  const RobotTask task = task_of(R"({
    "robot": "../robots/cartpole.xml", "steps": 30, "dt": 0.01, "integrator": "rk4",
    "initial_state": {"q": [0.1, 0.5]},
    "controls": {"knots": 3, "initial": 2},
    "parameters": [{"of": "bodies.mass", "shared": false}, {"of": "bodies[pole].inertia"},
                   {"of": "initial_state.q"}, {"of": "controls"}],
    "loss": [{"type": "match_joints", "observed": {"simulate_with": {"bodies.mass": 1.3}}},
             {"type": "final_velocity"}]})");
  const maya::tasks::GradcheckSummary summary = maya::tasks::gradcheck_robot_task(task, 1e-6);
  for (const auto& entry : summary.worst) {
    EXPECT_LT(entry.relative_error, 1e-5) << entry.parameter << "[" << entry.entry << "]";
  }
}

TEST(RobotTask, FitRecoversThePendulumsMassAndDampingFromMeasuredAngles) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  // examples/scenes/data/pendulum_angles.npy: maya simulate of the pendulum with a 1.5 kg pole
  // and joint damping 0.05 under the task's torque pulse.
  const RobotTask task(maya::io::load_robot_task(kScenes / "pendulum_mass.json"));
  maya::optim::ParameterSet parameters = task.parameters();
  maya::optim::MinimizeOptions options;
  options.max_iterations = 100;
  options.tolerance = 1e-12;
  maya::optim::Lbfgs optimizer(parameters);
  const maya::optim::Result result = optimizer.minimize(task.objective(), options);
  EXPECT_LT(result.loss, 1e-16);
  EXPECT_NEAR(parameters.value("mass").data()[0], 1.5, 1.5e-6);
  EXPECT_NEAR(parameters.value("damping").data()[0], 0.05, 0.05e-5);
}

TEST(RobotTask, SimulateWithGivesTheTrueValuesAndAFitFindsThem) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const RobotTask task = task_of(R"({
    "robot": "../robots/pendulum.urdf", "steps": 200, "dt": 0.005, "integrator": "rk4",
    "initial_state": {"q": [1.2]},
    "parameters": [{"of": "bodies[pole].mass", "initial": 0.6, "log_scale": true}],
    "loss": {"type": "match_joints", "observed": {"simulate_with": {"bodies[pole].mass": 2}}}})");
  ASSERT_EQ(task.true_values(), (std::vector<std::vector<double>>{{2.0}}));
  maya::optim::ParameterSet parameters = task.parameters();
  maya::optim::MinimizeOptions options;
  options.max_iterations = 60;
  options.tolerance = 1e-12;
  maya::optim::Lbfgs optimizer(parameters);
  static_cast<void>(optimizer.minimize(task.objective(), options));
  EXPECT_NEAR(parameters.value(0).data()[0], 2.0, 1e-6);
}

TEST(RobotTask, ArmLearnsKnotTorquesThatBringItsToolToTheTarget) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const RobotTask task(maya::io::load_robot_task(kScenes / "arm_reach.json"));
  maya::optim::ParameterSet parameters = task.parameters();
  const double first = task.loss(parameters.values());
  maya::optim::MinimizeOptions options;
  options.max_iterations = task.spec().optimizer.iterations;
  maya::optim::AdamOptions adam;
  adam.learning_rate = task.spec().optimizer.learning_rate;
  maya::optim::Adam optimizer(parameters, adam);
  static_cast<void>(optimizer.minimize(task.objective(), options));
  // Replayed by the plain simulator: the tool within 1 cm of the target.
  const std::vector<double> states = task.rollout(parameters.values());
  const mb::Model& arm = task.model();
  const std::size_t steps = task.spec().steps, tool = arm.body_index("tool");
  const std::vector<double> poses = mb::body_poses(
      arm, arm.parameters(), std::span<const double>(states.data() + steps * arm.nx(), arm.nq()));
  const auto target = task.targets().at(0);
  double squared = 0.0;
  for (int k = 0; k < 3; ++k) squared += std::pow(poses[7 * tool + k] - target[k], 2);
  EXPECT_LT(std::sqrt(squared), 0.01) << "from a loss of " << first;
}

TEST(RobotTask, ControlsOfAKnotDriveItsShareOfTheSteps) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const RobotTask task = task_of(R"({
    "robot": "../robots/pendulum.urdf", "steps": 10, "controls": {"knots": 4,
    "initial": [[1], [2], [3], [4]]},
    "parameters": [{"of": "controls"}], "loss": {"type": "control_effort"}})");
  const std::vector<double> per_step = task.step_controls(task.spec().controls);
  EXPECT_EQ(per_step, (std::vector<double>{1, 1, 1, 2, 2, 3, 3, 3, 4, 4}));
  // The effort is the mean of u^2 over the steps.
  EXPECT_NEAR(task.loss(task.parameters().values()), (3 * 1 + 2 * 4 + 3 * 9 + 2 * 16) / 10.0,
              1e-12);
}

TEST(RobotTask, PositionServosTakeTheControlsAsJointTargets) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const RobotTask task = task_of(R"({
    "robot": "../robots/pendulum.urdf", "steps": 2000, "dt": 0.002,
    "controls": {"actuator": "position", "kp": 200, "kv": 20, "initial": 0.7},
    "parameters": [{"of": "controls"}], "loss": {"type": "final_velocity"}})");
  EXPECT_EQ(task.model().actuators().at(0).type, mb::ActuatorType::kPosition);
  const std::vector<double> states = task.rollout(task.parameters().values());
  // The servo holds the pole near its target, pulled off by gravity: kp (0.7 - q) = m g d sin q.
  const double q = states[2000 * 2];
  EXPECT_NEAR(200 * (0.7 - q), 1.0 * 9.81 * 0.5 * std::sin(q), 1e-3);
}

TEST(RobotTaskFile, BadInputNamesTheFileAndTheField) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const std::string missing = parse_error(R"({"robot": "../robots/nothere.urdf", "steps": 10,
      "parameters": [{"of": "controls"}], "loss": {"type": "control_effort"}})");
  EXPECT_NE(missing.find("task.json: task.robot:"), std::string::npos) << missing;
  EXPECT_NE(missing.find("nothere.urdf"), std::string::npos) << missing;

  const std::string body = parse_error(R"({"robot": "../robots/arm7.urdf", "steps": 10,
      "parameters": [{"of": "controls"}],
      "loss": {"type": "reach_target", "body": "toool", "target": [0, 0, 1]}})");
  EXPECT_NE(body.find("task.loss.body"), std::string::npos) << body;
  EXPECT_NE(body.find("'toool'"), std::string::npos) << body;
  EXPECT_NE(body.find("did you mean 'tool'"), std::string::npos) << body;

  const std::string selector = parse_error(R"({"robot": "../robots/arm7.urdf", "steps": 10,
      "parameters": [{"of": "bodies[link9].mass"}], "loss": {"type": "control_effort"}})");
  EXPECT_NE(selector.find("task.parameters[0].of"), std::string::npos) << selector;
  EXPECT_NE(selector.find("no body 'link9' in arm7.urdf"), std::string::npos) << selector;

  const std::string joint = parse_error(R"({"robot": "../robots/pendulum.urdf", "steps": 10,
      "parameters": [{"of": "joints[hing].damping"}], "loss": {"type": "control_effort"}})");
  EXPECT_NE(joint.find("did you mean 'hinge'"), std::string::npos) << joint;

  // pendulum_angles.npy is [401, 1]: too long for 100 steps, and the arm has 7 joints.
  const std::string long_file = parse_error(R"({"robot": "../robots/pendulum.urdf", "steps": 100,
      "parameters": [{"of": "bodies.mass"}],
      "loss": {"type": "match_joints", "observed": "data/pendulum_angles.npy"}})");
  EXPECT_NE(long_file.find("task.loss.observed: pendulum_angles.npy"), std::string::npos)
      << long_file;
  EXPECT_NE(long_file.find("got [401, 1]"), std::string::npos) << long_file;
  const std::string columns = parse_error(R"({"robot": "../robots/arm7.urdf", "steps": 400,
      "parameters": [{"of": "bodies.mass"}],
      "loss": [{"type": "control_effort"},
               {"type": "match_joints", "observed": {"file": "data/pendulum_angles.npy"}}]})");
  EXPECT_NE(columns.find("task.loss[1].observed.file: pendulum_angles.npy: expected joint "
                         "positions of shape [T, 7]"),
            std::string::npos)
      << columns;

  const std::string state = parse_error(R"({"robot": "../robots/pendulum.urdf", "steps": 10,
      "initial_state": {"q": [1, 2]}, "parameters": [{"of": "controls"}],
      "loss": {"type": "control_effort"}})");
  EXPECT_NE(state.find("task.initial_state.q: must have 1 numbers, got 2"), std::string::npos)
      << state;
}

TEST(RobotTaskFile, AMalformedRobotFileIsNamedWithItsLineAfterTheField) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const fs::path dir = fs::temp_directory_path() / "maya-robot-task-test";
  fs::create_directories(dir);
  std::ofstream(dir / "bad.urdf") << "<robot name=\"r\">\n  <link name=\"a\">\n"
                                     "    <inertial><mass value=\"-2\"/>"
                                     "<inertia ixx=\"1\" iyy=\"1\" izz=\"1\" ixy=\"0\" ixz=\"0\" "
                                     "iyz=\"0\"/></inertial>\n  </link>\n</robot>\n";
  std::string message = "no error";
  try {
    static_cast<void>(maya::io::parse_robot_task_text(
        R"({"robot": {"file": "bad.urdf", "floating_base": true}, "steps": 10,
            "parameters": [{"of": "bodies.mass"}], "loss": {"type": "final_velocity"}})",
        "task.json", dir));
  } catch (const maya::ParseError& error) {
    message = error.what();
  }
  fs::remove_all(dir);
  EXPECT_NE(message.find("task.json: task.robot.file: "), std::string::npos) << message;
  EXPECT_NE(message.find("bad.urdf:3"), std::string::npos) << message;
}

}  // namespace
