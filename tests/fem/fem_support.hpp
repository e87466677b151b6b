// Small meshes and random inputs shared by the fem tests.
#pragma once

#include <cstdint>
#include <maya/maya.hpp>
#include <vector>

namespace fem_test {

// A 3 x 2 rectangle of 12 triangles (12 vertices), rest positions jittered so no two elements
// are alike.
inline maya::fem::Mesh small_mesh_2d() {
  maya::fem::Mesh grid =
      maya::fem::rectangle_mesh({.width = 0.3, .height = 0.2, .cells_x = 3, .cells_y = 2});
  maya::Tensor x = grid.rest_positions();
  const maya::Tensor jitter = maya::Tensor::uniform(x.shape(), -0.015, 0.015, 7);
  for (std::size_t i = 0; i < x.numel(); ++i) x.mutable_data()[i] += jitter.data()[i];
  return maya::fem::Mesh(x,
                         std::vector<std::int64_t>(grid.elements().begin(), grid.elements().end()));
}

// A 2 x 1 x 1 box of 12 tetrahedra (12 vertices), jittered.
inline maya::fem::Mesh small_mesh_3d() {
  maya::fem::Mesh grid = maya::fem::box_mesh(
      {.size_x = 0.2, .size_y = 0.1, .size_z = 0.1, .cells_x = 2, .cells_y = 1, .cells_z = 1});
  maya::Tensor x = grid.rest_positions();
  const maya::Tensor jitter = maya::Tensor::uniform(x.shape(), -0.01, 0.01, 8);
  for (std::size_t i = 0; i < x.numel(); ++i) x.mutable_data()[i] += jitter.data()[i];
  return maya::fem::Mesh(x,
                         std::vector<std::int64_t>(grid.elements().begin(), grid.elements().end()));
}

inline maya::fem::Mesh small_mesh(std::size_t dim) {
  return dim == 2 ? small_mesh_2d() : small_mesh_3d();
}

// x = X + amplitude * uniform noise (a deformation of about amplitude / element size).
inline maya::Tensor deformed(const maya::Tensor& rest, double amplitude, std::uint64_t seed) {
  maya::Tensor x = rest;
  const maya::Tensor noise = maya::Tensor::uniform(x.shape(), -amplitude, amplitude, seed);
  for (std::size_t i = 0; i < x.numel(); ++i) x.mutable_data()[i] += noise.data()[i];
  return x;
}

inline constexpr maya::fem::Energy kEnergies[] = {
    maya::fem::Energy::kLinear, maya::fem::Energy::kCorotational,
    maya::fem::Energy::kStVenantKirchhoff, maya::fem::Energy::kStableNeoHookean};

}  // namespace fem_test
