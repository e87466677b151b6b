// The shapes of 2-D rigid bodies: circles and convex polygons (a box is a polygon), in the body
// frame, whose origin is the centre of mass. Mass properties follow from a shape and a uniform
// density; the TensorVar forms record them on a tape so shape dimensions can be differentiated.
#pragma once

#include <cstddef>
#include <vector>

#include "maya/tensor/tensor_var.hpp"

namespace maya::rigid {

struct Vec2 {
  double x = 0.0;
  double y = 0.0;
};

enum class ShapeKind { kCircle, kPolygon };

class BodyShape {
 public:
  // Throws maya::ValueError for a radius that is not positive and finite.
  [[nodiscard]] static BodyShape circle(double radius);
  // An axis-aligned width x height rectangle centred on the origin, vertices counter-clockwise
  // from (-w/2, -h/2). Throws maya::ValueError for a non-positive or non-finite side.
  [[nodiscard]] static BodyShape box(double width, double height);
  // A convex polygon. Clockwise input is reversed to counter-clockwise, and the vertices are
  // shifted so that their area centroid is the origin (centroid_shift() tells by how much).
  // Throws maya::ValueError for fewer than 3 vertices, non-finite coordinates, repeated or
  // collinear consecutive vertices, or a polygon that is not convex (naming the vertex).
  [[nodiscard]] static BodyShape polygon(std::vector<Vec2> vertices);

  [[nodiscard]] ShapeKind kind() const noexcept { return kind_; }
  [[nodiscard]] double radius() const noexcept { return radius_; }  // 0 for polygons
  [[nodiscard]] const std::vector<Vec2>& vertices() const noexcept { return vertices_; }
  [[nodiscard]] Vec2 centroid_shift() const noexcept { return shift_; }
  [[nodiscard]] double area() const noexcept { return area_; }
  // Second moment of area about the centroid, integral of |r|^2 dA: inertia = density * this.
  [[nodiscard]] double polar_moment() const noexcept { return polar_moment_; }
  // Distance from the origin to the farthest point of the shape.
  [[nodiscard]] double bounding_radius() const noexcept;
  // Moment of inertia of a uniform body of this shape with the given mass.
  [[nodiscard]] double inertia_for_mass(double mass) const noexcept {
    return mass * polar_moment_ / area_;
  }

 private:
  BodyShape() = default;
  ShapeKind kind_ = ShapeKind::kCircle;
  double radius_ = 0.0;
  std::vector<Vec2> vertices_;
  Vec2 shift_;
  double area_ = 0.0;
  double polar_moment_ = 0.0;
};

// Mass and moment of inertia (about the centre of mass) as tensors on a tape.
struct MassPropertiesVar {
  TensorVar mass;
  TensorVar inertia;
};

// Elementwise over bodies: radius, width, height and density broadcast together.
//   circle: m = rho pi r^2,  I = m r^2 / 2;    box: m = rho w h,  I = m (w^2 + h^2) / 12.
[[nodiscard]] MassPropertiesVar circle_mass_properties(TensorVar radius, TensorVar density);
[[nodiscard]] MassPropertiesVar box_mass_properties(TensorVar width, TensorVar height,
                                                    TensorVar density);
// One polygon's vertices [n, 2] (counter-clockwise, any origin), by the shoelace sums
//   A = 1/2 sum c_i,  I_origin = rho/12 sum c_i (p_i.p_i + p_i.p_j + p_j.p_j),  c_i = p_i x p_j,
// and the parallel-axis theorem I = I_origin - m |centroid|^2: mass [] and inertia [].
[[nodiscard]] MassPropertiesVar polygon_mass_properties(TensorVar vertices, TensorVar density);
// Vertices of K boxes [4 K, 2] from widths and heights [K], in BodyShape::box order.
[[nodiscard]] TensorVar box_vertices(TensorVar width, TensorVar height);

}  // namespace maya::rigid
