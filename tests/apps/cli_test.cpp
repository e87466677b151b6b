// The maya program end to end: subcommands, exit statuses, messages, files written and not.
#include <gtest/gtest.h>

// Built without the program (MAYA_BUILD_APPS=OFF), there is nothing to run.
#ifdef MAYA_CLI_PATH

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "cli_support.hpp"
#include "maya/io/npy.hpp"

namespace {

using maya::test::CliResult;
using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
namespace fs = std::filesystem;

constexpr const char* kGoodScene = R"({
  "dt": 0.01, "steps": 20,
  "particles": [{"position": [0, 1]}, {"position": [1, 1], "mass": 2}],
  "springs": [{"i": 0, "j": 1, "stiffness": 50, "damping": 0.1}]
})";

// A bad-input run: exit 2, one line on stderr holding `fragment`, and nothing written.
void expect_bad_input(const std::vector<std::string>& arguments, const ScratchDir& dir,
                      const std::string& fragment) {
  const std::vector<std::string> before = dir.entries();
  const CliResult result = run_cli(arguments, dir.path());
  EXPECT_EQ(result.status, 2) << result.err;
  EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
  EXPECT_EQ(result.err.rfind("maya: ", 0), 0u) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(dir.entries(), before);
}

// Writes a scene with `text`, runs simulate on it into out/, expects bad input naming `fragment`.
void expect_bad_scene(const std::string& text, const std::string& fragment) {
  const ScratchDir dir;
  const fs::path scene = dir.write("scene.json", text);
  expect_bad_input({"simulate", scene.string(), "-o", (dir.path() / "out").string()}, dir,
                   fragment);
}

}  // namespace

TEST(MayaCli, HelpExitsZeroForEverySubcommand) {
  const ScratchDir dir;
  for (const std::vector<std::string>& arguments : {std::vector<std::string>{"--help"},
                                                    {"demo", "--help"},
                                                    {"simulate", "--help"},
                                                    {"optimize", "--help"},
                                                    {"gradcheck", "--help"}}) {
    const CliResult result = run_cli(arguments, dir.path());
    EXPECT_EQ(result.status, 0) << arguments.front() << result.err;
    EXPECT_NE(result.out.find("Usage"), std::string::npos) << result.out;
  }
}

TEST(MayaCli, UnknownSubcommandIsBadInput) {
  const ScratchDir dir;
  const CliResult result = run_cli({"simulat"}, dir.path());
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err.rfind("maya: ", 0), 0u) << result.err;
}

