// `maya optimize` and `maya gradcheck` on robot tasks (task files with "robot"): the examples pass
// their gradient checks and fits, the outputs are written, and bad input exits 2 naming the file
// and the field.
#include <gtest/gtest.h>

#ifdef MAYA_CLI_PATH

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "maya/io/npy.hpp"
#include "maya/multibody/loaders.hpp"

namespace {

using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
using maya::test::slurp;
namespace fs = std::filesystem;

TEST(RobotTaskCli, GradcheckPassesOnTheExamples) {
  if (!maya::multibody::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  for (const char* name : {"pendulum_mass.json", "arm_reach.json"}) {
    const auto result = run_cli({"gradcheck", example(name).string()}, dir.path());
    EXPECT_EQ(result.status, 0) << name << ": " << result.out << result.err;
    EXPECT_NE(result.out.find("ok: worst relative error"), std::string::npos) << result.out;
  }
}

TEST(RobotTaskCli, OptimizeRecoversThePendulumsMassAndWritesItsOutputs) {
  if (!maya::multibody::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const auto result =
      run_cli({"optimize", example("pendulum_mass.json").string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  for (const char* file :
       {"fitted.json", "loss.svg", "before_joint_positions.npy", "after_joint_positions.npy",
        "controls.npy", "joints.svg", "viewer.html"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  const auto fitted = nlohmann::json::parse(slurp(out / "fitted.json"));
  EXPECT_EQ(fitted["robot"], "pendulum.urdf");
  EXPECT_NEAR(fitted["parameters"][0]["fitted"][0].get<double>(), 1.5, 1e-6);
  EXPECT_NEAR(fitted["parameters"][1]["fitted"][0].get<double>(), 0.05, 1e-7);
  // The fitted motion is the measured one.
  const auto after = maya::io::parse_npy(slurp(out / "after_joint_positions.npy"));
  const auto measured = maya::io::parse_npy(slurp(example("data/pendulum_angles.npy")));
  ASSERT_EQ(after.shape, measured.shape);
  for (std::size_t k = 0; k < after.values.size(); ++k) {
    EXPECT_NEAR(after.values[k], measured.values[k], 1e-8) << k;
  }
  EXPECT_NE(slurp(out / "viewer.html").find("maya-viewer-3d"), std::string::npos);
}

TEST(RobotTaskCli, OptimizeBringsTheArmsToolToTheTarget) {
  if (!maya::multibody::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path out = dir.path() / "arm";
  const auto result =
      run_cli({"optimize", example("arm_reach.json").string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  const auto controls = maya::io::parse_npy(slurp(out / "controls.npy"));
  EXPECT_EQ(controls.shape, (std::vector<std::size_t>{300, 7}));
  // The viewer marks the target.
  EXPECT_NE(slurp(out / "viewer.html").find("0.35"), std::string::npos);
}

TEST(RobotTaskCli, TheStrikersBallMassIsFoundThroughContactBetweenBodies) {
  if (!maya::multibody::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const ScratchDir dir;
  const auto check = run_cli({"gradcheck", example("striker_mass.json").string()}, dir.path());
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  const fs::path out = dir.path() / "striker";
  const auto result =
      run_cli({"optimize", example("striker_mass.json").string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  const auto fitted = nlohmann::json::parse(slurp(out / "fitted.json"));
  EXPECT_NEAR(fitted["parameters"][0]["fitted"][0].get<double>(), 0.3, 1e-8);
  EXPECT_EQ(fitted["parameters"][0]["true"][0].get<double>(), 0.3);
  EXPECT_FALSE(fs::exists(out / "controls.npy"));  // the striker has no actuator
}

TEST(RobotTaskCli, SimulateTurnsOnContactBetweenUrdfLinks) {
  if (!maya::multibody::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path quadruped = fs::path(MAYA_SOURCE_DIR) / "examples" / "robots" / "quadruped.urdf";
  const auto result = run_cli(
      {"simulate", quadruped.string(), "--floating-base", "--ground", "--height", "0.45", "--steps",
       "20", "--dt", "5e-4", "--self-collision", "-o", (dir.path() / "q").string()},
      dir.path());
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir.path() / "q" / "joint_positions.npy"));
}

TEST(RobotTaskCli, BadInputExitsTwoNamingTheFileAndTheField) {
  if (!maya::multibody::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path robots = fs::path(MAYA_SOURCE_DIR) / "examples" / "robots";
  const fs::path missing = dir.write("missing.json", R"({"robot": "nothere.urdf", "steps": 10,
      "parameters": [{"of": "controls"}], "loss": {"type": "control_effort"}})");
  const auto no_robot = run_cli({"gradcheck", missing.string()}, dir.path());
  EXPECT_EQ(no_robot.status, 2);
  EXPECT_NE(no_robot.err.find("missing.json: task.robot: robot file"), std::string::npos)
      << no_robot.err;

  const fs::path body =
      dir.write("body.json", R"({"robot": ")" + (robots / "arm7.urdf").string() + R"(", "steps": 10,
      "parameters": [{"of": "controls"}],
      "loss": {"type": "reach_target", "body": "hand", "target": [0, 0, 1]}})");
  const fs::path out = dir.path() / "never";
  const auto no_body = run_cli({"optimize", body.string(), "-o", out.string()}, dir.path());
  EXPECT_EQ(no_body.status, 2);
  EXPECT_NE(no_body.err.find("body.json: task.loss.body: no body 'hand' in arm7.urdf"),
            std::string::npos)
      << no_body.err;
  EXPECT_FALSE(fs::exists(out));

  const fs::path checkpoints = dir.write(
      "ok.json", R"({"robot": ")" + (robots / "pendulum.urdf").string() + R"(", "steps": 10,
      "parameters": [{"of": "controls"}], "loss": {"type": "control_effort"}})");
  const auto flag = run_cli(
      {"optimize", checkpoints.string(), "--checkpoints", "4", "-o", out.string()}, dir.path());
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.err.find("--checkpoints"), std::string::npos) << flag.err;
}

}  // namespace

#endif
