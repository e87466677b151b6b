// The program on hostile and careless input: each test is a finding that once crashed, printed a
// false "ok", wrote NaN with exit 0 or left a mixed set of files, now a clear error (exit 2).
#include <gtest/gtest.h>

#ifdef MAYA_CLI_PATH

#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace {

using maya::test::CliResult;
using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
using maya::test::slurp;
namespace fs = std::filesystem;

constexpr const char* kScene = R"({
  "dt": 0.01, "steps": 20,
  "particles": [{"position": [0, 1]}, {"position": [1, 1], "mass": 2}],
  "springs": [{"i": 0, "j": 1, "stiffness": 50, "damping": 0.1}]
})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Exit 2, one line on stderr ("maya: ..."), holding every fragment.
void expect_status_2(const CliResult& result, const std::vector<std::string>& fragments) {
  EXPECT_EQ(result.status, 2) << result.out << result.err;
  EXPECT_EQ(result.err.rfind("maya: ", 0), 0U) << result.err;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
  }
}

CliResult simulate(const ScratchDir& dir, const std::string& scene_text) {
  const fs::path scene = dir.write("scene.json", scene_text);
  return run_cli({"simulate", scene.string(), "-o", (dir.path() / "out").string(), "-q"},
                 dir.path());
}

}  // namespace

// Finding 2: a deeply nested value overflowed the stack.
TEST(MayaRobustness, DeeplyNestedJsonIsBadInput) {
  const ScratchDir dir;
  const CliResult result =
      simulate(dir, std::string(100000, '[') + std::string(100000, ']') + "\n");
  expect_status_2(result, {"scene.json:1:101: invalid JSON: values nest deeper than 100 levels"});
}

// Finding 4: 1e999 escaped as nlohmann's exception, exit 1 "internal error".
TEST(MayaRobustness, NumberOverflowingADoubleIsAParseErrorWithLineAndColumn) {
  const ScratchDir dir;
  const CliResult result = simulate(dir, replaced(kScene, "\"dt\": 0.01", "\"dt\": 1e999"));
  expect_status_2(result, {"scene.json:2:", "number overflow", "1e999"});
}

// Finding 8: finite but absurd values ran and wrote NaN with exit 0.
TEST(MayaRobustness, AbsurdMagnitudesAreRejected) {
  const ScratchDir dir;
  expect_status_2(simulate(dir, replaced(kScene, "\"dt\": 0.01", "\"dt\": 1e308")),
                  {"scene.dt: must be within [-1e100, 1e100]", "got 1e+308"});
  expect_status_2(simulate(dir, replaced(kScene, "\"mass\": 2", "\"mass\": 5e-324")),
                  {"scene.particles[1].mass: must be at least 1e-100", "got 5e-324"});
  expect_status_2(simulate(dir, replaced(kScene, "[1, 1]", "[1e308, 1]")),
                  {"scene.particles[1].position[0]: must be within"});
}

// Finding 6: --step nan printed "ok" with exit 0.
TEST(MayaRobustness, GradcheckRejectsNonFiniteAndAbsurdSteps) {
  const ScratchDir dir;
  const std::string task = example("spring_sysid.json").string();
  for (const char* step : {"nan", "inf", "-1", "0"}) {
    const CliResult result = run_cli({"gradcheck", task, "--step", step}, dir.path());
    expect_status_2(result, {"--step", "positive finite"});
  }
  const CliResult huge = run_cli({"gradcheck", task, "--step", "1e308"}, dir.path());
  expect_status_2(huge, {"gradcheck: the step must be in [1e-15, 0.1], got 1e+308"});
  const CliResult tolerance = run_cli({"gradcheck", task, "--tolerance", "nan"}, dir.path());
  expect_status_2(tolerance, {"--tolerance"});
  const std::string text = slurp(example("dumbbell_throw.json"));
  const fs::path bad_task = dir.write("task.json", replaced(text, "\"step\": 1e-6", "\"step\": 1"));
  expect_status_2(run_cli({"gradcheck", bad_task.string()}, dir.path()),
                  {"task.gradcheck.step: must be in [1e-15, 0.1], got 1"});
}

// Finding 9: --iterations -5 wrapped to 2^64 - 5.
TEST(MayaRobustness, NegativeCountsAreRejectedInEveryFlag) {
  const ScratchDir dir;
  const std::string task = example("spring_sysid.json").string();
  const std::string out = (dir.path() / "out").string();
  expect_status_2(run_cli({"optimize", task, "-o", out, "--iterations", "-5"}, dir.path()),
                  {"--iterations", "expected a count", "-5"});
  expect_status_2(run_cli({"optimize", task, "-o", out, "--iterations", "1.5"}, dir.path()),
                  {"--iterations"});
  expect_status_2(run_cli({"-j", "-1", "gradcheck", task}, dir.path()), {"--threads"});
  EXPECT_FALSE(fs::exists(out));
}