// The README's first command (scripts/demo) ends in exactly this invocation.
TEST(MayaDemo, DefaultDemoRecoversTheHiddenParametersAndHitsTheTarget) {
  const ScratchDir dir;
  const CliResult result = run_cli({"demo"}, dir.path());
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("hidden truth 300"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("hidden truth 0.5"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("target (3, 2)"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("FAILED"), std::string::npos) << result.out;
  EXPECT_TRUE(dir.entries().empty());
}

TEST(MayaDemo, ListNamesTheDemos) {
  const ScratchDir dir;
  const CliResult result = run_cli({"demo", "--list"}, dir.path());
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out.rfind("springs", 0), 0u) << result.out;
}

TEST(MayaDemo, ListNamesADemoPerPhysicsLayer) {
  const ScratchDir dir;
  const CliResult result = run_cli({"demo", "--list"}, dir.path());
  ASSERT_EQ(result.status, 0);
  for (const char* name : {"\nrigid ", "\ncontact ", "\nsoft "}) {
    EXPECT_NE(result.out.find(name), std::string::npos) << name << result.out;
  }
}

// Runs `maya demo NAME -q -o out`: exit 0, no failure, and the task's files under out/TASK/.
CliResult run_physics_demo(const std::string& name, const std::string& task,
                           const ScratchDir& dir) {
  CliResult result = run_cli({"demo", name, "-q", "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("FAILED"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  ok\n"), std::string::npos) << result.out;
  for (const char* file : {"fitted.json", "loss.svg", "trajectories.svg", "before.csv", "after.csv",
                           "times.npy", "viewer.html"}) {
    EXPECT_TRUE(fs::exists(dir.path() / "out" / task / file)) << task << " " << file;
  }
  return result;
}

TEST(MayaDemo, RigidDemoThrowsTheBoxToRestUpsideDownOnTheTarget) {
  const ScratchDir dir;
  const CliResult result = run_physics_demo("rigid", "box_toss", dir);
  EXPECT_NE(result.out.find("rests at x"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("target 0.5, missed by"), std::string::npos) << result.out;
  const fs::path out = dir.path() / "out" / "box_toss";
  EXPECT_EQ(maya::io::parse_npy(maya::test::slurp(out / "after_poses.npy")).shape,
            (std::vector<std::size_t>{2001, 1, 3}));
  EXPECT_NE(maya::test::slurp(out / "viewer.html").find("\"shape\":\"polygon\""),
            std::string::npos);
}

TEST(MayaDemo, ContactDemoRecoversTheBoxMassFromCollisions) {
  const ScratchDir dir;
  const CliResult result = run_physics_demo("contact", "mass_from_collisions", dir);
  EXPECT_NE(result.out.find("box mass"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("hidden truth 2.7"), std::string::npos) << result.out;
  const std::string viewer =
      maya::test::slurp(dir.path() / "out" / "mass_from_collisions" / "viewer.html");
  EXPECT_NE(viewer.find("\"shape\":\"circle\""), std::string::npos);
  EXPECT_NE(viewer.find("\"shape\":\"polygon\""), std::string::npos);
}

TEST(MayaDemo, SoftDemoRecoversYoungsModulusAndPoissonsRatio) {
  const ScratchDir dir;
  const CliResult result = run_physics_demo("soft", "soft_drop", dir);
  EXPECT_NE(result.out.find("hidden truth 50000"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("hidden truth 0.3"), std::string::npos) << result.out;
  const fs::path out = dir.path() / "out" / "soft_drop";
  EXPECT_EQ(maya::io::parse_npy(maya::test::slurp(out / "observed_positions.npy")).shape,
            (std::vector<std::size_t>{601, 15, 2}));
  // The mesh's edges travel to the viewer as springs.
  EXPECT_EQ(maya::test::slurp(out / "viewer.html").find("\"springs\":[]"), std::string::npos);
}

TEST(MayaDemo, WalkerDemoTrainsARobotToWalkTwoBodyLengths) {
  const ScratchDir dir;
  const CliResult result =
      run_cli({"demo", "walker", "-q", "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("body lengths in 2 s (goal 2)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  ok\n"), std::string::npos) << result.out;
  const fs::path out = dir.path() / "out" / "walker";
  for (const char* file : {"walker.json", "learning.svg", "trajectories.svg", "before.csv",
                           "after.csv", "times.npy", "viewer.html"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  EXPECT_EQ(maya::io::parse_npy(maya::test::slurp(out / "times.npy")).shape,
            (std::vector<std::size_t>{201}));
}

TEST(MayaDemo, UnknownNameSuggestsTheNearest) {
  const ScratchDir dir;
  expect_bad_input({"demo", "sprngs"}, dir, "did you mean 'springs'?");
}

TEST(MayaDemo, WritesOutputsWhenAskedTo) {
  const ScratchDir dir;
  const CliResult result = run_cli({"demo", "-q", "-o", (dir.path() / "out").string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "spring_sysid" / "viewer.html"));
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "dumbbell_throw" / "loss.svg"));
}

TEST(MayaSimulate, WritesReadableTrajectoryFiles) {
  const ScratchDir dir;
  const fs::path scene = dir.write("scene.json", kGoodScene);
  const fs::path out = dir.path() / "out";
  const CliResult result = run_cli({"simulate", scene.string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  for (const char* name : {"trajectory.csv", "positions.npy", "velocities.npy", "times.npy",
                           "trajectory.svg", "viewer.html"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name;
  }
  const maya::io::NpyArray positions =
      maya::io::parse_npy(maya::test::slurp(out / "positions.npy"));
  EXPECT_EQ(positions.shape, (std::vector<std::size_t>{21, 2, 2}));
  EXPECT_EQ(positions.values[0], 0.0);
  EXPECT_EQ(positions.values[1], 1.0);
  EXPECT_LT(positions.values.back(), 1.0);  // gravity pulled it down
  const std::string csv = maya::test::slurp(out / "trajectory.csv");
  EXPECT_EQ(csv.rfind("step,time,particle,x,y,vx,vy\n0,0,0,0,1,0,0\n", 0), 0u) << csv.substr(0, 80);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 21 * 2);
}

// -j parses and leaves the result unchanged (this small scene stays on one thread; the split
// step's bit-for-bit agreement is tested in the dynamics suite), and 0 threads is bad input.
TEST(MayaSimulate, ThreadCountGivesTheSameTrajectory) {
  const ScratchDir dir;
  std::string trajectories[2];
  for (int k = 0; k < 2; ++k) {
    const fs::path out = dir.path() / ("out" + std::to_string(k));
    const CliResult result = run_cli({"-j", k == 0 ? "1" : "3", "simulate",
                                      example("lattice_drop.json").string(), "-o", out.string()},
                                     dir.path());
    ASSERT_EQ(result.status, 0) << result.err;
    trajectories[k] = maya::test::slurp(out / "positions.npy");
  }
  EXPECT_FALSE(trajectories[0].empty());
  EXPECT_EQ(trajectories[0], trajectories[1]);
  const CliResult zero = run_cli({"-j", "0", "simulate", example("lattice_drop.json").string(),
                                  "-o", (dir.path() / "bad").string()},
                                 dir.path());
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.err.find("threads"), std::string::npos) << zero.err;
}

TEST(MayaSimulate, EveryExampleSceneRuns) {
  const ScratchDir dir;
  const CliResult result = run_cli(
      {"simulate", example("lattice_drop.json").string(), "-o", (dir.path() / "out").string()},
      dir.path());
  EXPECT_EQ(result.status, 0) << result.err;
}

TEST(MayaSimulate, RigidBodiesFallAndComeToRestOnTheGround) {
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const CliResult result =
      run_cli({"simulate", example("rigid_pile.json").string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("4 rigid bodies"), std::string::npos) << result.out;
  for (const char* name :
       {"bodies.csv", "body_poses.npy", "times.npy", "trajectory.svg", "viewer.html"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name;
  }
  EXPECT_FALSE(fs::exists(out / "trajectory.csv"));  // no particles
  const maya::io::NpyArray poses = maya::io::parse_npy(maya::test::slurp(out / "body_poses.npy"));
  ASSERT_EQ(poses.shape, (std::vector<std::size_t>{1501, 4, 3}));
  // Every body ends above the ground and below where it started (it fell and landed).
  for (std::size_t body = 0; body < 4; ++body) {
    const double start = poses.values[body * 3 + 1];
    const double end = poses.values[(1500 * 4 + body) * 3 + 1];
    EXPECT_GT(end, 0.0) << body;
    EXPECT_LT(end, start) << body;
  }
  const std::string viewer = maya::test::slurp(out / "viewer.html");
  EXPECT_NE(viewer.find("\"shape\":\"circle\""), std::string::npos);
  EXPECT_NE(viewer.find("\"shape\":\"polygon\""), std::string::npos);
}

TEST(MayaOptimize, ExampleTasksConvergeAndWriteTheirOutputs) {
  for (const char* task : {"spring_sysid.json", "dumbbell_throw.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"optimize", example(task).string(), "-o", out.string()}, dir.path());
    ASSERT_EQ(result.status, 0) << task << result.err;
    for (const char* name :
         {"fitted.json", "fitted_scene.json", "loss.svg", "trajectories.svg", "before.csv",
          "after.csv", "before_positions.npy", "after_positions.npy", "viewer.html"}) {
      EXPECT_TRUE(fs::exists(out / name)) << task << " " << name;
    }
    EXPECT_NE(maya::test::slurp(out / "fitted.json").find("\"converged\": true"),
              std::string::npos);
    // The fitted scene is itself a valid scene.
    const CliResult again = run_cli({"simulate", (out / "fitted_scene.json").string(), "-q", "-o",
                                     (dir.path() / "again").string()},
                                    dir.path());
    EXPECT_EQ(again.status, 0) << again.err;
  }
}

TEST(MayaOptimize, StoppingShortOfTheGoalExitsOne) {
  const ScratchDir dir;
  const CliResult result = run_cli({"optimize", example("spring_sysid.json").string(), "-o",
                                    (dir.path() / "out").string(), "--iterations", "1", "-q"},
                                   dir.path());
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_NE(result.err.find("did not converge"), std::string::npos) << result.err;
}

TEST(MayaGradcheck, PassesOnEveryExampleTask) {
  for (const char* task : {"spring_sysid.json", "dumbbell_throw.json"}) {
    const ScratchDir dir;
    const CliResult result = run_cli({"gradcheck", example(task).string()}, dir.path());
    EXPECT_EQ(result.status, 0) << task << result.out << result.err;
    EXPECT_NE(result.out.find("ok: worst relative error"), std::string::npos) << result.out;
  }
}

TEST(MayaBadInput, MalformedJsonNamesLineAndColumn) {
  expect_bad_scene("{\n  \"dt\": 0.01,\n  \"steps\": ,\n}", "scene.json:3:12: invalid JSON");
}

TEST(MayaBadInput, UnknownKeySuggestsTheNearestValidKey) {
  expect_bad_scene(
      R"({"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}, {"position": [1, 1]}],
                      "springs": [{"i": 0, "j": 1, "stifness": 3}]})",
      "scene.springs[0].stifness: unknown key; did you mean 'stiffness'?");
}

TEST(MayaBadInput, WrongTypeNamesExpectedAndFound) {
  expect_bad_scene(R"({"dt": "small", "steps": 5, "particles": [{"position": [0, 1]}]})",
                   "scene.dt: expected a number, got a string (\"small\")");
}

TEST(MayaBadInput, NegativeMassIsNonPhysical) {
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1], "mass": -1}]})",
                   "scene.particles[0].mass: must be positive, got -1");
}

