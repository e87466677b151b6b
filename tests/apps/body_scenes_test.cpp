// Scenes and tasks with rigid bodies through the maya program, under hard contact (restitution,
// friction, joints) and penalty contact: every example runs, fits and passes gradcheck.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"

namespace {

using maya::test::CliResult;
using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
namespace fs = std::filesystem;

}  // namespace

TEST(MayaBodies, HardContactAndPenaltyScenesRun) {
  for (const char* scene : {"billiards_hard.json", "pendulum_hard.json", "rigid_collision.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"simulate", example(scene).string(), "-o", out.string()}, dir.path());
    ASSERT_EQ(result.status, 0) << scene << result.err;
    EXPECT_TRUE(fs::exists(out / "body_poses.npy")) << scene;
    EXPECT_TRUE(fs::exists(out / "viewer.html")) << scene;
  }
}

TEST(MayaBodies, HardContactPendulumKeepsItsJoint) {
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  ASSERT_EQ(
      run_cli({"simulate", example("pendulum_hard.json").string(), "-o", out.string()}, dir.path())
          .status,
      0);
  // The box's end (0.3 m from its centre along its long axis) stays at the pivot (0, 1).
  const std::string csv = maya::test::slurp(out / "bodies.csv");
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // header
  double worst = 0.0;
  while (std::getline(lines, line)) {
    std::istringstream row(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(row, cell, ',')) values.push_back(std::stod(cell));
    if (values[2] != 0) continue;  // body 0 only
    const double end_x = values[3] - 0.3 * std::sin(values[5]);
    const double end_y = values[4] + 0.3 * std::cos(values[5]);
    worst = std::max(worst, std::hypot(end_x - 0.0, end_y - 1.0));
  }
  EXPECT_LT(worst, 0.01);
}

TEST(MayaBodies, ExampleTasksHoldTheTruthInTheirIntervalsAndPassGradcheck) {
  for (const char* task : {"billiards_mass.json", "rigid_collision_fit.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"optimize", example(task).string(), "-o", out.string(), "-q"}, dir.path());
    ASSERT_EQ(result.status, 0) << task << result.err;
    const nlohmann::json fitted = nlohmann::json::parse(maya::test::slurp(out / "fitted.json"));
    for (const nlohmann::json& parameter : fitted["parameters"]) {
      const double truth = parameter["true"][0].get<double>();
      EXPECT_LE(parameter["interval95"][0][0].get<double>(), truth) << task << parameter.dump();
      EXPECT_GE(parameter["interval95"][0][1].get<double>(), truth) << task << parameter.dump();
    }
    const CliResult again = run_cli({"simulate", (out / "fitted_scene.json").string(), "-q", "-o",
                                     (dir.path() / "again").string()},
                                    dir.path());
    EXPECT_EQ(again.status, 0) << task << again.err;
    const CliResult check = run_cli({"gradcheck", example(task).string()}, dir.path());
    EXPECT_EQ(check.status, 0) << task << check.out << check.err;
  }
}

TEST(MayaBodies, RestitutionOfHardContactIsNotATaskParameter) {
  const ScratchDir dir;
  const fs::path task = dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "gravity": [0, 0],
              "bodies": [{"shape": "circle", "radius": 0.1, "position": [0, 0]}],
              "hard_contact": {"restitution": 0.5}},
    "parameters": [{"of": "hard_contact.restitution"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [1, 0]}})");
  const CliResult result =
      run_cli({"optimize", task.string(), "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 2) << result.err;
  EXPECT_NE(result.err.find("task.parameters[0].of: 'hard_contact.restitution': the scene's bodies "
                            "take hard contact; its task parameters are bodies.mass, "
                            "bodies.velocity, bodies.angular_velocity, bodies.force and "
                            "bodies.torque"),
            std::string::npos)
      << result.err;
  const fs::path penalty = dir.write("penalty.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "gravity": [0, 0],
              "bodies": [{"shape": "circle", "radius": 0.1, "position": [0, 0]}],
              "hard_contact": {"restitution": 0.5}},
    "parameters": [{"of": "body_contact.friction"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [1, 0]}})");
  const CliResult second =
      run_cli({"optimize", penalty.string(), "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(second.status, 2);
  EXPECT_NE(second.err.find("the scene has no body_contact; the scene's bodies take hard contact"),
            std::string::npos)
      << second.err;
}

TEST(MayaBodies, BadHardContactValuesNameTheirPath) {
  const ScratchDir dir;
  const fs::path scene = dir.write("scene.json", R"({"dt": 0.01, "steps": 5,
    "bodies": [{"shape": "circle", "radius": 0.1, "position": [0, 0]}],
    "hard_contact": {"restitution": 1.5}})");
  CliResult result =
      run_cli({"simulate", scene.string(), "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("scene.hard_contact.restitution"), std::string::npos) << result.err;
  const fs::path joint = dir.write("joint.json", R"({"dt": 0.01, "steps": 5,
    "bodies": [{"shape": "circle", "radius": 0.1, "position": [0, 0]}],
    "hard_contact": {"joints": [{"a": 0, "b": 3, "pivot": [0, 0]}]}})");
  result = run_cli({"simulate", joint.string(), "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("scene.hard_contact.joints[0].b: body 3 does not exist"),
            std::string::npos)
      << result.err;
}

TEST(MayaBodies, ControlTaskFindsThePushThatReachesTheTarget) {
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const CliResult result = run_cli(
      {"optimize", example("rigid_push.json").string(), "-o", out.string(), "-q"}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  const nlohmann::json fitted = nlohmann::json::parse(maya::test::slurp(out / "fitted.json"));
  EXPECT_LT(fitted["loss"]["final"].get<double>(), 1e-7);
  // A control task has no data to err about: no standard errors, and fitted.json says why.
  EXPECT_FALSE(fitted["uncertainty"]["available"].get<bool>());
  const CliResult check = run_cli({"gradcheck", example("rigid_push.json").string()}, dir.path());
  EXPECT_EQ(check.status, 0) << check.out << check.err;
}
