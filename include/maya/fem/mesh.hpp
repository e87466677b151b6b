// Simplicial meshes for the finite element method: triangles in 2-D, tetrahedra in 3-D, stored as
// rest positions [N, D] and element vertex indices (D + 1 per element). maya's elements are
// positively oriented: counter-clockwise triangles, right-handed tetrahedra (signed volume > 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "maya/tensor/tensor.hpp"

namespace maya::fem {

class Mesh {
 public:
  // Throws maya::ShapeError unless rest_positions is [N, 2] or [N, 3] and `elements` holds a
  // multiple of D + 1 indices; maya::ValueError for a vertex index out of range, an element that
  // repeats a vertex, a vertex no element uses, or a non-finite coordinate. Orientation and
  // volume are checked where they matter: by SoftBody.
  Mesh(Tensor rest_positions, std::vector<std::int64_t> elements);

  [[nodiscard]] std::size_t dim() const noexcept { return dim_; }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return rest_positions_.shape()[0]; }
  [[nodiscard]] std::size_t num_elements() const noexcept { return elements_.size() / (dim_ + 1); }
  [[nodiscard]] std::size_t vertices_per_element() const noexcept { return dim_ + 1; }
  [[nodiscard]] const Tensor& rest_positions() const noexcept { return rest_positions_; }
  // All element indices, element after element.
  [[nodiscard]] std::span<const std::int64_t> elements() const noexcept { return elements_; }
  [[nodiscard]] std::span<const std::int64_t> element(std::size_t e) const;

  // Signed volume (area in 2-D) of every element at the rest positions:
  // det[x1 - x0, ..., xD - x0] / D!.
  [[nodiscard]] std::vector<double> signed_volumes() const;
  // Swaps the last two vertices of every negatively oriented element; returns how many it
  // flipped. Zero-volume elements are left as they are (SoftBody rejects them).
  std::size_t orient_positively();

 private:
  Tensor rest_positions_;
  std::vector<std::int64_t> elements_;
  std::size_t dim_;
};

// An axis-aligned rectangle of cells_x by cells_y squares, each cut into two triangles along
// alternating diagonals. Vertex (i, j) (i along x) is number j (cells_x + 1) + i.
struct RectangleSpec {
  double width = 1.0;
  double height = 1.0;
  std::size_t cells_x = 1;
  std::size_t cells_y = 1;
  double origin_x = 0.0;
  double origin_y = 0.0;
};

// An axis-aligned box of cells_x by cells_y by cells_z cubes, each cut into the six tetrahedra of
// the Kuhn (Freudenthal) subdivision around its main diagonal, which conform across faces.
// Vertex (i, j, k) is number (k (cells_y + 1) + j) (cells_x + 1) + i.
struct BoxSpec {
  double size_x = 1.0;
  double size_y = 1.0;
  double size_z = 1.0;
  std::size_t cells_x = 1;
  std::size_t cells_y = 1;
  std::size_t cells_z = 1;
  double origin_x = 0.0;
  double origin_y = 0.0;
  double origin_z = 0.0;
};

// Throw maya::ValueError for zero cells or a non-positive size.
[[nodiscard]] Mesh rectangle_mesh(const RectangleSpec& spec);
[[nodiscard]] Mesh box_mesh(const BoxSpec& spec);

}  // namespace maya::fem
