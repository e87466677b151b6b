#include "maya/io/scene_file.hpp"

#include <gtest/gtest.h>

#include "maya/core/error.hpp"

namespace {

std::string parse_error_of(const std::string& text) {
  try {
    (void)maya::io::parse_scene_text(text, "s.json");
  } catch (const maya::ParseError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected maya::ParseError for " << text;
  return {};
}

}  // namespace

TEST(ParseScene, ReadsParticlesSpringsGroundAndDefaults) {
  const maya::io::SceneSpec scene = maya::io::parse_scene_text(R"({
    "dt": 0.01, "steps": 10, "ground": true,
    "particles": [{"position": [0, 1], "velocity": [1, 0]}, {"position": [1, 1], "mass": 2}],
    "springs": [{"i": 0, "j": 1, "stiffness": 5}]})");
  EXPECT_EQ(scene.particles.size(), 2u);
  EXPECT_EQ(scene.particles[0].mass, 1.0);
  EXPECT_EQ(scene.particles[1].mass, 2.0);
  EXPECT_EQ(scene.particles[0].velocity[0], 1.0);
  EXPECT_EQ(scene.gravity[1], -9.81);
  ASSERT_TRUE(scene.ground.has_value());
  EXPECT_EQ(scene.ground->stiffness, 1e4);
  EXPECT_EQ(scene.springs[0].damping, 0.0);
  EXPECT_FALSE(scene.springs[0].rest_length.has_value());
  EXPECT_DOUBLE_EQ(scene.duration(), 0.1);
}

TEST(ParseScene, LatticeBuildsGridAndShearSprings) {
  const maya::io::SceneSpec scene = maya::io::parse_scene_text(R"({
    "dt": 0.01, "steps": 1,
    "lattice": {"origin": [0, 0], "rows": 2, "cols": 3, "spacing": 0.5, "stiffness": 10,
                "angular_velocity": 2}})");
  EXPECT_EQ(scene.particles.size(), 6u);
  // 2 rows x 2 horizontal + 3 vertical + 2 cells x 2 diagonals.
  EXPECT_EQ(scene.springs.size(), 4u + 3u + 4u);
  EXPECT_EQ(scene.particles[5].position[0], 1.0);
  EXPECT_EQ(scene.particles[5].position[1], 0.5);
  // v = omega x (p - centre) with centre (0.5, 0.25): particle 0 at (-0.5, -0.25) relative.
  EXPECT_DOUBLE_EQ(scene.particles[0].velocity[0], 0.5);
  EXPECT_DOUBLE_EQ(scene.particles[0].velocity[1], -1.0);
}

TEST(ParseScene, RejectsNonPhysicalValuesWithTheirPath) {
  EXPECT_EQ(parse_error_of(R"({"dt": -1, "steps": 1, "particles": [{"position": [0, 0]}]})"),
            "s.json: scene.dt: must be positive, got -1");
  EXPECT_EQ(parse_error_of(R"({"dt": 1, "steps": 0, "particles": [{"position": [0, 0]}]})"),
            "s.json: scene.steps: must be in [1, 10000000], got 0");
  EXPECT_EQ(
      parse_error_of(R"({"dt": 1, "steps": 1, "particles": [{"position": [0, 0], "mass": 0}]})"),
      "s.json: scene.particles[0].mass: must be positive, got 0");
  EXPECT_EQ(parse_error_of(R"({"dt": 1, "steps": 1, "particles": [{"position": [0, 0]}],
                               "springs": [{"i": 0, "j": 0, "stiffness": 1}]})"),
            "s.json: scene.springs[0]: joins particle 0 to itself; i and j must differ");
  EXPECT_EQ(parse_error_of(R"({"dt": 1, "steps": 1})"),
            "s.json: scene: has no particles, bodies or soft body; give \"particles\", a "
            "\"lattice\", \"bodies\" or a \"soft_body\"");
  EXPECT_EQ(parse_error_of(R"({"dt": 1, "steps": 1, "particles": [{"position": [0]}]})"),
            "s.json: scene.particles[0].position: must have 2 numbers, got 1");
}
