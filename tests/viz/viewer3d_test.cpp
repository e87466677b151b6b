// The 3-D viewer page: its JSON carries every body, shape and pose; bad shapes are named; the
// page embeds three.js when the build had it, and says how to get it when not.
#include "maya/viz/viewer3d.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "maya/core/error.hpp"

namespace {

maya::viz::Viewer3DScene two_links() {
  using maya::viz::Viewer3DShape;
  maya::viz::Viewer3DScene scene;
  scene.title = "arm <two links>";
  Viewer3DShape box;
  box.type = Viewer3DShape::Type::kBox;
  box.half_size = {0.1, 0.2, 0.3};
  Viewer3DShape capsule;
  capsule.type = Viewer3DShape::Type::kCapsule;
  capsule.radius = 0.05;
  capsule.half_length = 0.2;
  capsule.position = {0.0, 0.0, -0.2};
  scene.bodies = {{"base", -1, {box}}, {"link", 0, {capsule}}};
  scene.times = {0.0, 0.1};
  scene.poses = {0, 0, 1, 1, 0, 0, 0, 0,   0, 0.5, 1, 0, 0, 0,   // frame 0
                 0, 0, 1, 1, 0, 0, 0, 0.1, 0, 0.5, 0, 1, 0, 0};  // frame 1
  scene.planes = {{0.0, 0.0, 1.0, 0.0}};
  scene.targets = {{0.3, 0.2, 0.1}};
  return scene;
}

std::string embedded_json(const std::string& html) {
  const std::string open = "<script id=\"maya-data\" type=\"application/json\">";
  const std::size_t start = html.find(open) + open.size();
  const std::size_t end = html.find("</script>", start);
  return html.substr(start, end - start);
}

TEST(Viewer3D, JsonCarriesBodiesShapesAndPoses) {
  const auto json = nlohmann::json::parse(maya::viz::viewer3d_json(two_links()));
  EXPECT_EQ(json["format"], "maya-viewer-3d");
  EXPECT_EQ(json["title"], "arm <two links>");
  ASSERT_EQ(json["bodies"].size(), 2u);
  EXPECT_EQ(json["bodies"][1]["parent"], 0);
  EXPECT_EQ(json["bodies"][0]["shapes"][0]["type"], "box");
  EXPECT_DOUBLE_EQ(json["bodies"][0]["shapes"][0]["half_size"][2], 0.3);
  EXPECT_EQ(json["bodies"][1]["shapes"][0]["type"], "capsule");
  EXPECT_EQ(json["poses"].size(), 28u);
  EXPECT_DOUBLE_EQ(json["poses"][14 + 7 + 1], 0.0);
  EXPECT_DOUBLE_EQ(json["poses"][14 + 7 + 0], 0.1);
  EXPECT_EQ(json["planes"].size(), 1u);
  EXPECT_EQ(json["targets"].size(), 1u);
}

TEST(Viewer3D, PosesOfTheWrongSizeAreAShapeErrorNamingTheSizes) {
  maya::viz::Viewer3DScene scene = two_links();
  scene.poses.pop_back();
  try {
    (void)maya::viz::viewer3d_json(scene);
    FAIL() << "expected ShapeError";
  } catch (const maya::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("28"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("27"), std::string::npos) << e.what();
  }
}

TEST(Viewer3D, PageEmbedsTheDataAndThreeJsOrSaysHowToGetIt) {
  const std::string html = maya::viz::viewer3d_html(two_links());
  EXPECT_EQ(html.find("@MAYA_"), std::string::npos);  // every marker filled
  EXPECT_NE(html.find("<title>arm &lt;two links&gt;</title>"), std::string::npos);
  const auto json = nlohmann::json::parse(embedded_json(html));
  EXPECT_EQ(json["bodies"].size(), 2u);
  EXPECT_EQ(html.find("<script src"), std::string::npos);  // nothing loaded from elsewhere
  if (maya::viz::viewer3d_has_three()) {
    EXPECT_NE(html.find("WebGLRenderer"), std::string::npos);
    EXPECT_GT(html.size(), 500000u);  // three.min.js is in the page
  } else {
    EXPECT_NE(html.find("libjs-three"), std::string::npos);
  }
}

}  // namespace
