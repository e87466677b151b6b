// The fused mass-spring step and its adjoint over a whole system: which kernels run, on how
// many threads (set_num_threads), over which ranges of springs and particles.
#pragma once

#include <cstddef>

#include "maya/core/workspace.hpp"

namespace maya::dynamics::detail {

struct SpringSystem;
struct SpringInputs;
struct SpringGradients;

// out = [x1, v1] of one step.
void mass_spring_forward(std::size_t dim, const SpringSystem& system, const SpringInputs& in,
                         double dt, double* out, Workspace& work);

// Accumulates the adjoint of one step into `grads`, given g_out = [g_x1, g_v1].
void mass_spring_backward(std::size_t dim, const SpringSystem& system, const SpringInputs& in,
                          double dt, const double* g_out, const SpringGradients& grads,
                          Workspace& work);

}  // namespace maya::dynamics::detail
