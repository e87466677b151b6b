// `maya simulate ROBOT.urdf|ROBOT.xml`: the joint trajectories it writes are the library's
// rollout under the given torques, in the file's joint order; bad torques and options are named.
#include <gtest/gtest.h>

#ifdef MAYA_CLI_PATH

#include <cmath>
#include <filesystem>

#include "cli_support.hpp"
#include "maya/io/npy.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"

namespace {

using maya::test::run_cli;
using maya::test::ScratchDir;
namespace mb = maya::multibody;
namespace fs = std::filesystem;

fs::path robot(const std::string& name) {
  return fs::path(MAYA_SOURCE_DIR) / "examples" / "robots" / name;
}

maya::io::NpyArray load(const fs::path& path) {
  return maya::io::parse_npy(maya::test::slurp(path));
}

TEST(SimulateRobot, WritesTheRolloutUnderTheGivenTorques) {
  if (!mb::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const ScratchDir dir;
  const mb::Model model = mb::load_mjcf(robot("cartpole.xml").string());
  const std::size_t steps = 40, nu = model.nu();
  std::vector<double> torques(steps * nu);
  for (std::size_t k = 0; k < torques.size(); ++k)
    torques[k] = 0.5 * std::sin(0.3 * static_cast<double>(k));
  const std::size_t shape[] = {steps, nu};
  const fs::path torques_file = dir.write("u.npy", maya::io::npy_bytes(torques, shape));
  const fs::path out = dir.path() / "out";
  const auto result =
      run_cli({"simulate", robot("cartpole.xml").string(), "--steps", "40", "--dt", "0.01",
               "--integrator", "rk4", "--torques", torques_file.string(), "-o", out.string()},
              dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("RK4"), std::string::npos) << result.out;
  const std::vector<double> states =
      mb::rollout(model, model.parameters(), model.initial_state(), torques, steps, 0.01,
                  mb::Integrator::kRungeKutta4);
  const auto q = load(out / "joint_positions.npy");
  const auto v = load(out / "joint_velocities.npy");
  ASSERT_EQ(q.shape, (std::vector<std::size_t>{steps + 1, model.nq()}));
  ASSERT_EQ(v.shape, (std::vector<std::size_t>{steps + 1, model.nv()}));
  for (std::size_t t = 0; t <= steps; ++t) {
    for (std::size_t k = 0; k < model.nq(); ++k) {
      EXPECT_EQ(q.values[t * model.nq() + k], states[t * model.nx() + k]) << t << " " << k;
    }
  }
  EXPECT_EQ(load(out / "body_poses.npy").shape,
            (std::vector<std::size_t>{steps + 1, model.num_bodies(), 7}));
  EXPECT_EQ(load(out / "times.npy").values.back(), 0.4);
  EXPECT_TRUE(fs::exists(out / "viewer.html"));
}

TEST(SimulateRobot, BadTorquesAndOptionsAreNamed) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const std::size_t shape[] = {3, 7};
  const fs::path wrong = dir.write("u.npy", maya::io::npy_bytes(std::vector<double>(21), shape));
  const auto bad_torques = run_cli({"simulate", robot("pendulum.urdf").string(), "--steps", "10",
                                    "--torques", wrong.string(), "-o", (dir.path() / "a").string()},
                                   dir.path());
  EXPECT_EQ(bad_torques.status, 2);
  EXPECT_NE(bad_torques.err.find("[3, 7]"), std::string::npos) << bad_torques.err;
  EXPECT_NE(bad_torques.err.find("[10, 1]"), std::string::npos) << bad_torques.err;
  const auto welded = run_cli({"simulate", robot("pendulum.urdf").string(), "--height", "1", "-o",
                               (dir.path() / "b").string()},
                              dir.path());
  EXPECT_EQ(welded.status, 2);
  EXPECT_NE(welded.err.find("--floating-base"), std::string::npos) << welded.err;
  EXPECT_FALSE(fs::exists(dir.path() / "a"));
}

// A ball dropped on a free box on the ground: plane and body-body contact.
constexpr const char* kDrop = R"(<mujoco model="drop">
  <option timestep="0.001" integrator="RK4"/>
  <worldbody>
    <geom type="plane" size="1 1 0.1"/>
    <body name="block" pos="0 0 0.05"><freejoint/><geom type="box" size="0.1 0.1 0.05" mass="1"/></body>
    <body name="ball" pos="0.02 0 0.3"><freejoint/><geom type="sphere" size="0.05" mass="0.5"/></body>
  </worldbody>
</mujoco>)";

