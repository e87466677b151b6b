// Checks a tape gradient against central differences: the test every op and model in maya must
// pass, offered to users for their own losses and custom ops.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya {

// Builds a one-element loss from the leaves made for `inputs` (in order).
using LossFunction = std::function<TensorVar(TensorTape&, std::span<const TensorVar>)>;

struct GradcheckReport {
  // Per input: the worst error over its entries, |analytic - numeric| / max(scale, floor), where
  // scale is the input's largest gradient entry (analytic or numeric) and the floor
  // eps max(1, |loss|) / step the difference's rounding noise (maya::gradient_error in
  // core/gradient_error.hpp, the rule of the scalar tape's gradcheck too). A gradient of size
  // 1e-5 is judged relative to 1e-5. NaN anywhere makes the input's error NaN.
  std::vector<double> worst_error;
  std::vector<std::size_t> worst_entry;
  std::vector<Tensor> analytic;
  std::vector<Tensor> numeric;
  [[nodiscard]] double max_error() const noexcept;
};

// Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every entry of every input.
[[nodiscard]] GradcheckReport gradcheck(const LossFunction& loss, std::span<const Tensor> inputs,
                                        double step = 1e-6);

}  // namespace maya
