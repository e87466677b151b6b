// Scenes and tasks with FEM soft bodies through the maya program: every example runs, fits and
// passes gradcheck; the viewer draws triangles; bad meshes and parameters are named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "maya/io/npy.hpp"

namespace {

using maya::test::CliResult;
using maya::test::example;
using maya::test::run_cli;
using maya::test::ScratchDir;
namespace fs = std::filesystem;

// Runs `maya COMMAND DIR/FILE -o DIR/out`: exit status 2 and every fragment in the message.
void expect_error(const ScratchDir& dir, const std::string& command, const std::string& file,
                  const std::vector<std::string>& fragments) {
  const CliResult result = run_cli(
      {command, (dir.path() / file).string(), "-o", (dir.path() / "out").string()}, dir.path());
  EXPECT_EQ(result.status, 2) << result.out << result.err;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(result.err.find(fragment), std::string::npos) << fragment << "\n" << result.err;
  }
}

}  // namespace

TEST(MayaSoftBody, ExampleScenesRunAndTheViewerDrawsTriangles) {
  for (const char* scene : {"soft_block_drop.json", "soft_cantilever.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"simulate", example(scene).string(), "-o", out.string()}, dir.path());
    ASSERT_EQ(result.status, 0) << scene << result.err;
    EXPECT_NE(result.out.find("a soft body of"), std::string::npos) << result.out;
    for (const char* name : {"trajectory.csv", "positions.npy", "trajectory.svg", "viewer.html"}) {
      EXPECT_TRUE(fs::exists(out / name)) << scene << " " << name;
    }
    EXPECT_NE(maya::test::slurp(out / "viewer.html").find("\"triangles\":[[0,"), std::string::npos);
  }
}

TEST(MayaSoftBody, ExampleTasksFitAndPassGradcheck) {
  for (const char* task : {"soft_block_sysid.json", "soft_cantilever_noisy.json"}) {
    const ScratchDir dir;
    const fs::path out = dir.path() / "out";
    const CliResult result =
        run_cli({"optimize", example(task).string(), "-o", out.string(), "-q"}, dir.path());
    ASSERT_EQ(result.status, 0) << task << result.err;
    const nlohmann::json fitted = nlohmann::json::parse(maya::test::slurp(out / "fitted.json"));
    EXPECT_TRUE(fitted["optimizer"]["converged"].get<bool>()) << task;
    const bool noisy = std::string(task).find("noisy") != std::string::npos;
    for (const nlohmann::json& parameter : fitted["parameters"]) {
      // The noiseless fit recovers the truth; the noisy one holds it in its 95% interval.
      const double truth = parameter["true"][0].get<double>();
      EXPECT_NEAR(parameter["fitted"][0].get<double>(), truth, (noisy ? 0.01 : 1e-8) * truth)
          << task;
      if (noisy) {
        EXPECT_LE(parameter["interval95"][0][0].get<double>(), truth) << parameter.dump();
        EXPECT_GE(parameter["interval95"][0][1].get<double>(), truth) << parameter.dump();
      }
    }
    // The fitted scene (with its mesh file named as the scene named it) is itself a scene.
    EXPECT_TRUE(fs::exists(out / "fitted_scene.json"));
    const CliResult check = run_cli({"gradcheck", example(task).string()}, dir.path());
    EXPECT_EQ(check.status, 0) << task << check.out << check.err;
  }
}

TEST(MayaSoftBody, MissingOrMalformedMeshIsNamedWithTheSceneAndLine) {
  const ScratchDir dir;
  (void)dir.write("missing.json",
                  R"({"dt": 0.01, "steps": 5, "soft_body": {"mesh": {"gmsh": "nowhere.msh"}}})");
  expect_error(dir, "simulate", "missing.json",
               {"missing.json: scene.soft_body.mesh.gmsh: ", "nowhere.msh"});
  (void)dir.write("bad.msh",
                  "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n1 3 1 3\n2 1 0 3\n1\n2\nx\n");
  (void)dir.write("bad.json",
                  R"({"dt": 0.01, "steps": 5, "soft_body": {"mesh": {"gmsh": "bad.msh"}}})");
  expect_error(dir, "simulate", "bad.json",
               {"bad.json: scene.soft_body.mesh.gmsh: ", "bad.msh:9: expected a node tag"});
  (void)dir.write(
      "node.json",
      R"({"dt": 0.01, "steps": 5, "soft_body": {"mesh": {"node": "a.node", "ele": "a.ele"}}})");
  expect_error(dir, "simulate", "node.json", {"node.json: scene.soft_body.mesh.node: ", "a.node"});
}

TEST(MayaSoftBody, ParameterTheSimulatorDoesNotDifferentiateNamesTheOnesItDoes) {
  const ScratchDir dir;
  (void)dir.write("task.json", R"({
    "scene": {"dt": 0.01, "steps": 5,
              "soft_body": {"mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}}}},
    "parameters": [{"of": "springs.stiffness"}],
    "loss": {"type": "match_trajectory",
             "observed": {"simulate_with": {"soft_body.density": 3}}}})");
  expect_error(dir, "optimize", "task.json",
               {"task.parameters[0].of: 'springs.stiffness': the scene has no springs; the scene "
                "is an FEM soft body; its task parameters are soft_body.youngs_modulus"});
  (void)dir.write("springs.json", R"({
    "scene": {"dt": 0.01, "steps": 5, "particles": [{"position": [0, 0]}]},
    "parameters": [{"of": "soft_body.youngs_modulus"}],
    "loss": {"type": "reach_target", "particle": 0, "target": [0, 1]}})");
  expect_error(dir, "optimize", "springs.json",
               {"the scene is a mass-spring system; its task parameters are springs.stiffness"});
}

TEST(MayaSoftBody, BadSoftBodyValuesNameTheirPath) {
  const ScratchDir dir;
  (void)dir.write("nu.json", R"({"dt": 0.01, "steps": 5, "soft_body": {
    "mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}},
    "material": {"poisson_ratio": 0.5}}})");
  expect_error(dir, "simulate", "nu.json", {"scene.soft_body.material.poisson_ratio"});
  (void)dir.write("pin.json", R"({"dt": 0.01, "steps": 5, "soft_body": {
    "mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}}, "pinned": [4]}})");
  expect_error(dir, "simulate", "pin.json",
               {"scene.soft_body.pinned[0]: vertex 4 does not exist (the mesh has 4 vertices"});
  (void)dir.write("energy.json", R"({"dt": 0.01, "steps": 5, "soft_body": {
    "mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}},
    "material": {"energy": "neohookean"}}})");
  expect_error(dir, "simulate", "energy.json", {"unknown energy 'neohookean'"});
}