TEST(SimulateRobot, ContactFlagSelectsHardContact) {
  if (!mb::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const ScratchDir dir;
  const fs::path file = dir.write("drop.xml", kDrop);
  const fs::path out = dir.path() / "out";
  const auto result = run_cli(
      {"simulate", file.string(), "--steps", "400", "--contact", "hard", "-o", out.string()},
      dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  // Hard contact steps with semi-implicit Euler, whatever the file's integrator.
  EXPECT_NE(result.out.find("semi-implicit Euler, hard contact"), std::string::npos) << result.out;
  mb::MjcfOptions hard;
  hard.contact_model = mb::ContactModel::kHard;
  const mb::Model model = mb::load_mjcf(file.string(), hard);
  ASSERT_EQ(model.contact_pairs().size(), 1U);
  const std::vector<double> states =
      mb::rollout(model, model.parameters(), model.initial_state(), {}, 400, 0.001,
                  mb::Integrator::kSemiImplicitEuler);
  const auto q = load(out / "joint_positions.npy");
  ASSERT_EQ(q.shape, (std::vector<std::size_t>{401, model.nq()}));
  for (std::size_t t = 0; t <= 400; ++t) {
    for (std::size_t k = 0; k < model.nq(); ++k) {
      ASSERT_EQ(q.values[t * model.nq() + k], states[t * model.nx() + k]) << t << " " << k;
    }
  }
  // The ball has landed on the block and rests there: its centre 0.1 + 0.05 above the ground.
  EXPECT_NEAR(q.values[400 * model.nq() + model.q_index(1) + 2], 0.15, 1e-4);
  // The default and --contact penalty give the penalty model.
  const auto penalty = run_cli({"simulate", file.string(), "--steps", "10", "--contact", "penalty",
                                "-o", (dir.path() / "p").string()},
                               dir.path());
  ASSERT_EQ(penalty.status, 0) << penalty.err;
  EXPECT_NE(penalty.out.find("RK4, penalty contact"), std::string::npos) << penalty.out;
  // RK4 asked for with hard contact is named.
  const auto rk4 = run_cli({"simulate", file.string(), "--steps", "10", "--contact", "hard",
                            "--integrator", "rk4", "-o", (dir.path() / "r").string()},
                           dir.path());
  EXPECT_EQ(rk4.status, 2);
  EXPECT_NE(rk4.err.find("--integrator rk4"), std::string::npos) << rk4.err;
}

TEST(SimulateRobot, MjcfCustomTextSelectsHardContact) {
  if (!mb::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const ScratchDir dir;
  std::string text = kDrop;
  text.insert(text.find("<worldbody>"),
              "<custom><text name=\"maya.contact\" data=\"hard\"/></custom>\n  ");
  const fs::path file = dir.write("drop.xml", text);
  const auto result = run_cli(
      {"simulate", file.string(), "--steps", "10", "-o", (dir.path() / "o").string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("hard contact"), std::string::npos) << result.out;
  // The flag overrides the file.
  const auto penalty = run_cli({"simulate", file.string(), "--steps", "10", "--contact", "penalty",
                                "-o", (dir.path() / "p").string()},
                               dir.path());
  ASSERT_EQ(penalty.status, 0) << penalty.err;
  EXPECT_NE(penalty.out.find("penalty contact"), std::string::npos) << penalty.out;
}

TEST(MayaDemo, RobotDemoSwingsTheCartPoleUp) {
  if (!mb::mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const auto listed = run_cli({"demo", "--list"}, dir.path());
  EXPECT_NE(listed.out.find("\nrobot "), std::string::npos) << listed.out;
  const auto result = run_cli({"demo", "robot", "-q", "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(": swung up"), std::string::npos) << result.out;
  const auto q = load(out / "robot" / "joint_positions.npy");
  ASSERT_EQ(q.shape, (std::vector<std::size_t>{301, 2}));
  EXPECT_NEAR(std::cos(q.values[1]), -1.0, 1e-12);          // hanging at the start
  EXPECT_NEAR(std::cos(q.values[300 * 2 + 1]), 1.0, 2e-3);  // upright at the end
  EXPECT_TRUE(fs::exists(out / "robot" / "viewer.html"));
}

TEST(MayaDemo, ArmDemoBringsTheToolToTheTarget) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const auto result = run_cli({"demo", "arm", "-q", "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(": reached"), std::string::npos) << result.out;
  EXPECT_EQ(load(out / "arm" / "torques.npy").shape, (std::vector<std::size_t>{300, 7}));
  EXPECT_NE(maya::test::slurp(out / "arm" / "viewer.html").find("\"targets\":[[0.35,0.25,0.8]]"),
            std::string::npos);
}

// The quadruped learns its gait (about 25 s in a release build): it walks, and the files are there.
TEST(MayaDemo, QuadrupedDemoLearnsToWalk) {
  if (!mb::urdf_available()) GTEST_SKIP() << "built without urdfdom";
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const auto listed = run_cli({"demo", "--list"}, dir.path());
  EXPECT_NE(listed.out.find("\nquadruped "), std::string::npos) << listed.out;
  const auto result = run_cli({"demo", "quadruped", "-q", "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(": walks"), std::string::npos) << result.out;
  const auto q = load(out / "quadruped" / "joint_positions.npy");
  ASSERT_EQ(q.shape, (std::vector<std::size_t>{601, 19}));
  EXPECT_GT(q.values[600 * 19] - q.values[0], 0.5);  // the trunk's x: a body length forward
  EXPECT_EQ(load(out / "quadruped" / "foot_contact.npy").shape, (std::vector<std::size_t>{601, 4}));
  for (const char* file : {"viewer.html", "learning.svg", "quadruped.json", "gait.npy"}) {
    EXPECT_TRUE(fs::exists(out / "quadruped" / file)) << file;
  }
}

}  // namespace

#endif  // MAYA_CLI_PATH
