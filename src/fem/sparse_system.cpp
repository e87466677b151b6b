#include "fem/sparse_system.hpp"

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

LinearSolver resolve_solver(LinearSolver requested, std::size_t dim,
                            std::size_t unknowns) noexcept {
  if (requested != LinearSolver::kAuto) return requested;
  // Sparse Cholesky fill grows like n^(4/3) in 3-D and Eigen's simplicial factorization is
  // memory-bound: already at 1000 unknowns CG is about ten times faster on an elastic block.
  return dim == 2 || unknowns < 1000 ? LinearSolver::kLdlt : LinearSolver::kConjugateGradient;
}

void SparseSolver::factorize(const SparseMatrix& matrix, const char* operation) {
  if (kind_ == LinearSolver::kConjugateGradient) {
    matrix_ = &matrix;
    inverse_diagonal_ = matrix.diagonal();
    for (Eigen::Index i = 0; i < inverse_diagonal_.size(); ++i) {
      if (!(inverse_diagonal_(i) > 0.0)) {
        throw IndefiniteMatrix(std::string(operation) +
                               ": the matrix has a non-positive diagonal "
                               "entry, so conjugate gradient cannot solve with it");
      }
      inverse_diagonal_(i) = 1.0 / inverse_diagonal_(i);
    }
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

// Jacobi-preconditioned conjugate gradient from x = 0 (Saad, Iterative Methods for Sparse Linear
// Systems, Algorithm 9.1), stopping at |r| <= tolerance |b| or at negative curvature.
Eigen::VectorXd SparseSolver::solve(const Eigen::VectorXd& rhs, const char* operation) {
  if (kind_ != LinearSolver::kConjugateGradient) return ldlt_.solve(rhs);
  const SparseMatrix& a = *matrix_;
  Eigen::VectorXd x = Eigen::VectorXd::Zero(rhs.size());
  Eigen::VectorXd r = rhs;
  Eigen::VectorXd z = inverse_diagonal_.cwiseProduct(r);
  Eigen::VectorXd p = z;
  Eigen::VectorXd ap(rhs.size());
  double rz = r.dot(z);
  const double target = options_.cg_tolerance * rhs.norm();
  if (rhs.norm() == 0.0) return x;
  for (std::size_t iteration = 0; iteration < options_.cg_max_iterations; ++iteration) {
    ap.noalias() = a * p;
    const double curvature = p.dot(ap);
    if (!(curvature > 0.0)) {
      throw IndefiniteMatrix(std::string(operation) +
                             ": conjugate gradient met negative curvature (the matrix is not "
                             "positive definite)");
    }
    const double alpha = rz / curvature;
    x.noalias() += alpha * p;
    r.noalias() -= alpha * ap;
    if (r.norm() <= target) return x;
    z = inverse_diagonal_.cwiseProduct(r);
    const double rz_next = r.dot(z);
    p = z + (rz_next / rz) * p;
    rz = rz_next;
  }
  throw ConvergenceError(std::string(operation) +
                         ": conjugate gradient did not reach relative "
                         "residual " +
                         std::to_string(options_.cg_tolerance) + " in " +
                         std::to_string(options_.cg_max_iterations) +
                         " iterations (raise cg_max_iterations or use LinearSolver::kLdlt)");
}

}  // namespace maya::fem::detail