TEST(MayaSoftBody, RigidObstaclesHoldTheBodyUpAndItsModulusIsFitted) {
  const ScratchDir dir;
  const fs::path out = dir.path() / "out";
  const CliResult result = run_cli(
      {"simulate", example("soft_on_obstacles.json").string(), "-o", out.string()}, dir.path());
  ASSERT_EQ(result.status, 0) << result.err;
  // The block rests on the wedge (its top is well above the ground), not on the ground.
  const maya::io::NpyArray positions =
      maya::io::parse_npy(maya::test::slurp(out / "positions.npy"));
  const std::size_t frames = positions.shape[0];
  const std::size_t vertices = positions.shape[1];
  double lowest = 1e300;
  for (std::size_t v = 0; v < vertices; ++v) {
    lowest = std::min(lowest, positions.values[((frames - 1) * vertices + v) * 2 + 1]);
  }
  EXPECT_GT(lowest, 0.1);
  EXPECT_NE(maya::test::slurp(out / "viewer.html").find("\"shape\":\"polygon\""),
            std::string::npos);
  // A task on the scene: Young's modulus through the contact with the obstacles.
  const fs::path task =
      dir.write("task.json", R"({"scene": ")" + example("soft_on_obstacles.json").string() +
                                 R"(",
    "parameters": [{"of": "soft_body.youngs_modulus", "initial": 20000, "log_scale": true}],
    "loss": {"type": "match_trajectory", "every": 20,
             "observed": {"simulate_with": {"soft_body.youngs_modulus": 30000}}},
    "optimizer": {"tolerance": 1e-13, "converge_below": 1e-14}})");
  const CliResult fit =
      run_cli({"optimize", task.string(), "-o", (dir.path() / "fit").string(), "-q"}, dir.path());
  EXPECT_EQ(fit.status, 0) << fit.err;
  const CliResult check = run_cli({"gradcheck", task.string()}, dir.path());
  EXPECT_EQ(check.status, 0) << check.out << check.err;
}