// Finding 7: blow-ups wrote NaN trajectories with exit 0.
TEST(MayaRobustness, BlowUpOfASpringSceneNamesTheStepAndParticle) {
  const ScratchDir dir;
  std::string scene = slurp(example("lattice_drop.json"));
  scene = replaced(scene, "\"dt\": 0.002", "\"dt\": 0.05");
  scene = replaced(scene, "\"stiffness\": 300", "\"stiffness\": 1e5");
  const CliResult result = simulate(dir, scene);
  expect_status_2(result, {"simulate: the simulation blew up at step ", "particle ",
                           "exceeds the stability limit"});
  EXPECT_NE(result.err.find("maya: warning: simulate: dt 0.05 s exceeds the stability limit"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
}

TEST(MayaRobustness, BlowUpOfARigidSceneNamesTheStepAndBody) {
  const ScratchDir dir;
  const std::string scene =
      replaced(slurp(example("rigid_pile.json")), "\"dt\": 0.001", "\"dt\": 0.05");
  const CliResult result = simulate(dir, scene);
  expect_status_2(result, {"simulate: the simulation blew up at step ", "body "});
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
}

// Finding 7: optimize said "converged" on a blown-up task with a zero gradient.
TEST(MayaRobustness, OptimizeRefusesATaskWhoseSimulationBlowsUp) {
  const ScratchDir dir;
  std::string task = slurp(example("dumbbell_throw.json"));
  task = replaced(task, "\"dt\": 0.005", "\"dt\": 0.05");
  task = replaced(task, "\"steps\": 200", "\"steps\": 20");
  const fs::path file = dir.write("task.json", task);
  const CliResult result =
      run_cli({"optimize", file.string(), "-o", (dir.path() / "out").string(), "-q"}, dir.path());
  expect_status_2(result, {"blew up at step"});
  EXPECT_EQ(result.out.find("converged"), std::string::npos) << result.out;
}

TEST(MayaRobustness, ExampleScenesRunWithoutWarnings) {
  for (const char* name : {"lattice_drop.json", "rigid_pile.json"}) {
    const ScratchDir dir;
    const CliResult result =
        run_cli({"simulate", example(name).string(), "-o", (dir.path() / "out").string(), "-q"},
                dir.path());
    EXPECT_EQ(result.status, 0) << name << result.err;
    EXPECT_EQ(result.err, "") << name;
  }
}

// Finding 10: runs too big for the machine died with std::bad_alloc after 20-40 s.
TEST(MayaRobustness, RunsTooBigForMemoryAreRefusedUpFront) {
  const ScratchDir dir;
  // A 300 x 300 lattice for 10^7 steps: 2.3e14 bytes of trajectory and output text.
  const CliResult result = simulate(dir, R"({"dt": 0.001, "steps": 10000000,
    "lattice": {"origin": [0, 1], "rows": 300, "cols": 300, "spacing": 0.01, "stiffness": 10}})");
  expect_status_2(result, {"simulate: the run needs about 2.3e+05 GB", "more than half"});
}

// Finding 11: task values were not validated like scene values; NaN observations were unnamed.
TEST(MayaRobustness, TaskValuesAreValidatedLikeSceneValues) {
  const ScratchDir dir;
  const fs::path task = dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}, {"position": [1, 1]}],
              "springs": [{"i": 0, "j": 1, "stiffness": 50}]},
    "parameters": [{"of": "springs.stiffness"}],
    "loss": {"type": "match_trajectory", "observed": {"simulate_with": {"springs.stiffness": -300}}}})");
  expect_status_2(
      run_cli({"optimize", task.string(), "-o", (dir.path() / "out").string()}, dir.path()),
      {"simulate_with[\"springs.stiffness\"]: must be >= 0, got -300"});
}

TEST(MayaRobustness, NonFiniteObservationNamesTheFile) {
  const ScratchDir dir;
  std::string npy("\x93NUMPY\x01\x00", 8);
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 2, 2), }";
  header.resize(118 - 10 - 1, ' ');
  header += '\n';
  npy += static_cast<char>(header.size() & 0xff);
  npy += static_cast<char>(header.size() >> 8);
  npy += header;
  std::vector<double> values(24, 1.0);
  values[14] = std::numeric_limits<double>::quiet_NaN();
  npy.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  (void)dir.write("observed.npy", npy);
  const fs::path task = dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "particles": [{"position": [0, 1]}, {"position": [1, 1]}],
              "springs": [{"i": 0, "j": 1, "stiffness": 50}]},
    "parameters": [{"of": "springs.stiffness"}],
    "loss": {"type": "match_trajectory", "observed": "observed.npy"}})");
  expect_status_2(run_cli({"gradcheck", task.string()}, dir.path()),
                  {"observed.npy: observed position of particle 1 at frame 3 is nan"});
}

// Finding 12: one failing rename left the earlier files replaced.
TEST(MayaRobustness, FailedOutputCommitKeepsEveryOldFile) {
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const fs::path scene = dir.write("scene.json", kScene);
  ASSERT_EQ(run_cli({"simulate", scene.string(), "-o", out.string(), "-q"}, dir.path()).status, 0);
  const std::string old_csv = slurp(out / "trajectory.csv");
  fs::remove(out / "viewer.html");
  fs::create_directory(out / "viewer.html");
  (void)dir.write("scene.json", replaced(kScene, "\"steps\": 20", "\"steps\": 30"));
  const CliResult result =
      run_cli({"simulate", scene.string(), "-o", out.string(), "-q"}, dir.path());
  expect_status_2(result, {"viewer.html", "not a file"});
  EXPECT_EQ(slurp(out / "trajectory.csv"), old_csv);
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_NE(entry.path().filename().string().front(), '.') << entry.path();
  }
}

#endif  // MAYA_CLI_PATH