TEST(MayaBadInput, NonPositiveTimeStepIsRejected) {
  expect_bad_scene(R"({"dt": 0, "steps": 5, "particles": [{"position": [0, 1]}]})",
                   "scene.dt: must be positive, got 0");
}

TEST(MayaBadInput, SpringToAMissingParticleIsRejected) {
  expect_bad_scene(
      R"({"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}, {"position": [1, 1]}],
                      "springs": [{"i": 0, "j": 5, "stiffness": 3}]})",
      "scene.springs[0].j: particle 5 does not exist (the scene has 2 particles");
}

TEST(MayaBadInput, UnknownBodyShapeSuggestsTheNearest) {
  expect_bad_scene(
      R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "bx", "size": [1, 1], "position": [0, 1]}]})",
      "scene.bodies[0].shape: unknown shape 'bx'; did you mean 'box'?");
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "circle", "radius": 1,
                      "position": [0, 1], "angular_velocty": 2}]})",
                   "scene.bodies[0].angular_velocty: unknown key; did you mean "
                   "'angular_velocity'?");
}

TEST(MayaBadInput, NonPhysicalBodyIsRejected) {
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "box", "size": [1, 0],
                      "position": [0, 1]}]})",
                   "scene.bodies[0].size: width and height must be positive");
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "circle", "radius": 1,
                      "position": [0, 1], "mass": -1}]})",
                   "scene.bodies[0].mass: must be positive, got -1");
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "box", "radius": 1,
                      "position": [0, 1]}]})",
                   "scene.bodies[0].radius: a box has no radius");
}

