// The sparse Newton matrix of a soft body over its free degrees of freedom (pinned vertices
// removed): its pattern, built once per body, with the slot of every element and vertex block so
// assembly writes values in place; and the linear solver (sparse LDLT or conjugate gradient).
#pragma once

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <cstdint>
#include <vector>

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

// Factorizes and solves with the matrix last given to factorize(); the symbolic analysis of LDLT
// is done once per solver, so one solver serves all Newton iterations of a step.
class SparseSolver {
 public:
  explicit SparseSolver(const NewtonOptions& options) : options_(options) {}
  // Throws maya::ConvergenceError naming `operation` when the matrix cannot be factorized.
  void factorize(const SparseMatrix& matrix, const char* operation);
  // Throws maya::ConvergenceError when CG does not reach its tolerance.
  [[nodiscard]] Eigen::VectorXd solve(const Eigen::VectorXd& rhs, const char* operation);

 private:
  NewtonOptions options_;
  Eigen::SimplicialLDLT<SparseMatrix> ldlt_;
  Eigen::ConjugateGradient<SparseMatrix, Eigen::Lower | Eigen::Upper> cg_;
  bool analyzed_ = false;
};

}  // namespace maya::fem::detail
