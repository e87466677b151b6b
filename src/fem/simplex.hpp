// Small helpers on one simplex shared by the mesh code and the element kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace maya::fem::detail {

// det[x1 - x0, ..., xD - x0] / D! for the vertices `element` of positions x [N, D], D = 2 or 3.
[[nodiscard]] inline double signed_volume(const double* x, std::span<const std::int64_t> element,
                                          std::size_t dim) noexcept {
  const double* x0 = x + static_cast<std::size_t>(element[0]) * dim;
  double edge[3][3] = {};
  for (std::size_t a = 1; a <= dim; ++a) {
    const double* xa = x + static_cast<std::size_t>(element[a]) * dim;
    for (std::size_t k = 0; k < dim; ++k) edge[a - 1][k] = xa[k] - x0[k];
  }
  if (dim == 2) return 0.5 * (edge[0][0] * edge[1][1] - edge[0][1] * edge[1][0]);
  const double det = edge[0][0] * (edge[1][1] * edge[2][2] - edge[1][2] * edge[2][1]) -
                     edge[0][1] * (edge[1][0] * edge[2][2] - edge[1][2] * edge[2][0]) +
                     edge[0][2] * (edge[1][0] * edge[2][1] - edge[1][1] * edge[2][0]);
  return det / 6.0;
}

}  // namespace maya::fem::detail