TEST(MayaBadInput, NonConvexPolygonIsRejected) {
  expect_bad_scene(R"({"dt": 0.01, "steps": 5, "bodies": [{"shape": "polygon",
                      "vertices": [[0, 0], [2, 0], [1, 0.2], [1, 2]], "position": [0, 1]}]})",
                   "scene.bodies[0].vertices: ");
}

TEST(MayaBadInput, TasksWithRigidBodiesAreRejected) {
  const ScratchDir dir;
  const fs::path task = dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}],
              "bodies": [{"shape": "circle", "radius": 1, "position": [0, 3]}]},
    "parameters": [{"of": "particles.mass"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [1, 1]}})");
  expect_bad_input({"optimize", task.string(), "-o", (dir.path() / "out").string()}, dir,
                   "task.scene: has rigid bodies beside particles; a task fits one simulator");
}

TEST(MayaBadInput, MissingFileIsNamed) {
  const ScratchDir dir;
  expect_bad_input(
      {"simulate", (dir.path() / "nowhere.json").string(), "-o", (dir.path() / "out").string()},
      dir, "cannot read '" + (dir.path() / "nowhere.json").string() + "'");
  expect_bad_input(
      {"optimize", (dir.path() / "task.json").string(), "-o", (dir.path() / "out").string()}, dir,
      "task.json");
}

