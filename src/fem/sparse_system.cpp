#include "sparse_system.hpp"

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"

namespace maya::fem::detail {

SystemPattern build_pattern(const Mesh& mesh, const std::vector<std::uint8_t>& pinned) {
  const std::size_t dim = mesh.dim();
  const std::size_t n = mesh.num_vertices();
  const std::size_t per = dim + 1;
  SystemPattern pattern;
  pattern.free_index.assign(n * dim, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (pinned[i]) continue;
    for (std::size_t k = 0; k < dim; ++k) {
      pattern.free_index[i * dim + k] = static_cast<std::int32_t>(pattern.free_dofs.size());
      pattern.free_dofs.push_back(static_cast<std::int32_t>(i * dim + k));
    }
  }
  // Vertex adjacency (each vertex is its own neighbour), sorted, over free vertices only.
  std::vector<std::vector<std::int32_t>> neighbours(n);
  const auto elements = mesh.elements();
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    for (std::size_t a = 0; a < per; ++a) {
      for (std::size_t b = 0; b < per; ++b) {
        const auto va = static_cast<std::size_t>(elements[e * per + a]);
        const auto vb = static_cast<std::int32_t>(elements[e * per + b]);
        if (!pinned[va] && !pinned[static_cast<std::size_t>(vb)]) neighbours[va].push_back(vb);
      }
    }
  }
  for (auto& list : neighbours) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  // Column c = (vertex j, component l) holds rows (i, k) for every neighbour i of j; free indices
  // grow with the vertex, so sorted neighbours give sorted rows.
  const auto free_count = static_cast<Eigen::Index>(pattern.free_dofs.size());
  std::vector<int> outer(pattern.free_dofs.size() + 1, 0);
  std::vector<int> inner;
  for (std::size_t c = 0; c < pattern.free_dofs.size(); ++c) {
    const auto j = static_cast<std::size_t>(pattern.free_dofs[c]) / dim;
    for (const std::int32_t i : neighbours[j]) {
      for (std::size_t k = 0; k < dim; ++k) {
        inner.push_back(pattern.free_index[static_cast<std::size_t>(i) * dim + k]);
      }
    }
    outer[c + 1] = static_cast<int>(inner.size());
  }
  std::vector<double> zeros(inner.size(), 0.0);
  pattern.structure = Eigen::Map<const SparseMatrix>(free_count, free_count,
                                                     static_cast<Eigen::Index>(inner.size()),
                                                     outer.data(), inner.data(), zeros.data());
  const auto slot_of = [&](std::size_t row_dof, std::size_t column_dof) -> std::int32_t {
    const std::int32_t row = pattern.free_index[row_dof];
    const std::int32_t column = pattern.free_index[column_dof];
    if (row < 0 || column < 0) return -1;
    const int* begin = inner.data() + outer[static_cast<std::size_t>(column)];
    const int* end = inner.data() + outer[static_cast<std::size_t>(column) + 1];
    const int* found = std::lower_bound(begin, end, row);
    return static_cast<std::int32_t>(found - inner.data());
  };
  const std::size_t dofs = per * dim;
  pattern.element_slots.resize(mesh.num_elements() * dofs * dofs);
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    for (std::size_t p = 0; p < dofs; ++p) {
      for (std::size_t q = 0; q < dofs; ++q) {
        const auto row_dof = static_cast<std::size_t>(elements[e * per + p / dim]) * dim + p % dim;
        const auto column_dof =
            static_cast<std::size_t>(elements[e * per + q / dim]) * dim + q % dim;
        pattern.element_slots[(e * dofs + p) * dofs + q] = slot_of(row_dof, column_dof);
      }
    }
  }
  pattern.vertex_slots.resize(n * dim * dim);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t r = 0; r < dim; ++r) {
      for (std::size_t c = 0; c < dim; ++c) {
        pattern.vertex_slots[(i * dim + r) * dim + c] = slot_of(i * dim + r, i * dim + c);
      }
    }
  }
  return pattern;
}

void SparseSolver::factorize(const SparseMatrix& matrix, const char* operation) {
  if (options_.solver == LinearSolver::kConjugateGradient) {
    cg_.setTolerance(options_.cg_tolerance);
    cg_.setMaxIterations(static_cast<Eigen::Index>(options_.cg_max_iterations));
    cg_.compute(matrix);
    return;
  }
  if (!analyzed_) {
    ldlt_.analyzePattern(matrix);
    analyzed_ = true;
  }
  ldlt_.factorize(matrix);
  if (ldlt_.info() != Eigen::Success) {
    throw ConvergenceError(std::string(operation) +
                           ": the Newton matrix could not be factorized (it is singular: pin "
                           "vertices or add mass so the body cannot move freely)");
  }
}

Eigen::VectorXd SparseSolver::solve(const Eigen::VectorXd& rhs, const char* operation) {
  if (options_.solver == LinearSolver::kConjugateGradient) {
    Eigen::VectorXd x = cg_.solve(rhs);
    if (cg_.info() != Eigen::Success) {
      throw ConvergenceError(std::string(operation) + ": conjugate gradient did not converge in " +
                             std::to_string(cg_.iterations()) + " iterations (relative residual " +
                             std::to_string(cg_.error()) + ", tolerance " +
                             std::to_string(options_.cg_tolerance) + ")");
    }
    return x;
  }
  return ldlt_.solve(rhs);
}

}  // namespace maya::fem::detail
