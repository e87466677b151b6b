// Builders for common mass-spring scenes: a G x G lattice with structural and shear springs, as
// used by the spring-lattice benchmark (docs/benchmarks.md).
#pragma once

#include <cstddef>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::dynamics {

struct SpringLattice {
  MassSpringModel model;
  Tensor positions;    // [N, 2]
  Tensor velocities;   // [N, 2]
  Tensor masses;       // [N]
  Tensor rest_length;  // [E]
};

struct LatticeOptions {
  std::size_t size = 16;  // G: particles per side
  double spacing = 0.02;
  double origin_x = 0.0;
  double origin_y = 0.3;
  double mass = 1.0;
  double velocity_x = 1.0;
  double velocity_y = 0.0;
  double gravity = -9.8;
  GroundContact ground{true, 0.0, 1e4, 10.0, 1};
};

// Particle (i, j) sits at origin + spacing (i, j), index i G + j. For every particle: a spring
// to (i+1, j), to (i, j+1), and where both exist to (i+1, j+1) and from (i+1, j) to (i, j+1).
// Rest lengths are the initial distances.
[[nodiscard]] SpringLattice make_spring_lattice(const LatticeOptions& options);

}  // namespace maya::dynamics
