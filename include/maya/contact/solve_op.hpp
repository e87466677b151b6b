// The contact solve as one tape node: post-step velocities from problem data held as tensors,
// differentiated by the implicit function theorem (one transposed KKT solve in the reverse
// sweep, see solver.hpp). Any input may be a leaf, a constant, or computed by other ops.
#pragma once

#include "maya/contact/solver.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::contact {

// The fields of ContactProblem as tensors; me and nc may be 0 (shapes [0, n] and [0]).
struct ProblemTensors {
  TensorVar mass;              // [n]
  TensorVar momentum;          // [n]
  TensorVar joint_jacobian;    // [me, n]
  TensorVar joint_target;      // [me]
  TensorVar normal_jacobian;   // [nc, n]
  TensorVar normal_offset;     // [nc]
  TensorVar tangent_jacobian;  // [nc, n]
  TensorVar friction;          // [nc]
  // [nc, n] the second tangent of a 3-D problem (solver.hpp); left unbound for a 2-D one.
  TensorVar bitangent_jacobian = TensorVar();
};

// v+ [n]. Throws as solve() does, and maya::ShapeError for inconsistent shapes.
[[nodiscard]] TensorVar solve_velocities(const ProblemTensors& problem,
                                         const SolverOptions& options = {});

}  // namespace maya::contact
