// Circle and convex polygon shapes: validation, centring and the shoelace mass properties.
#include "maya/rigid/body_shape.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::rigid {

namespace {

double cross(Vec2 a, Vec2 b) noexcept { return a.x * b.y - a.y * b.x; }
Vec2 minus(Vec2 a, Vec2 b) noexcept { return {a.x - b.x, a.y - b.y}; }

std::string point_string(Vec2 p) {
  return "(" + std::to_string(p.x) + ", " + std::to_string(p.y) + ")";
}

void check_side(double value, const char* what) {
  (void)check_positive(value, std::string("BodyShape: ") + what);
}

}  // namespace

BodyShape BodyShape::circle(double radius) {
  check_side(radius, "circle radius");
  BodyShape shape;
  shape.kind_ = ShapeKind::kCircle;
  shape.radius_ = radius;
  shape.area_ = std::numbers::pi * radius * radius;
  shape.polar_moment_ = shape.area_ * radius * radius / 2.0;
  return shape;
}

BodyShape BodyShape::box(double width, double height) {
  check_side(width, "box width");
  check_side(height, "box height");
  const double w = width / 2.0;
  const double h = height / 2.0;
  return polygon({{-w, -h}, {w, -h}, {w, h}, {-w, h}});
}

BodyShape BodyShape::polygon(std::vector<Vec2> vertices) {
  const std::size_t n = vertices.size();
  if (n < 3) {
    throw ValueError("BodyShape::polygon: needs at least 3 vertices, got " + std::to_string(n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(vertices[i].x) || !std::isfinite(vertices[i].y)) {
      throw ValueError("BodyShape::polygon: vertex " + std::to_string(i) +
                       " is not finite: " + point_string(vertices[i]));
    }
  }
  double twice_area = 0.0;
  for (std::size_t i = 0; i < n; ++i) twice_area += cross(vertices[i], vertices[(i + 1) % n]);
  if (twice_area < 0.0) std::reverse(vertices.begin(), vertices.end());
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 edge = minus(vertices[(i + 1) % n], vertices[i]);
    if (edge.x == 0.0 && edge.y == 0.0) {
      throw ValueError("BodyShape::polygon: vertices " + std::to_string(i) + " and " +
                       std::to_string((i + 1) % n) + " coincide at " + point_string(vertices[i]));
    }
  }
  // Convex and counter-clockwise: every other vertex lies strictly left of every edge.
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 edge = minus(vertices[(i + 1) % n], vertices[i]);
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i || j == (i + 1) % n) continue;
      if (!(cross(edge, minus(vertices[j], vertices[i])) > 0.0)) {
        throw ValueError("BodyShape::polygon: vertex " + std::to_string(j) + " " +
                         point_string(vertices[j]) + " is not strictly inside edge " +
                         std::to_string(i) + "-" + std::to_string((i + 1) % n) +
                         ": the polygon must be convex with no collinear vertices");
      }
    }
  }
  // Shoelace: A = 1/2 sum c_i, centroid = sum (p_i + p_j) c_i / (6 A), c_i = p_i x p_j.
  double area = 0.0;
  Vec2 centroid;
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 p = vertices[i];
    const Vec2 q = vertices[(i + 1) % n];
    const double c = cross(p, q);
    area += c / 2.0;
    centroid.x += (p.x + q.x) * c;
    centroid.y += (p.y + q.y) * c;
  }
  centroid.x /= 6.0 * area;
  centroid.y /= 6.0 * area;
  for (Vec2& v : vertices) v = minus(v, centroid);
  // J = 1/12 sum c_i (p_i.p_i + p_i.p_j + p_j.p_j) about the (new) origin, the centroid.
  double polar = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 p = vertices[i];
    const Vec2 q = vertices[(i + 1) % n];
    polar += cross(p, q) * (p.x * p.x + p.y * p.y + p.x * q.x + p.y * q.y + q.x * q.x + q.y * q.y);
  }
  BodyShape shape;
  shape.kind_ = ShapeKind::kPolygon;
  shape.vertices_ = std::move(vertices);
  shape.shift_ = {-centroid.x, -centroid.y};
  shape.area_ = area;
  shape.polar_moment_ = polar / 12.0;
  return shape;
}

double BodyShape::bounding_radius() const noexcept {
  if (kind_ == ShapeKind::kCircle) return radius_;
  double farthest = 0.0;
  for (const Vec2 v : vertices_) farthest = std::max(farthest, std::hypot(v.x, v.y));
  return farthest;
}

MassPropertiesVar circle_mass_properties(TensorVar radius, TensorVar density) {
  const TensorVar r2 = square(radius);
  const TensorVar mass = std::numbers::pi * density * r2;
  return {mass, 0.5 * mass * r2};
}

MassPropertiesVar box_mass_properties(TensorVar width, TensorVar height, TensorVar density) {
  const TensorVar mass = density * width * height;
  return {mass, mass * (square(width) + square(height)) / 12.0};
}

MassPropertiesVar polygon_mass_properties(TensorVar vertices, TensorVar density) {
  const ShapeView shape = vertices.shape();
  if (shape.size() != 2 || shape[1] != 2 || shape[0] < 3) {
    throw ShapeError("polygon_mass_properties: vertices must be [n, 2] with n >= 3, got " +
                     shape_string(shape));
  }
  const std::size_t n = shape[0];
  std::vector<std::int64_t> next(n);
  for (std::size_t i = 0; i < n; ++i) next[i] = static_cast<std::int64_t>((i + 1) % n);
  const TensorVar p = vertices;
  const TensorVar q = index_select(vertices, 0, next);
  const TensorVar px = select(p, 1, 0), py = select(p, 1, 1);
  const TensorVar qx = select(q, 1, 0), qy = select(q, 1, 1);
  const TensorVar c = px * qy - py * qx;
  const TensorVar area = 0.5 * sum(c);
  const TensorVar cx = sum((px + qx) * c) / (6.0 * area);
  const TensorVar cy = sum((py + qy) * c) / (6.0 * area);
  const TensorVar polar_origin =
      sum(c * (px * px + py * py + px * qx + py * qy + qx * qx + qy * qy)) / 12.0;
  const TensorVar mass = density * area;
  return {mass, density * polar_origin - mass * (cx * cx + cy * cy)};
}

TensorVar box_vertices(TensorVar width, TensorVar height) {
  if (width.ndim() > 1 || height.ndim() > 1) {
    throw ShapeError("box_vertices: width and height must be [K] or 0-d, got " +
                     shape_string(width.shape()) + " and " + shape_string(height.shape()));
  }
  const TensorVar w = reshape(0.5 * width, {width.numel(), 1});
  const TensorVar h = reshape(0.5 * height, {height.numel(), 1});
  // Corners (-w,-h), (w,-h), (w,h), (-w,h) per box: [K, 4] x and y, then [K, 4, 2] -> [4K, 2].
  const TensorVar x = concat({-w, w, w, -w}, 1);
  const TensorVar y = concat({-h, -h, h, h}, 1);
  const TensorVar corners = stack({x, y}, 2);
  return reshape(corners, {4 * corners.shape()[0], 2});
}

}  // namespace maya::rigid
