// Scene files with a soft body (meshes generated or read, errors with the mesh file's line) or
// hard contact, and their round trip through scene_json.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/io/scene_file.hpp"
#include "maya/io/task_file.hpp"

namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text, const fs::path& base = ".") {
  try {
    (void)maya::io::parse_scene_text(text, "s.json", base);
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST(SoftBodyScene, GeneratedRectangleIsPlacedAndRoundTrips) {
  const maya::io::SceneSpec scene = maya::io::parse_scene_text(R"({"dt": 0.01, "steps": 3,
    "soft_body": {"mesh": {"rectangle": {"size": [0.2, 0.1], "cells": [2, 1]}},
                  "material": {"youngs_modulus": 2e4, "poisson_ratio": 0.25},
                  "position": [1, 2], "angle": 1.5707963267948966, "pinned": [0],
                  "integrator": "implicit"}})");
  ASSERT_TRUE(scene.soft_body);
  const maya::io::SoftBodySpec& body = *scene.soft_body;
  EXPECT_EQ(body.num_vertices(), 6u);
  EXPECT_EQ(body.triangles.size(), 12u);
  // Vertex 0 at (-0.1, -0.05) turned a quarter counter-clockwise and moved to (1, 2).
  const std::vector<double> at = body.initial_positions();
  EXPECT_NEAR(at[0], 1.05, 1e-12);
  EXPECT_NEAR(at[1], 1.9, 1e-12);
  const maya::io::SceneSpec again = maya::io::parse_scene_text(maya::io::scene_json(scene));
  ASSERT_TRUE(again.soft_body);
  EXPECT_EQ(again.soft_body->rest_positions, body.rest_positions);
  EXPECT_EQ(again.soft_body->youngs_modulus, 2e4);
  EXPECT_TRUE(again.soft_body->implicit);
  EXPECT_EQ(again.soft_body->pinned, body.pinned);
}

TEST(SoftBodyScene, NodeEleMeshIsReadRelativeToTheScene) {
  const fs::path meshes = fs::path(MAYA_SOURCE_DIR) / "examples" / "meshes";
  const maya::io::SceneSpec scene = maya::io::parse_scene_text(
      R"({"dt": 0.01, "steps": 3, "soft_body": {"mesh": {"node": "square.node", "ele": "square.ele"}}})",
      "s.json", meshes);
  EXPECT_EQ(scene.soft_body->num_vertices(), 4u);
  EXPECT_NE(
      error_of(R"({"dt": 0.01, "steps": 3, "soft_body": {"mesh": {"gmsh": "tetrahedron.msh"}}})",
               meshes)
          .find("scene.soft_body.mesh.gmsh: is a 3-D mesh"),
      std::string::npos);
}

TEST(SoftBodyScene, BadValuesNameTheirPath) {
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3, "soft_body": {"mesh": {}}})")
                .find("scene.soft_body.mesh: needs"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3, "particles": [{"position": [0, 0]}],
    "soft_body": {"mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}}}})")
                .find("particles and springs or a soft body, not both"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3,
    "soft_body": {"mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}},
                  "integrator": "rk4"}})")
                .find("scene.soft_body.integrator: must be \"explicit\""),
            std::string::npos);
}

TEST(HardContactScene, JointsAndMaterialsRoundTrip) {
  const maya::io::SceneSpec scene = maya::io::parse_scene_text(R"({"dt": 0.01, "steps": 3,
    "bodies": [{"shape": "box", "size": [1, 0.2], "position": [0.5, 1]},
               {"shape": "circle", "radius": 0.1, "position": [2, 1]}],
    "hard_contact": {"restitution": 0.4, "friction": 0.2, "ground": {"friction": 0.9},
                     "joints": [{"a": 0, "pivot": [0, 1]}, {"a": 0, "b": 1, "pivot": [1, 1]}]}})");
  ASSERT_TRUE(scene.hard_contact);
  EXPECT_EQ(scene.hard_contact->joints.size(), 2u);
  EXPECT_FALSE(scene.hard_contact->joints[0].body_b);
  EXPECT_EQ(scene.hard_contact->ground_restitution, 0.4);
  EXPECT_EQ(scene.hard_contact->ground_friction, 0.9);
  const maya::io::SceneSpec again = maya::io::parse_scene_text(maya::io::scene_json(scene));
  ASSERT_TRUE(again.hard_contact);
  EXPECT_EQ(*again.hard_contact->joints[1].body_b, 1u);
  EXPECT_EQ(again.bodies.size(), 2u);
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3,
    "bodies": [{"shape": "circle", "radius": 0.1, "position": [2, 1]}],
    "body_contact": {}, "hard_contact": {}})")
                .find("penalty contact (body_contact) or hard contact, not both"),
            std::string::npos);
}

TEST(TaskSelectors, SoftBodyAndBodyFieldsReadAndAssign) {
  const maya::io::TaskSpec task = maya::io::parse_task_text(R"({
    "scene": {"dt": 0.01, "steps": 3,
              "bodies": [{"shape": "box", "size": [2, 1], "position": [0, 1], "density": 3}]},
    "parameters": [{"of": "bodies.mass"}, {"of": "bodies[0].velocity", "initial": [1, 2]}],
    "loss": {"type": "reach_target", "particle": 0, "target": [1, 0]}})");
  EXPECT_EQ(task.parameters[0].initial, (std::vector<double>{6.0}));  // density x area
  maya::io::SceneSpec scene = task.scene;
  maya::io::assign(scene, task.parameters[1].selector, {3, 4});
  EXPECT_EQ(scene.bodies[0].velocity, (std::array<double, 2>{3, 4}));
}

TEST(SoftBodyScene, AMeshThatIsNotARegularFileIsRefused) {
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3, "soft_body": {"mesh": {"gmsh": "/dev/zero"}}})")
                .find("scene.soft_body.mesh.gmsh: /dev/zero: not a regular file"),
            std::string::npos);
}

TEST(SoftBodyScene, ObstaclesNeedBodies) {
  EXPECT_NE(error_of(R"({"dt": 0.01, "steps": 3, "soft_body": {
    "mesh": {"rectangle": {"size": [1, 1], "cells": [1, 1]}}, "obstacles": true}})")
                .find("scene.soft_body: has \"obstacles\": true, but the scene has no bodies"),
            std::string::npos);
}
