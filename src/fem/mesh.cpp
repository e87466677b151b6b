// Mesh validation, signed volumes and orientation.
#include "maya/fem/mesh.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "fem/simplex.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::fem {

Mesh::Mesh(Tensor rest_positions, std::vector<std::int64_t> elements)
    : rest_positions_(std::move(rest_positions)), elements_(std::move(elements)), dim_(0) {
  const Shape& shape = rest_positions_.shape();
  if (shape.size() != 2 || (shape[1] != 2 && shape[1] != 3)) {
    throw ShapeError("Mesh: rest positions of shape " + shape_string(shape) +
                     ", expected [N, 2] (triangles) or [N, 3] (tetrahedra)");
  }
  dim_ = shape[1];
  const std::size_t per = dim_ + 1;
  if (elements_.empty() || elements_.size() % per != 0) {
    throw ShapeError("Mesh: " + std::to_string(elements_.size()) +
                     " element indices, expected a positive multiple of " + std::to_string(per) +
                     " for a " + std::to_string(dim_) + "-D mesh");
  }
  const std::size_t n = shape[0];
  for (std::size_t i = 0; i < n * dim_; ++i) {
    if (!std::isfinite(rest_positions_.data()[i])) {
      (void)check_finite(rest_positions_.data()[i], "Mesh: coordinate " + std::to_string(i % dim_) +
                                                        " of vertex " + std::to_string(i / dim_));
    }
  }
  std::vector<std::uint8_t> used(n, 0);
  for (std::size_t e = 0; e < num_elements(); ++e) {
    for (std::size_t a = 0; a < per; ++a) {
      const std::int64_t v = elements_[e * per + a];
      if (v < 0 || static_cast<std::size_t>(v) >= n) {
        throw ValueError("Mesh: element " + std::to_string(e) + " names vertex " +
                         std::to_string(v) + ", but vertices are numbered 0.." +
                         std::to_string(n - 1));
      }
      for (std::size_t b = 0; b < a; ++b) {
        if (elements_[e * per + b] == v) {
          throw ValueError("Mesh: element " + std::to_string(e) + " repeats vertex " +
                           std::to_string(v));
        }
      }
      used[static_cast<std::size_t>(v)] = 1;
    }
  }
  const auto unused = std::find(used.begin(), used.end(), std::uint8_t{0});
  if (unused != used.end()) {
    throw ValueError("Mesh: vertex " + std::to_string(unused - used.begin()) +
                     " belongs to no element (every vertex needs a mass)");
  }
}

std::span<const std::int64_t> Mesh::element(std::size_t e) const {
  if (e >= num_elements()) {
    throw ValueError("Mesh::element: element " + std::to_string(e) + " of a mesh with " +
                     std::to_string(num_elements()) + " elements");
  }
  return std::span<const std::int64_t>(elements_).subspan(e * (dim_ + 1), dim_ + 1);
}

std::vector<double> Mesh::signed_volumes() const {
  std::vector<double> volumes(num_elements());
  const double* x = rest_positions_.data().data();
  for (std::size_t e = 0; e < volumes.size(); ++e) {
    volumes[e] = detail::signed_volume(x, element(e), dim_);
  }
  return volumes;
}

std::size_t Mesh::orient_positively() {
  const std::vector<double> volumes = signed_volumes();
  std::size_t flipped = 0;
  const std::size_t per = dim_ + 1;
  for (std::size_t e = 0; e < volumes.size(); ++e) {
    if (volumes[e] < 0.0) {
      std::swap(elements_[e * per + dim_ - 1], elements_[e * per + dim_]);
      ++flipped;
    }
  }
  return flipped;
}

}  // namespace maya::fem
