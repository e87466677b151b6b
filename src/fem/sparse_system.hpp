// The sparse Newton matrix of a soft body over its free degrees of freedom (pinned vertices
// removed): its pattern, built once per body, with the slot of every element and vertex block so
// assembly writes values in place; and the linear solver (sparse LDLT or conjugate gradient).
#pragma once

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <cstdint>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/soft_body.hpp"

namespace maya::fem::detail {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;

struct SystemPattern {
  std::vector<std::int32_t> free_index;  // per degree of freedom i D + k: reduced index or -1
  std::vector<std::int32_t> free_dofs;   // reduced index -> degree of freedom
  SparseMatrix structure;                // symmetric, both triangles, values zero
  // Per element, a (D+1)D x (D+1)D row-major table of value indices (-1 where pinned).
  std::vector<std::int32_t> element_slots;
  // Per vertex, a D x D table of value indices of its diagonal block (-1 where pinned).
  std::vector<std::int32_t> vertex_slots;
};

[[nodiscard]] SystemPattern build_pattern(const Mesh& mesh,
                                          const std::vector<std::uint8_t>& pinned);

// maya::IndefiniteMatrix is thrown by a conjugate-gradient solve that meets negative curvature
// (p^T A p <= 0) or a non-positive diagonal: the caller should use another matrix (Newton: the
// projected Hessian) or another solver (the adjoint: LDLT).
using maya::IndefiniteMatrix;

// The solver a NewtonOptions::solver asks for on a system of `unknowns` in `dim` dimensions.
[[nodiscard]] LinearSolver resolve_solver(LinearSolver requested, std::size_t dim,
                                          std::size_t unknowns) noexcept;

// Factorizes (LDLT) or prepares (CG) the matrix last given to factorize(), then solves with it.
// The symbolic analysis of LDLT is done once per solver, so one solver serves all Newton
// iterations of a step.
class SparseSolver {
 public:
  SparseSolver(LinearSolver kind, const NewtonOptions& options) : kind_(kind), options_(options) {}
  // Throws maya::ConvergenceError naming `operation` when LDLT cannot factorize the matrix.
  void factorize(const SparseMatrix& matrix, const char* operation);
  // Throws IndefiniteMatrix or maya::ConvergenceError when CG does not reach its tolerance.
  [[nodiscard]] Eigen::VectorXd solve(const Eigen::VectorXd& rhs, const char* operation);
  [[nodiscard]] LinearSolver kind() const noexcept { return kind_; }

 private:
  LinearSolver kind_;
  NewtonOptions options_;
  Eigen::SimplicialLDLT<SparseMatrix> ldlt_;
  const SparseMatrix* matrix_ = nullptr;  // CG: the matrix, kept by the caller
  Eigen::VectorXd inverse_diagonal_;
  bool analyzed_ = false;
};

}  // namespace maya::fem::detail
