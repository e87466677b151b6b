// How far a tape's derivative is from its central-difference estimate: the one rule of both
// gradchecks (the scalar tape's and the tensor tape's). The error is relative to the size of the
// gradient being checked, with an absolute floor set by the rounding noise of the difference.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace maya {

// The rounding noise of a central difference (f(x + h) - f(x - h)) / 2h of a function whose value
// is y: eps max(1, |y|) / h. A derivative below it cannot be told from zero by that difference, so
// it is judged against this floor instead of against its own size.
[[nodiscard]] inline double central_difference_floor(double value, double step) noexcept {
  return std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(value)) / step;
}

// |analytic - numeric| / max(scale, floor), where scale is the size of the gradient the entry
// belongs to (for one derivative, max(|analytic|, |numeric|)): a 10% error is 0.1 whether the
// gradient is 1e5 or 1e-5. NaN when either value is not finite, so `error <= tolerance` fails.
[[nodiscard]] inline double gradient_error(double analytic, double numeric, double scale,
                                           double floor) noexcept {
  if (!std::isfinite(analytic) || !std::isfinite(numeric) || !std::isfinite(scale)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double denominator = std::max(scale, floor);
  return denominator > 0.0 ? std::abs(analytic - numeric) / denominator : 0.0;
}

}  // namespace maya