TEST(MayaBadInput, UnwritableOutputDirectoryIsRejectedBeforeRunning) {
  const ScratchDir dir;
  const fs::path scene = dir.write("scene.json", kGoodScene);
  dir.write("occupied", "a file, not a directory");
  expect_bad_input({"simulate", scene.string(), "-o", (dir.path() / "occupied").string()}, dir,
                   "is not a directory");
  expect_bad_input({"simulate", scene.string(), "-o", (dir.path() / "occupied" / "out").string()},
                   dir, "is not a directory");
  expect_bad_input({"optimize", example("dumbbell_throw.json").string(), "-o",
                    (dir.path() / "occupied" / "out").string()},
                   dir, "is not a directory");
}

TEST(MayaBadInput, TaskErrorsCarryTheirPath) {
  const ScratchDir dir;
  const fs::path task = dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}]},
    "parameters": [{"of": "particles.mas"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [1, 1]}})");
  expect_bad_input({"optimize", task.string(), "-o", (dir.path() / "out").string()}, dir,
                   "task.parameters[0].of: 'particles.mas': particles have no field 'mas'; did "
                   "you mean 'mass'?");
  expect_bad_input({"gradcheck", task.string()}, dir, "did you mean 'mass'?");
}

namespace {

// The numbers of every "fitted" array of a fitted.json, in order.
std::vector<double> fitted_values(const std::string& json) {
  std::vector<double> values;
  for (std::size_t at = json.find("\"fitted\""); at != std::string::npos;
       at = json.find("\"fitted\"", at + 1)) {
    const std::size_t open = json.find('[', at);
    const std::size_t close = json.find(']', open);
    const char* cursor = json.c_str() + open + 1;
    while (cursor < json.c_str() + close) {
      char* end = nullptr;
      const double value = std::strtod(cursor, &end);
      if (end == cursor) {
        ++cursor;
        continue;
      }
      values.push_back(value);
      cursor = end;
    }
  }
  return values;
}

}  // namespace

TEST(MayaOptimize, CheckpointedGradientsFitWhatTheFullTapeFits) {
  for (const char* task : {"spring_sysid.json", "dumbbell_throw.json"}) {
    std::vector<double> fitted[2];
    for (const int run : {0, 1}) {
      const ScratchDir dir;
      const fs::path out = dir.path() / "out";
      const CliResult result = run_cli({"optimize", example(task).string(), "-o", out.string(),
                                        "-q", "--checkpoints", run == 0 ? "none" : "2"},
                                       dir.path());
      ASSERT_EQ(result.status, 0) << task << result.err;
      fitted[run] = fitted_values(maya::test::slurp(out / "fitted.json"));
    }
    ASSERT_FALSE(fitted[0].empty()) << task;
    ASSERT_EQ(fitted[0].size(), fitted[1].size()) << task;
    for (std::size_t i = 0; i < fitted[0].size(); ++i) {
      EXPECT_NEAR(fitted[1][i], fitted[0][i], 1e-9 * std::abs(fitted[0][i])) << task << " " << i;
    }
  }
}

TEST(MayaBadInput, CheckpointBudgetsBelowOneSnapshotOrNotNumbersAreRejected) {
  const std::pair<const char*, const char*> cases[] = {
      {"0", "--checkpoints: a budget of 0 snapshots cannot run; at least 1 is needed"},
      {"lots", "--checkpoints: expected a snapshot count, auto or none, got 'lots'"},
      {"-3", "--checkpoints: expected a snapshot count, auto or none, got '-3'"}};
  for (const auto& [value, message] : cases) {
    const ScratchDir dir;
    const CliResult result = run_cli({"optimize", example("spring_sysid.json").string(), "-o",
                                      (dir.path() / "out").string(), "--checkpoints", value},
                                     dir.path());
    EXPECT_EQ(result.status, 2) << value;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir.path() / "out")) << value;
  }
}

#endif  // MAYA_CLI_PATH
