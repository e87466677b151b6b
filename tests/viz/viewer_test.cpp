#include "maya/viz/viewer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "maya/core/error.hpp"

namespace {

maya::viz::ViewerScene pendulum_scene() {
  maya::viz::ViewerScene scene;
  scene.title = "two <particles>";
  scene.trajectory.times = {0.0, 0.5, 1.0};
  scene.trajectory.num_particles = 2;
  scene.trajectory.positions = {0, 1, 1, 1, 0, 0.9, 1.1, 0.8, 0, 0.8, 1.2, 0.6};
  scene.springs = {{0, 1, 1.0}};
  scene.ground_height = 0.0;
  scene.targets = {{{1.5, 0.0}}};
  return scene;
}

// The JSON between the data script tags of a viewer page.
std::string embedded_json(const std::string& html) {
  const std::string open = "<script id=\"maya-data\" type=\"application/json\">";
  const std::size_t start = html.find(open) + open.size();
  const std::size_t end = html.find("</script>", start);
  return html.substr(start, end - start);
}

}  // namespace

TEST(ViewerJson, HoldsFramesSpringsGroundAndTargets) {
  const nlohmann::json data = nlohmann::json::parse(maya::viz::viewer_json(pendulum_scene()));
  EXPECT_EQ(data["format"], "maya-viewer");
  EXPECT_EQ(data["version"], 1);
  EXPECT_EQ(data["times"].size(), 3u);
  EXPECT_EQ(data["particles"]["count"], 2);
  EXPECT_EQ(data["particles"]["frames"][2][3], 0.6);
  EXPECT_EQ(data["springs"][0][1], 1);
  EXPECT_EQ(data["ground"]["height"], 0.0);
  EXPECT_EQ(data["targets"][0][0], 1.5);
  EXPECT_TRUE(data["ghost"].is_null());
}

TEST(ViewerJson, RigidBodiesCarryShapesAndPoses) {
  maya::viz::ViewerScene scene;
  scene.trajectory.times = {0.0, 1.0};
  scene.trajectory.num_bodies = 2;
  scene.trajectory.body_poses = {0, 1, 0, 2, 1, 0, 0, 0.5, 0.3, 2, 0.5, -0.3};
  maya::viz::ViewerBody box;
  box.shape = maya::viz::ViewerBody::Shape::kPolygon;
  box.vertices = {{{-0.5, -0.5}}, {{0.5, -0.5}}, {{0.5, 0.5}}, {{-0.5, 0.5}}};
  maya::viz::ViewerBody ball;
  ball.radius = 0.25;
  scene.bodies = {box, ball};
  const nlohmann::json data = nlohmann::json::parse(maya::viz::viewer_json(scene));
  EXPECT_EQ(data["bodies"]["shapes"][0]["shape"], "polygon");
  EXPECT_EQ(data["bodies"]["shapes"][0]["vertices"].size(), 4u);
  EXPECT_EQ(data["bodies"]["shapes"][1]["radius"], 0.25);
  EXPECT_EQ(data["bodies"]["frames"][1][2], 0.3);
}

TEST(ViewerJson, SpringToAMissingParticleThrowsValueError) {
  maya::viz::ViewerScene scene = pendulum_scene();
  scene.springs.push_back({0, 2, 1.0});
  EXPECT_THROW((void)maya::viz::viewer_json(scene), maya::ValueError);
}

TEST(ViewerHtml, IsOneSelfContainedPageWithEscapedData) {
  maya::viz::ViewerScene scene = pendulum_scene();
  scene.title = "</script><script>alert(1)</script>";
  const std::string html = maya::viz::viewer_html(scene);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  const nlohmann::json data = nlohmann::json::parse(embedded_json(html));
  EXPECT_EQ(data["title"], scene.title);
  EXPECT_NE(html.find("id=\"play\""), std::string::npos);
  EXPECT_NE(html.find("id=\"slider\""), std::string::npos);
}
