// Every contact path (ground against a corner or a circle, circle-circle, circle against a face or
// a vertex, polygon-polygon incident and reference vertices), under both normal laws: the contact
// set is as designed and stays fixed over the rollout, the fused gradient matches central
// differences, the fused and composed steps agree, and contact_frames is differentiable.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "rigid/rigid_scenes.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::BodyShape;
using maya::rigid::Contact;
using maya::rigid::ContactKind;
using maya::rigid::NormalForceLaw;
using maya::rigid::RigidWorld2D;
using maya::rigid::RigidWorldOptions;
using maya::rigid::Vec2;
using rigid_test::Path;

constexpr int kSteps = 10;
constexpr double kDt = 1e-3;

struct Scene {
  RigidWorld2D world;
  Tensor state;
  std::vector<ContactKind> expected;
};

// The centre that puts body-frame point `local` at `world` when the body is turned by `angle`.
Vec2 centre_for(Vec2 local, double angle, Vec2 world) {
  const double c = std::cos(angle), s = std::sin(angle);
  return {world.x - (c * local.x - s * local.y), world.y - (s * local.x + c * local.y)};
}

RigidWorldOptions no_ground(NormalForceLaw law) {
  RigidWorldOptions options;
  options.grounds.clear();
  options.gravity = {0.0, 0.0};
  options.normal_law = law;
  return options;
}

RigidWorldOptions with_ground(NormalForceLaw law, Vec2 normal = {0.0, 1.0}) {
  RigidWorldOptions options;
  options.grounds = {maya::rigid::GroundPlane::through({0.0, 0.0}, normal)};
  options.normal_law = law;
  return options;
}

Scene ground_box_corner(NormalForceLaw law) {
  // The lowest corner (-0.1, -0.05) of a box turned by 0.3 sits 1 mm below y = 0.
  const double angle = 0.3;
  const Vec2 c = centre_for({-0.1, -0.05}, angle, {0.2, -1e-3});
  return {RigidWorld2D({BodyShape::box(0.2, 0.1)}, with_ground(law)),
          rigid_test::state_of({{c.x, c.y, angle, 0.004, -0.05, 0.2}}),
          {ContactKind::kGround}};
}

Scene ground_circle(NormalForceLaw law) {
  return {RigidWorld2D({BodyShape::circle(0.1)}, with_ground(law)),
          rigid_test::state_of({{0.3, 0.099, 0.1, 0.003, -0.02, 0.05}}),
          {ContactKind::kGround}};
}

Scene tilted_ground_box(NormalForceLaw law) {
  // Ground through the origin with normal (-0.2, 1): a box corner 1 mm inside it.
  const Vec2 normal{-0.2 / std::sqrt(1.04), 1.0 / std::sqrt(1.04)};
  const double angle = 0.3;
  const Vec2 corner{0.1 - 1e-3 * normal.x, 0.02 - 1e-3 * normal.y};
  const Vec2 c = centre_for({-0.1, -0.05}, angle, corner);
  return {RigidWorld2D({BodyShape::box(0.2, 0.1)}, with_ground(law, {-0.2, 1.0})),
          rigid_test::state_of({{c.x, c.y, angle, -0.006, -0.03, 0.1}}),
          {ContactKind::kGround}};
}

Scene circle_circle(NormalForceLaw law) {
  // Radii 0.1 and 0.15, centres 0.249 apart along (0.8, 0.6).
  return {RigidWorld2D({BodyShape::circle(0.1), BodyShape::circle(0.15)}, no_ground(law)),
          rigid_test::state_of({{0.0, 0.0, 0.2, 0.02, 0.01, 1.0},
                                {0.249 * 0.8, 0.249 * 0.6, -0.4, -0.01, 0.0, -2.0}}),
          {ContactKind::kPoints}};
}

Scene circle_face(NormalForceLaw law) {
  // A circle of radius 0.1 overlapping the top face of a turned 0.4 x 0.2 box by 1 mm.
  const double angle = 0.2;
  const double c = std::cos(angle), s = std::sin(angle);
  const Vec2 face_point{-s * 0.1 + c * 0.03, c * 0.1 + s * 0.03};  // on the top face
  const Vec2 normal{-s, c};
  const Vec2 centre{face_point.x + 0.099 * normal.x, face_point.y + 0.099 * normal.y};
  return {RigidWorld2D({BodyShape::box(0.4, 0.2), BodyShape::circle(0.1)}, no_ground(law)),
          rigid_test::state_of(
              {{0.0, 0.0, angle, 0.01, 0.0, 0.3}, {centre.x, centre.y, 0.0, -0.005, -0.01, 1.5}}),
          {ContactKind::kFace}};
}

