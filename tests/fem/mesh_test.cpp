#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <numeric>
#include <string>

namespace {

using maya::Tensor;
using maya::fem::Mesh;
namespace fem = maya::fem;

std::string message_of(const auto& action) {
  try {
    action();
  } catch (const maya::Error& error) {
    return error.what();
  }
  return "(no exception)";
}

}  // namespace

TEST(MeshGenerators, ElementsArePositiveAndFillTheDomain) {
  const Mesh rectangle =
      maya::fem::rectangle_mesh({.width = 2.0, .height = 0.5, .cells_x = 8, .cells_y = 3});
  EXPECT_EQ(rectangle.num_vertices(), 9u * 4u);
  EXPECT_EQ(rectangle.num_elements(), 8u * 3u * 2u);
  const auto areas = rectangle.signed_volumes();
  for (const double a : areas) EXPECT_NEAR(a, 2.0 * 0.5 / 48.0, 1e-15);

  const Mesh box = maya::fem::box_mesh(
      {.size_x = 1.0, .size_y = 2.0, .size_z = 3.0, .cells_x = 2, .cells_y = 3, .cells_z = 4});
  EXPECT_EQ(box.num_vertices(), 3u * 4u * 5u);
  EXPECT_EQ(box.num_elements(), 2u * 3u * 4u * 6u);
  const auto volumes = box.signed_volumes();
  for (const double v : volumes) EXPECT_GT(v, 0.0);
  EXPECT_NEAR(std::accumulate(volumes.begin(), volumes.end(), 0.0), 6.0, 1e-12);
}

TEST(MeshGenerators, RejectZeroCellsAndNonPositiveSizes) {
  EXPECT_THROW((void)maya::fem::rectangle_mesh({.cells_x = 0}), maya::ValueError);
  EXPECT_THROW((void)maya::fem::box_mesh({.size_y = -1.0}), maya::ValueError);
}

TEST(Mesh, RejectsBadIndicesRepeatedAndUnusedVertices) {
  const Tensor square = Tensor::from_data({0, 0, 1, 0, 1, 1, 0, 1}, {4, 2});
  EXPECT_NE(message_of([&] {
              Mesh(square, {0, 1, 4});
            }).find("element 0 names vertex 4"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              Mesh(square, {0, 1, 1, 0, 2, 3});
            }).find("element 0 repeats"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              Mesh(square, {0, 1, 2});
            }).find("vertex 3 belongs to no element"),
            std::string::npos);
  EXPECT_THROW(Mesh(Tensor::zeros({4, 4}), {0, 1, 2, 3, 0}), maya::ShapeError);
  EXPECT_THROW(Mesh(square, {0, 1, 2, 3}), maya::ShapeError);
}

TEST(Mesh, OrientPositivelyFlipsInvertedElements) {
  Mesh mesh(Tensor::from_data({0, 0, 1, 0, 1, 1, 0, 1}, {4, 2}), {0, 2, 1, 0, 2, 3});
  EXPECT_LT(mesh.signed_volumes()[0], 0.0);
  EXPECT_EQ(mesh.orient_positively(), 1u);
  for (const double a : mesh.signed_volumes()) EXPECT_GT(a, 0.0);
}

TEST(SoftBody, DegenerateElementsGiveValueErrorsNamingTheElement) {
  // Element 1 is flat: vertices 1, 2 and 4 lie on one line.
  const Tensor x = Tensor::from_data({0, 0, 1, 0, 2, 0, 0, 1, 3, 0}, {5, 2});
  const std::string flat = message_of([&] {
    maya::fem::SoftBody body(Mesh(x, {0, 1, 3, 1, 2, 4}));
  });
  EXPECT_NE(flat.find("element 1 (vertices 1, 2, 4) has zero rest area"), std::string::npos)
      << flat;
  const std::string inverted = message_of([&] {
    maya::fem::SoftBody body(Mesh(x, {0, 3, 1, 1, 4, 2}));
  });
  EXPECT_NE(inverted.find("element 0"), std::string::npos) << inverted;
  EXPECT_NE(inverted.find("negative"), std::string::npos) << inverted;

  // Rest positions given later (a shape being optimized) are checked too.
  const maya::fem::SoftBody body(maya::fem::box_mesh({.cells_x = 2}));
  maya::TensorTape tape;
  Tensor squashed = body.mesh().rest_positions();
  for (std::size_t v = 0; v < body.num_vertices(); ++v) squashed.mutable_data()[v * 3 + 2] = 0.0;
  const std::string rest = message_of([&] { (void)fem::rest_shape(body, tape.var(squashed)); });
  EXPECT_NE(rest.find("fem::rest_shape: element 0 (vertices"), std::string::npos) << rest;
  EXPECT_NE(rest.find("zero rest volume"), std::string::npos) << rest;
}

TEST(SoftBody, BadOptionsAndParameterShapesAreNamed) {
  const Mesh mesh = maya::fem::rectangle_mesh({});
  EXPECT_THROW(maya::fem::SoftBody(mesh, {.pinned = {4}}), maya::ValueError);
  EXPECT_THROW(maya::fem::SoftBody(mesh, {.gravity = {0.0, -9.8, 0.0}}), maya::ValueError);
  maya::fem::SoftBodyOptions options;
  options.ground.up_axis = 2;
  EXPECT_THROW(maya::fem::SoftBody(mesh, options), maya::ValueError);
  const maya::fem::SoftBody body(mesh);
  maya::TensorTape tape;
  auto params =
      fem::parameters(body, tape.var(mesh.rest_positions()), tape.var(Tensor::scalar(1e4)),
                      tape.var(Tensor::scalar(0.3)), tape.var(Tensor::scalar(1e3)));
  const maya::TensorVar state = tape.var(body.rest_state());
  EXPECT_THROW((void)fem::step_explicit(body, state, params, -1.0), maya::ValueError);
  params.lame.mu = tape.var(Tensor::ones({3}));
  const std::string shape =
      message_of([&] { (void)fem::step_explicit(body, state, params, 1e-3); });
  EXPECT_NE(shape.find("lame.mu has shape [3], expected [], [1] or [2]"), std::string::npos)
      << shape;
  EXPECT_THROW((void)maya::fem::lame_parameters(tape.var(Tensor::scalar(1.0)),
                                                tape.var(Tensor::scalar(0.5))),
               maya::ValueError);
}

TEST(Lame, FromYoungsModulusAndPoissonRatio) {
  const auto strain = maya::fem::lame_parameters(2.6e5, 0.3);
  EXPECT_NEAR(strain.mu, 1e5, 1e-9);
  EXPECT_NEAR(strain.lambda, 2.6e5 * 0.3 / (1.3 * 0.4), 1e-9);
  const auto stress = maya::fem::lame_parameters(2.6e5, 0.3, maya::fem::Plane::kStress);
  EXPECT_NEAR(stress.lambda, 2.6e5 * 0.3 / (1.0 - 0.09), 1e-9);
  maya::TensorTape tape;
  const auto lame = maya::fem::lame_parameters(
      tape.var(Tensor::scalar(2.6e5)), tape.var(Tensor::scalar(0.3)), maya::fem::Plane::kStress);
  EXPECT_NEAR(lame.mu.item(), stress.mu, 1e-9);
  EXPECT_NEAR(lame.lambda.item(), stress.lambda, 1e-9);
}
