#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <numbers>
#include <string>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::BodyShape;
using maya::rigid::Vec2;

TEST(BodyShape, BoxAndCircleHaveClosedFormMassProperties) {
  const maya::rigid::BodyShape box = maya::rigid::BodyShape::box(0.2, 0.1);
  EXPECT_NEAR(box.area(), 0.02, 1e-15);
  EXPECT_NEAR(box.inertia_for_mass(1.0), (0.04 + 0.01) / 12.0, 1e-15);
  EXPECT_NEAR(box.bounding_radius(), std::hypot(0.1, 0.05), 1e-15);
  ASSERT_EQ(box.vertices().size(), 4u);
  EXPECT_EQ(box.vertices()[0].x, -0.1);
  EXPECT_EQ(box.vertices()[0].y, -0.05);
  const maya::rigid::BodyShape circle = maya::rigid::BodyShape::circle(0.3);
  EXPECT_NEAR(circle.area(), std::numbers::pi * 0.09, 1e-15);
  EXPECT_NEAR(circle.inertia_for_mass(2.0), 2.0 * 0.09 / 2.0, 1e-15);
}

TEST(BodyShape, PolygonIsCentredCounterClockwiseWithShoelaceInertia) {
  // A right triangle given clockwise: area 6, centroid (1, 4/3) of legs 3 (x) and 4 (y).
  const maya::rigid::BodyShape triangle =
      maya::rigid::BodyShape::polygon({{0.0, 0.0}, {0.0, 4.0}, {3.0, 0.0}});
  EXPECT_NEAR(triangle.area(), 6.0, 1e-14);
  EXPECT_NEAR(triangle.centroid_shift().x, -1.0, 1e-14);
  EXPECT_NEAR(triangle.centroid_shift().y, -4.0 / 3.0, 1e-14);
  double twice_area = 0.0;
  const auto& v = triangle.vertices();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const maya::rigid::Vec2 p = v[i], q = v[(i + 1) % v.size()];
    twice_area += p.x * q.y - p.y * q.x;
  }
  EXPECT_GT(twice_area, 0.0);  // counter-clockwise
  // Polar moment of a right triangle about its centroid: A (a^2 + b^2) / 18.
  EXPECT_NEAR(triangle.polar_moment(), 6.0 * (9.0 + 16.0) / 18.0, 1e-12);
  // A box built as a polygon matches the box.
  const maya::rigid::BodyShape square =
      maya::rigid::BodyShape::polygon({{1.0, 1.0}, {3.0, 1.0}, {3.0, 2.0}, {1.0, 2.0}});
  EXPECT_NEAR(square.polar_moment(), maya::rigid::BodyShape::box(2.0, 1.0).polar_moment(), 1e-14);
}

TEST(BodyShape, RecordedMassPropertiesMatchTheShapesAndTheirDerivatives) {
  TensorTape tape;
  const TensorVar width = tape.var(Tensor::from_data({0.2, 0.5}, {2}));
  const TensorVar height = tape.var(Tensor::from_data({0.1, 0.3}, {2}));
  const TensorVar density = tape.var(Tensor::scalar(50.0));
  const auto box = maya::rigid::box_mass_properties(width, height, density);
  EXPECT_NEAR(box.mass.view()[0], 1.0, 1e-14);
  EXPECT_NEAR(box.inertia.view()[1], maya::rigid::BodyShape::box(0.5, 0.3).polar_moment() * 50.0,
              1e-14);
  // d m / d w = rho h, d I / d w = rho h (w^2 + h^2) / 12 + m 2 w / 12 for the first box.
  const auto g = tape.grad(maya::sum(box.mass + box.inertia));
  EXPECT_NEAR(g[width].data()[0], 50.0 * 0.1 * (1.0 + 0.05 / 12.0) + 1.0 * 0.4 / 12.0, 1e-12);

  // The polygon form agrees with BodyShape and with the box form, at any origin.
  TensorTape t2;
  const TensorVar corners =
      maya::rigid::box_vertices(t2.constant(Tensor::scalar(0.5)), t2.constant(Tensor::scalar(0.3)));
  const TensorVar shifted = corners + t2.constant(Tensor::from_data({0.7, -0.2}, {2}));
  const auto poly =
      maya::rigid::polygon_mass_properties(shifted, t2.constant(Tensor::scalar(50.0)));
  EXPECT_NEAR(poly.mass.item(), 50.0 * 0.15, 1e-13);
  EXPECT_NEAR(poly.inertia.item(), 50.0 * maya::rigid::BodyShape::box(0.5, 0.3).polar_moment(),
              1e-13);
  const Tensor triangle = Tensor::from_data({0.0, 0.0, 3.0, 0.0, 0.0, 4.0}, {3, 2});
  const auto tri =
      maya::rigid::polygon_mass_properties(t2.constant(triangle), t2.constant(Tensor::scalar(2.0)));
  EXPECT_NEAR(tri.inertia.item(), 2.0 * 6.0 * 25.0 / 18.0, 1e-12);

  const Tensor inputs[] = {triangle, Tensor::scalar(2.0)};
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) {
        const auto p = maya::rigid::polygon_mass_properties(x[0], x[1]);
        return p.mass * 0.3 + p.inertia;
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-8);
  const Tensor circle_inputs[] = {Tensor::from_data({0.1, 0.4}, {2}), Tensor::scalar(3.0)};
  const auto circle_report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) {
        const auto p = maya::rigid::circle_mass_properties(x[0], x[1]);
        return maya::sum(p.mass * 0.3 + p.inertia);
      },
      circle_inputs);
  EXPECT_LT(circle_report.max_error(), 1e-8);
}

TEST(BodyShape, BadShapesAreNamed) {
  const auto message = [](auto&& make) {
    try {
      make();
    } catch (const maya::ValueError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { (void)maya::rigid::BodyShape::circle(-1.0); }).find("radius"),
            std::string::npos);
  EXPECT_NE(message([] { (void)maya::rigid::BodyShape::box(0.2, 0.0); }).find("height"),
            std::string::npos);
  EXPECT_NE(message([] {
              (void)maya::rigid::BodyShape::polygon({{0, 0}, {1, 0}});
            }).find("3 vertices"),
            std::string::npos);
  // A dart (non-convex) and collinear points.
  EXPECT_NE(message([] {
              (void)maya::rigid::BodyShape::polygon({{0, 0}, {2, 0}, {1, 0.5}, {1, 2}});
            }).find("convex"),
            std::string::npos);
  EXPECT_NE(message([] {
              (void)maya::rigid::BodyShape::polygon({{0, 0}, {1, 0}, {2, 0}, {1, 1}});
            }).find("convex"),
            std::string::npos);
  EXPECT_NE(message([] {
              (void)maya::rigid::BodyShape::polygon({{0, 0}, {1, 0}, {1, 0}, {0, 1}});
            }).find("coincide"),
            std::string::npos);
  EXPECT_NE(message([] {
              (void)maya::rigid::BodyShape::polygon({{0, 0}, {1, NAN}, {0, 1}});
            }).find("vertex 1"),
            std::string::npos);
}

}  // namespace
