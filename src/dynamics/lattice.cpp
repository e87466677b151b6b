#include "maya/dynamics/lattice.hpp"
#include "maya/core/check.hpp"

#include <vector>

#include "maya/core/error.hpp"

namespace maya::dynamics {

SpringLattice make_spring_lattice(const LatticeOptions& options) {
  const std::size_t g = options.size;
  (void)check_at_least(g, 2, "make_spring_lattice: size");
  const std::size_t n = g * g;
  std::vector<double> positions(n * 2);
  std::vector<double> velocities(n * 2);
  for (std::size_t i = 0; i < g; ++i) {
    for (std::size_t j = 0; j < g; ++j) {
      const std::size_t p = i * g + j;
      positions[2 * p] = options.origin_x + options.spacing * static_cast<double>(i);
      positions[2 * p + 1] = options.origin_y + options.spacing * static_cast<double>(j);
      velocities[2 * p] = options.velocity_x;
      velocities[2 * p + 1] = options.velocity_y;
    }
  }
  std::vector<std::int64_t> first;
  std::vector<std::int64_t> second;
  const auto index = [g](std::size_t i, std::size_t j) {
    return static_cast<std::int64_t>(i * g + j);
  };
  for (std::size_t i = 0; i < g; ++i) {
    for (std::size_t j = 0; j < g; ++j) {
      if (i + 1 < g) {
        first.push_back(index(i, j));
        second.push_back(index(i + 1, j));
      }
      if (j + 1 < g) {
        first.push_back(index(i, j));
        second.push_back(index(i, j + 1));
      }
      if (i + 1 < g && j + 1 < g) {
        first.push_back(index(i, j));
        second.push_back(index(i + 1, j + 1));
        first.push_back(index(i + 1, j));
        second.push_back(index(i, j + 1));
      }
    }
  }
  MassSpringModel model(n, 2, std::move(first), std::move(second), {0.0, options.gravity},
                        options.ground);
  Tensor position_tensor = Tensor::from_data(std::move(positions), {n, 2});
  Tensor rest = model.rest_lengths_of(position_tensor);
  return SpringLattice{std::move(model), std::move(position_tensor),
                       Tensor::from_data(std::move(velocities), {n, 2}),
                       Tensor::full({n}, options.mass), std::move(rest)};
}

}  // namespace maya::dynamics
