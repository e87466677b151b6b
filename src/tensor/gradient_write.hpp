// Writing an op's contribution to an input's gradient: assigned into a buffer nothing has
// reached yet (no zero fill, no read), added into one that already holds a contribution.
#pragma once

#include <cstddef>

#include "maya/tensor/tensor_op.hpp"

namespace maya::tensor::detail {

// grad_input(i)[j] += value(j) for every j < n, where n is the input's element count.
template <class Value>
void write_gradient(BackwardContext& context, std::size_t i, std::size_t n, Value&& value) {
  const BackwardContext::GradientTarget target = context.grad_input_target(i);
  double* gx = target.view.values;
  if (target.fresh) {
    for (std::size_t j = 0; j < n; ++j) gx[j] = value(j);
  } else {
    for (std::size_t j = 0; j < n; ++j) gx[j] += value(j);
  }
}

}  // namespace maya::tensor::detail