Scene circle_vertex(NormalForceLaw law) {
  // A circle beyond the corner (0.2, 0.1) of a 0.4 x 0.2 box, along (0.6, 0.8), 1 mm deep.
  const Vec2 centre{0.2 + 0.099 * 0.6, 0.1 + 0.099 * 0.8};
  return {RigidWorld2D({BodyShape::box(0.4, 0.2), BodyShape::circle(0.1)}, no_ground(law)),
          rigid_test::state_of(
              {{0.0, 0.0, 0.0, 0.0, 0.01, -0.2}, {centre.x, centre.y, 0.0, -0.01, 0.0, 0.7}}),
          {ContactKind::kPoints}};
}

Scene polygon_incident_vertex(NormalForceLaw law) {
  // The lowest corner of a small box turned by 0.4 pokes 2 mm into the top of a wide flat box.
  const double angle = 0.4;
  const Vec2 c = centre_for({-0.1, -0.05}, angle, {0.03, 0.1 - 2e-3});
  return {
      RigidWorld2D({BodyShape::box(0.4, 0.2), BodyShape::box(0.2, 0.1)}, no_ground(law)),
      rigid_test::state_of({{0.0, 0.0, 0.0, 0.0, 0.02, 0.1}, {c.x, c.y, angle, 0.01, -0.02, -0.3}}),
      {ContactKind::kFace}};
}

Scene polygon_reference_vertex(NormalForceLaw law) {
  // A box overhanging the right edge of another, tilted by 0.01 so that the lower box's top face is
  // the reference: its left corner touches that face, and the lower box's top-right corner
  // touches the upper box's bottom face (where Box2D would clip).
  const double angle = 0.01;
  const Vec2 c = centre_for({-0.1, -0.05}, angle, {-0.05, 0.05 - 4e-3});
  return {RigidWorld2D({BodyShape::box(0.2, 0.1), BodyShape::box(0.2, 0.1)}, no_ground(law)),
          rigid_test::state_of(
              {{0.0, 0.0, 0.0, 0.0, 0.01, 0.05}, {c.x, c.y, angle, 0.005, -0.01, 0.1}}),
          {ContactKind::kFace, ContactKind::kFace}};
}

struct Case {
  const char* name;
  Scene (*make)(NormalForceLaw);
  NormalForceLaw law;
};

std::string law_name(NormalForceLaw law) {
  return law == NormalForceLaw::kKelvinVoigt ? "KelvinVoigt" : "HuntCrossley";
}

maya::rigid::RigidParameterValues values_for(const Scene& scene, NormalForceLaw law) {
  maya::rigid::ContactMaterial material;
  if (law == NormalForceLaw::kKelvinVoigt) {
    material = {2e3, 5.0, 0.4};
  } else {
    material = {2e4, 0.5, 0.4};
  }
  maya::rigid::RigidParameterValues v = scene.world.parameters_from_density(200.0, material);
  // A small applied wrench so that its gradient path is exercised too.
  v.applied = Tensor::uniform(v.applied.shape(), -0.5, 0.5, 5);
  return v;
}

class ContactPath : public ::testing::TestWithParam<Case> {};

TEST_P(ContactPath, HasTheDesignedContactsThroughoutTheRollout) {
  const Scene scene = GetParam().make(GetParam().law);
  const auto values = values_for(scene, GetParam().law);
  TensorTape tape;
  const auto params = values.constants(tape);
  TensorVar state = tape.constant(scene.state);
  std::vector<Contact> first;
  for (int step = 0; step <= kSteps; ++step) {
    const std::vector<Contact> contacts = scene.world.find_contacts(state, params);
    if (step == 0) {
      first = contacts;
      ASSERT_EQ(contacts.size(), scene.expected.size());
      for (std::size_t i = 0; i < contacts.size(); ++i) {
        EXPECT_EQ(contacts[i].kind, scene.expected[i]) << "contact " << i;
        EXPECT_GT(contacts[i].depth, 5e-4) << "contact " << i;
      }
    } else {
      ASSERT_EQ(contacts.size(), first.size()) << "step " << step;
      for (std::size_t i = 0; i < contacts.size(); ++i) {
        EXPECT_EQ(contacts[i].kind, first[i].kind);
        EXPECT_EQ(contacts[i].body_a, first[i].body_a);
        EXPECT_EQ(contacts[i].feature_a, first[i].feature_a);
        EXPECT_EQ(contacts[i].body_b, first[i].body_b);
        EXPECT_EQ(contacts[i].feature_b, first[i].feature_b);
      }
    }
    state = scene.world.step(state, params, kDt);
  }
}

