// Structured triangle and tetrahedron meshes of rectangles and boxes.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/fem/mesh.hpp"

namespace maya::fem {
namespace {

void check_extent(const char* operation, const char* axis, double size, std::size_t cells) {
  (void)check_at_least(cells, 1, std::string(operation) + ": cells_" + axis);
  (void)check_positive(size, std::string(operation) + ": the size along " + axis);
}

}  // namespace

Mesh rectangle_mesh(const RectangleSpec& spec) {
  check_extent("rectangle_mesh", "x", spec.width, spec.cells_x);
  check_extent("rectangle_mesh", "y", spec.height, spec.cells_y);
  const std::size_t nx = spec.cells_x + 1;
  const std::size_t ny = spec.cells_y + 1;
  std::vector<double> positions;
  positions.reserve(nx * ny * 2);
  for (std::size_t j = 0; j < ny; ++j) {
    for (std::size_t i = 0; i < nx; ++i) {
      positions.push_back(spec.origin_x +
                          spec.width * static_cast<double>(i) / static_cast<double>(spec.cells_x));
      positions.push_back(spec.origin_y +
                          spec.height * static_cast<double>(j) / static_cast<double>(spec.cells_y));
    }
  }
  std::vector<std::int64_t> elements;
  elements.reserve(spec.cells_x * spec.cells_y * 6);
  for (std::size_t j = 0; j < spec.cells_y; ++j) {
    for (std::size_t i = 0; i < spec.cells_x; ++i) {
      const auto v00 = static_cast<std::int64_t>(j * nx + i);
      const std::int64_t v10 = v00 + 1;
      const auto v01 = static_cast<std::int64_t>((j + 1) * nx + i);
      const std::int64_t v11 = v01 + 1;
      // Alternating diagonals keep the mesh free of a preferred shear direction.
      if ((i + j) % 2 == 0) {
        elements.insert(elements.end(), {v00, v10, v11, v00, v11, v01});
      } else {
        elements.insert(elements.end(), {v00, v10, v01, v10, v11, v01});
      }
    }
  }
  return Mesh(Tensor::from_data(std::move(positions), {nx * ny, 2}), std::move(elements));
}

Mesh box_mesh(const BoxSpec& spec) {
  check_extent("box_mesh", "x", spec.size_x, spec.cells_x);
  check_extent("box_mesh", "y", spec.size_y, spec.cells_y);
  check_extent("box_mesh", "z", spec.size_z, spec.cells_z);
  const std::array<std::size_t, 3> n{spec.cells_x + 1, spec.cells_y + 1, spec.cells_z + 1};
  const std::array<double, 3> step{spec.size_x / static_cast<double>(spec.cells_x),
                                   spec.size_y / static_cast<double>(spec.cells_y),
                                   spec.size_z / static_cast<double>(spec.cells_z)};
  const std::array<double, 3> origin{spec.origin_x, spec.origin_y, spec.origin_z};
  std::vector<double> positions;
  positions.reserve(n[0] * n[1] * n[2] * 3);
  for (std::size_t k = 0; k < n[2]; ++k) {
    for (std::size_t j = 0; j < n[1]; ++j) {
      for (std::size_t i = 0; i < n[0]; ++i) {
        const std::array<std::size_t, 3> ijk{i, j, k};
        for (std::size_t a = 0; a < 3; ++a) {
          positions.push_back(origin[a] + step[a] * static_cast<double>(ijk[a]));
        }
      }
    }
  }
  const auto vertex = [&](std::size_t i, std::size_t j, std::size_t k) {
    return static_cast<std::int64_t>((k * n[1] + j) * n[0] + i);
  };
  // Kuhn subdivision: one tetrahedron per permutation (p, q, r) of the axes, the path
  // (0,0,0) -> +e_p -> +e_q -> +e_r = (1,1,1). Even permutations are right-handed; odd ones
  // swap their last two vertices.
  constexpr std::array<std::array<int, 3>, 6> kPermutations{
      {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}}};
  std::vector<std::int64_t> elements;
  elements.reserve(spec.cells_x * spec.cells_y * spec.cells_z * 24);
  for (std::size_t k = 0; k < spec.cells_z; ++k) {
    for (std::size_t j = 0; j < spec.cells_y; ++j) {
      for (std::size_t i = 0; i < spec.cells_x; ++i) {
        for (std::size_t p = 0; p < kPermutations.size(); ++p) {
          std::array<std::size_t, 3> corner{i, j, k};
          std::array<std::int64_t, 4> tet{};
          tet[0] = vertex(corner[0], corner[1], corner[2]);
          for (std::size_t s = 0; s < 3; ++s) {
            ++corner[static_cast<std::size_t>(kPermutations[p][s])];
            tet[s + 1] = vertex(corner[0], corner[1], corner[2]);
          }
          if (p >= 3) std::swap(tet[2], tet[3]);
          elements.insert(elements.end(), tet.begin(), tet.end());
        }
      }
    }
  }
  return Mesh(Tensor::from_data(std::move(positions), {n[0] * n[1] * n[2], 3}),
              std::move(elements));
}

}  // namespace maya::fem
