// Checks the scalar tape's gradient of a function against central differences of the same
// function: what tests/ad holds every op to, offered to users for their own functions.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "maya/ad/tape.hpp"
#include "maya/ad/var.hpp"

namespace maya {

// Records y = f(x) on `tape` from the leaves made for the inputs (in order).
using ScalarFunction = std::function<Var(Tape&, std::span<const Var>)>;

struct ScalarGradcheckReport {
  std::vector<double> analytic;  // the tape's d y / d x_i
  std::vector<double> numeric;   // (f(x + h e_i) - f(x - h e_i)) / 2h
  // Per input |analytic - numeric| / max(|analytic|, |numeric|, floor): relative to the
  // derivative's own size, with an absolute floor of eps |y| / h (the rounding noise of the
  // central difference) so that derivatives near zero are not judged by noise. NaN anywhere
  // gives an error of NaN, which fails every `error <= tolerance` comparison.
  std::vector<double> error;
  [[nodiscard]] double max_error() const noexcept;  // NaN when any error is NaN
};

// Throws maya::ValueError for a step that is not positive and finite, or a function whose value
// is not finite at `at`.
[[nodiscard]] ScalarGradcheckReport gradcheck(const ScalarFunction& f, std::span<const double> at,
                                              double step = 1e-6);

}  // namespace maya
