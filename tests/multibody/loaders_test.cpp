// URDF and MJCF readers: the shipped robots load and agree across formats; bad input is a
// ParseError naming the file, line and element.
#include <gtest/gtest.h>

#if MAYA_HAS_URDFDOM && MAYA_HAS_TINYXML2

#include <cmath>
#include <functional>
#include <numbers>
#include <string>

#include "maya/core/error.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"

namespace maya::multibody {
namespace {

std::string robot(const std::string& name) {
  return std::string(MAYA_SOURCE_DIR) + "/examples/robots/" + name;
}

TEST(Robots, LoadWithTheirCoordinates) {
  EXPECT_TRUE(mjcf_available());
  EXPECT_TRUE(urdf_available());
  const Model pendulum = load_urdf(robot("pendulum.urdf"));
  EXPECT_EQ(pendulum.nq(), 1U);
  const Model cartpole = load_urdf(robot("cartpole.urdf"));
  EXPECT_EQ(cartpole.nq(), 2U);
  EXPECT_EQ(cartpole.nu(), 2U);
  const Model arm = load_urdf(robot("arm7.urdf"));
  EXPECT_EQ(arm.nq(), 7U);
  EXPECT_EQ(arm.nu(), 7U);
  EXPECT_EQ(arm.num_bodies(), 9U);  // welded base, seven links, the massless tool frame
  EXPECT_TRUE(arm.actuators()[0].ctrl_limited);
  EXPECT_DOUBLE_EQ(arm.actuators()[0].ctrl_upper, 80.0);
  UrdfOptions floating;
  floating.floating_base = true;
  floating.ground_plane = true;
  const Model quadruped = load_urdf(robot("quadruped.urdf"), floating);
  EXPECT_EQ(quadruped.nq(), 19U);
  EXPECT_EQ(quadruped.nv(), 18U);
  EXPECT_EQ(quadruped.nu(), 12U);
  EXPECT_EQ(quadruped.contact_points().size(), 4U + 8U);  // four feet, the trunk's corners
}

TEST(Robots, UrdfAndMjcfOfTheSameRobotMoveAlike) {
  for (const std::string name : {"pendulum", "cartpole"}) {
    const Model urdf = load_urdf(robot(name + ".urdf"));
    const Model mjcf = load_mjcf(robot(name + ".xml"));
    ASSERT_EQ(urdf.nx(), mjcf.nx());
    std::vector<double> x(urdf.nx(), 0.0);
    x[urdf.nq() - 1] = 0.4;
    // RK4: the MJCF reader turns on MuJoCo's implicit damping, which only Euler uses.
    EXPECT_TRUE(mjcf.options().implicit_damping);
    const std::vector<double> a =
        rollout(urdf, urdf.parameters(), x, {}, 500, 1e-3, Integrator::kRungeKutta4);
    const std::vector<double> b =
        rollout(mjcf, mjcf.parameters(), x, {}, 500, 1e-3, Integrator::kRungeKutta4);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9) << name << " " << i;
  }
}

TEST(Robots, QuadrupedDroppedOnTheGroundComesToRestOnItsWeight) {
  UrdfOptions floating;
  floating.floating_base = true;
  floating.ground_plane = true;
  const Model model = load_urdf(robot("quadruped.urdf"), floating);
  std::vector<double> x = model.zero_state();
  x[2] = 0.45;
  for (std::size_t leg = 0; leg < 4; ++leg) x[7 + 3 * leg + 2] = -0.5;  // knees bent in range
  const std::vector<double> p = model.parameters();
  const std::vector<double> u(model.nu(), 0.0);
  for (int i = 0; i < 3000; ++i) x = step(model, p, x, u, 5e-4);
  double weight = 0.0;
  for (const Body& b : model.bodies()) weight += b.mass * 9.81;
  const std::vector<double> f = contact_forces(model, p, x);
  double normal = 0.0;
  for (std::size_t i = 2; i < f.size(); i += 3) normal += f[i];
  EXPECT_NEAR(normal, weight, 0.02 * weight);
  EXPECT_GT(x[2], 0.0);
}

TEST(Robots, MjcfGeomsGiveMassWhenThereIsNoInertial) {
  const Model model = parse_mjcf(R"(<mujoco><worldbody>
      <body name="ball" pos="0 0 1"><freejoint/><geom type="sphere" size="0.1"/></body>
    </worldbody></mujoco>)");
  const double mass = 1000.0 * 4.0 / 3.0 * std::numbers::pi * 0.001;
  EXPECT_NEAR(model.body(0).mass, mass, 1e-9);
  EXPECT_NEAR(model.body(0).inertia[0], 0.4 * mass * 0.01, 1e-9);
  EXPECT_DOUBLE_EQ(model.initial_state()[2], 1.0);
}

// The message names the source, the line and the element (and the value where there is one).
void expect_parse_error(const std::function<void()>& load, const std::string& where,
                        const std::string& what) {
  try {
    load();
    ADD_FAILURE() << "expected a ParseError at " << where;
  } catch (const ParseError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(where), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
}

std::string urdf_with(const std::string& link2, const std::string& joint = "") {
  return "<robot name=\"r\">\n<link name=\"a\"/>\n" + link2 +
         "<joint name=\"j\" type=\"revolute\">\n<parent link=\"a\"/><child link=\"b\"/>\n"
         "<axis xyz=\"0 0 1\"/>\n</joint>\n" +
         joint + "</robot>\n";
}
const std::string kGoodLink =
    "<link name=\"b\">\n<inertial><mass value=\"1\"/>"
    "<inertia ixx=\"1\" iyy=\"1\" izz=\"1\" ixy=\"0\" ixz=\"0\" iyz=\"0\"/></inertial>\n</link>\n";

TEST(UrdfErrors, NameFileLineAndElement) {
  const auto parse = [](const std::string& xml) {
    return [xml] { (void)parse_urdf(xml, "robot.urdf"); };
  };
  expect_parse_error(parse("<robot name=\"r\">\n<link name=\"a\">\n</robot>"),
                     "robot.urdf:", "malformed XML");
  expect_parse_error(
      parse(urdf_with("<link name=\"b\">\n<inertial><mass value=\"-2\"/>"
                      "<inertia ixx=\"1\" iyy=\"1\" izz=\"1\" ixy=\"0\" ixz=\"0\" iyz=\"0\"/>"
                      "</inertial>\n</link>\n")),
      "robot.urdf:4: <mass>", "mass must be positive, got -2");
  expect_parse_error(
      parse(urdf_with("<link name=\"b\">\n<inertial><mass value=\"1\"/>"
                      "<inertia ixx=\"1\" iyy=\"1\" izz=\"1\" ixy=\"2\" ixz=\"0\" iyz=\"0\"/>"
                      "</inertial>\n</link>\n")),
      "robot.urdf:4: <inertia>", "not positive definite");
  expect_parse_error(parse("<robot name=\"r\">\n<link name=\"a\"/>\n" + kGoodLink +
                           "<joint name=\"j\" type=\"revolute\">\n<parent link=\"a\"/><child "
                           "link=\"b\"/>\n<axis xyz=\"0 0 0\"/>\n</joint>\n</robot>\n"),
                     "robot.urdf:8: <axis>", "zero length");
  expect_parse_error(parse(urdf_with(kGoodLink,
                                     "<joint name=\"back\" type=\"fixed\">\n<parent "
                                     "link=\"b\"/><child link=\"a\"/>\n</joint>\n")),
                     "robot.urdf:", "kinematic loop");
  expect_parse_error(parse(urdf_with(kGoodLink,
                                     "<joint name=\"again\" type=\"fixed\">\n<parent "
                                     "link=\"a\"/><child link=\"b\"/>\n</joint>\n")),
                     "robot.urdf:10: <joint> 'again'", "kinematic loop");
  expect_parse_error(parse("<robot name=\"r\">\n<link name=\"a\"/>\n" + kGoodLink +
                           "<joint name=\"j\" type=\"planar\">\n<parent link=\"a\"/><child "
                           "link=\"b\"/>\n</joint>\n</robot>\n"),
                     "robot.urdf:6: <joint> 'j'", "not supported");
}

TEST(MjcfErrors, NameFileLineAndElement) {
  const auto parse = [](const std::string& xml) {
    return [xml] { (void)parse_mjcf(xml, "robot.xml"); };
  };
  expect_parse_error(parse("<mujoco>\n<worldbody>\n</mujoco>"), "robot.xml:", "malformed XML");
  expect_parse_error(parse("<mujoco>\n<worldbody>\n<body>\n<joint axis=\"0 0 1\"/>\n"
                           "<inertial mass=\"0\" diaginertia=\"1 1 1\"/>\n</body>\n</worldbody>\n"
                           "</mujoco>"),
                     "robot.xml:5: <inertial>", "mass must be positive");
  expect_parse_error(parse("<mujoco>\n<worldbody>\n<body>\n<joint axis=\"0 0 0\"/>\n"
                           "<geom size=\"0.1\"/>\n</body>\n</worldbody>\n</mujoco>"),
                     "robot.xml:4: <joint>", "zero length");
  expect_parse_error(parse("<mujoco>\n<worldbody>\n<body>\n<joint/>\n"
                           "<inertial mass=\"1\" fullinertia=\"1 1 1 2 0 0\"/>\n</body>\n"
                           "</worldbody>\n</mujoco>"),
                     "robot.xml:5: <inertial>", "not positive definite");
  expect_parse_error(parse("<mujoco>\n<worldbody>\n<body>\n<joint/>\n<geom type=\"mesh\"/>\n"
                           "</body>\n</worldbody>\n</mujoco>"),
                     "robot.xml:5: <geom>", "not supported");
  expect_parse_error(parse("<mujoco>\n<worldbody>\n<body>\n<joint/>\n<geom size=\"abc\"/>\n"
                           "</body>\n</worldbody>\n</mujoco>"),
                     "robot.xml:5: <geom>", "not a list of numbers");
  expect_parse_error(
      parse("<mujoco>\n<worldbody>\n<body>\n<freejoint/><joint/>\n<geom size=\"1\"/>\n"
            "</body>\n</worldbody>\n</mujoco>"),
      "robot.xml:4: <freejoint>", "only joint");
  expect_parse_error(parse("<mujoco>\n<worldbody/>\n<tendon/>\n</mujoco>"), "robot.xml:3: <tendon>",
                     "not supported");
}

// The contact model: UrdfOptions, MjcfOptions, and maya's <custom> text in an MJCF file.
TEST(Loaders, ContactModelFromOptionsAndMjcfCustomText) {
  UrdfOptions urdf;
  urdf.floating_base = true;
  urdf.ground_plane = true;
  EXPECT_EQ(load_urdf(robot("quadruped.urdf"), urdf).options().contact_model,
            ContactModel::kPenalty);
  urdf.contact_model = ContactModel::kHard;
  EXPECT_EQ(load_urdf(robot("quadruped.urdf"), urdf).options().contact_model, ContactModel::kHard);
  const std::string body =
      "<worldbody><body><freejoint/><geom type=\"sphere\" size=\"0.1\"/></body></worldbody>";
  const auto with = [&](const std::string& data) {
    return "<mujoco>\n<custom>\n<text name=\"maya.contact\" data=\"" + data + "\"/>\n</custom>\n" +
           body + "</mujoco>";
  };
  EXPECT_EQ(parse_mjcf("<mujoco>" + body + "</mujoco>").options().contact_model,
            ContactModel::kPenalty);
  EXPECT_EQ(parse_mjcf(with("hard")).options().contact_model, ContactModel::kHard);
  EXPECT_EQ(parse_mjcf(with("penalty")).options().contact_model, ContactModel::kPenalty);
  MjcfOptions penalty;
  penalty.contact_model = ContactModel::kPenalty;
  EXPECT_EQ(parse_mjcf(with("hard"), "f.xml", penalty).options().contact_model,
            ContactModel::kPenalty);
  try {
    (void)parse_mjcf(with("soft"), "f.xml");
    ADD_FAILURE() << "no ParseError";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("f.xml:3: <text>"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("soft"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace maya::multibody

#endif