TEST_P(ContactPath, FusedGradientMatchesCentralDifferences) {
  const Scene scene = GetParam().make(GetParam().law);
  const auto values = values_for(scene, GetParam().law);
  const auto inputs = rigid_test::unit_parameter_inputs_of(scene.state, values);
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        return rigid_test::loss_of(rigid_test::rollout(
            scene.world, rigid_test::unit_parameters(x, values), kSteps, kDt, Path::kFused));
      },
      inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(report.worst_error[i], 1e-6)
        << "input " << i << " entry " << report.worst_entry[i] << ": analytic "
        << report.analytic[i] << " numeric " << report.numeric[i];
  }
}

TEST_P(ContactPath, FusedEqualsComposedInValuesAndGradients) {
  const Scene scene = GetParam().make(GetParam().law);
  const auto inputs = rigid_test::inputs_of(scene.state, values_for(scene, GetParam().law));
  Tensor final_state[2];
  std::vector<Tensor> gradients[2];
  for (const Path path : {Path::kFused, Path::kComposed}) {
    TensorTape tape;
    std::vector<TensorVar> x;
    for (const Tensor& input : inputs) x.push_back(tape.var(input));
    const TensorVar state = rigid_test::rollout(scene.world, x, kSteps, kDt, path);
    const auto g = tape.grad(rigid_test::loss_of(state));
    const int k = path == Path::kFused ? 0 : 1;
    final_state[k] = state.value();
    for (const TensorVar leaf : x) gradients[k].push_back(g[leaf]);
  }
  EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE(maya::allclose(gradients[0][i], gradients[1][i], 1e-12, 1e-12))
        << "input " << i << ": max difference "
        << maya::max_abs_difference(gradients[0][i], gradients[1][i]);
  }
}

TEST_P(ContactPath, FrameGeometryIsDifferentiableAndMatchesDetection) {
  const Scene scene = GetParam().make(GetParam().law);
  const auto values = values_for(scene, GetParam().law);
  TensorTape tape;
  const auto params = values.constants(tape);
  const std::vector<Contact> contacts =
      scene.world.find_contacts(tape.constant(scene.state), params);
  const maya::rigid::ContactFrames frames =
      scene.world.contact_frames(tape.constant(scene.state), params, contacts);
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    EXPECT_NEAR(frames.depth.view()[i], contacts[i].depth, 1e-15);
    EXPECT_NEAR(frames.point.view()[2 * i], contacts[i].point.x, 1e-15);
    EXPECT_NEAR(frames.point.view()[2 * i + 1], contacts[i].point.y, 1e-15);
    EXPECT_NEAR(frames.normal.view()[2 * i], contacts[i].normal.x, 1e-15);
    EXPECT_NEAR(frames.normal.view()[2 * i + 1], contacts[i].normal.y, 1e-15);
    EXPECT_NEAR(std::hypot(contacts[i].normal.x, contacts[i].normal.y), 1.0, 1e-15);
  }
  // Point, normal and depth as functions of the state, vertices and radii.
  const Tensor inputs[] = {scene.state, values.vertices, values.radius};
  const auto report = maya::gradcheck(
      [&](TensorTape& t, std::span<const TensorVar> x) {
        maya::rigid::RigidParameters p = values.constants(t);
        p.vertices = x[1];
        p.radius = x[2];
        const maya::rigid::ContactFrames f = scene.world.contact_frames(x[0], p, contacts);
        return rigid_test::loss_of(
            maya::concat({maya::reshape(f.point, {2 * contacts.size()}),
                          maya::reshape(f.normal, {2 * contacts.size()}), f.depth},
                         0));
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-8);
}

std::vector<Case> all_cases() {
  const std::pair<const char*, Scene (*)(NormalForceLaw)> scenes[] = {
      {"GroundBoxCorner", ground_box_corner},
      {"GroundCircle", ground_circle},
      {"TiltedGroundBox", tilted_ground_box},
      {"CircleCircle", circle_circle},
      {"CircleFace", circle_face},
      {"CircleVertex", circle_vertex},
      {"PolygonIncidentVertex", polygon_incident_vertex},
      {"PolygonReferenceVertex", polygon_reference_vertex},
  };
  std::vector<Case> cases;
  for (const NormalForceLaw law : {NormalForceLaw::kKelvinVoigt, NormalForceLaw::kHuntCrossley}) {
    for (const auto& [name, make] : scenes) cases.push_back({name, make, law});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Rigid, ContactPath, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.name) + law_name(param.param.law);
                         });

}  // namespace
