#include "optim/line_search.hpp"
#include "maya/core/check.hpp"

#include <algorithm>
#include <cmath>

namespace maya::optim::detail {

LinePath::LinePath(Evaluator& evaluate, std::span<const double> start, double loss,
                   std::span<const double> gradient, std::span<const double> direction,
                   std::span<const double> lower, std::span<const double> upper,
                   std::size_t iteration)
    : evaluate_(evaluate),
      start_(start),
      gradient0_(gradient),
      direction_(direction),
      lower_(lower),
      upper_(upper),
      iteration_(iteration),
      loss0_(loss),
      slope0_(dot(gradient, direction)),
      point_(start.size()),
      gradient_(start.size()) {
  last_.step = -1.0;
}

LinePath::Sample LinePath::at(double step) {
  for (std::size_t i = 0; i < point_.size(); ++i) point_[i] = start_[i] + step * direction_[i];
  if (!lower_.empty()) project(point_, lower_, upper_);
  ++evaluations_;
  const double loss = evaluate_(point_, gradient_, iteration_, false);
  double predicted = 0.0;
  double end_slope = 0.0;
  for (std::size_t i = 0; i < point_.size(); ++i) {
    predicted += gradient0_[i] * (point_[i] - start_[i]);
    end_slope += gradient_[i] * (point_[i] - start_[i]);
  }
  last_ = Sample{step,      loss,      dot(gradient_, direction_),
                 predicted, end_slope, std::isfinite(loss) && all_finite(gradient_)};
  return last_;
}

void LinePath::settle(double step) {
  if (last_.step != step) static_cast<void>(at(step));
}

namespace {

// Relative size of the loss's roundoff for the approximate Armijo condition.
constexpr double kLossRoundoff = 1e-10;

// f(t) <= f0 + c1 g0.(u(t) - u0), or its approximate form within roundoff (see the header).
bool sufficient_decrease(const LinePath::Sample& s, double f0, double c1) {
  if (!s.finite || !(s.predicted < 0.0)) return false;
  if (s.loss <= f0 + c1 * s.predicted) return true;
  return s.loss <= f0 + kLossRoundoff * std::abs(f0) &&
         s.end_slope <= (2.0 * c1 - 1.0) * s.predicted;
}

// Minimizer of the cubic through (a, fa, da) and (b, fb, db) (Nocedal & Wright eq. 3.59),
// clamped to [low, high]; the midpoint when the cubic has no minimizer or the data are not finite.
double cubic_minimizer(double a, double fa, double da, double b, double fb, double db, double low,
                       double high) {
  const double d1 = da + db - 3.0 * (fa - fb) / (a - b);
  const double d2_squared = d1 * d1 - da * db;
  if (std::isfinite(d2_squared) && d2_squared >= 0.0) {
    const double d2 = std::copysign(std::sqrt(d2_squared), b - a);
    const double t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    if (std::isfinite(t)) return std::clamp(t, low, high);
  }
  return 0.5 * (low + high);
}

std::string no_decrease(const LinePath& path, std::size_t evaluations, double last_step) {
  return "no step along the search direction lowered the loss enough in " +
         std::to_string(evaluations) + " evaluations (loss " + format_number(path.loss0()) +
         ", directional derivative " + format_number(path.slope0()) + ", last trial step " +
         format_number(last_step) +
         "); the gradient may not match the loss, the loss may be non-smooth or noisy, or the "
         "tolerance may be finer than float64 resolves";
}

}  // namespace

LineSearchOutcome strong_wolfe_search(LinePath& path, double initial_step, double c1, double c2,
                                      std::size_t max_evaluations) {
  const double f0 = path.loss0();
  const double d0 = path.slope0();
  const auto armijo = [&](const LinePath::Sample& s) { return sufficient_decrease(s, f0, c1); };
  const auto curvature = [&](const LinePath::Sample& s) { return std::abs(s.slope) <= -c2 * d0; };

  // Bracketing phase (Algorithm 3.5): grow t until the interval [lo, hi] holds a Wolfe point.
  LinePath::Sample lo{0.0, f0, d0, 0.0, 0.0, true};
  LinePath::Sample hi{};
  bool bracketed = false;
  double t = initial_step;
  std::size_t used = 0;
  while (used < max_evaluations) {
    const LinePath::Sample s = path.at(t);
    ++used;
    if (armijo(s) && curvature(s)) return {true, s.step, {}};
    if (!armijo(s) || (lo.step > 0.0 && s.loss >= lo.loss)) {
      hi = s;
      bracketed = true;
      break;
    }
    if (s.slope >= 0.0) {
      hi = lo;
      lo = s;
      bracketed = true;
      break;
    }
    const double next = cubic_minimizer(lo.step, lo.loss, lo.slope, s.step, s.loss, s.slope,
                                        s.step + 0.01 * (s.step - lo.step), 10.0 * s.step);
    lo = s;
    t = next;
  }

  // Zoom phase (Algorithm 3.6): lo satisfies Armijo with the lowest loss seen; shrink [lo, hi].
  while (bracketed && used < max_evaluations) {
    const double width = std::abs(hi.step - lo.step);
    if (width <= 1e-14 * std::max(std::abs(lo.step), std::abs(hi.step))) break;
    const double low = std::min(lo.step, hi.step) + 0.1 * width;
    const double high = std::max(lo.step, hi.step) - 0.1 * width;
    t = hi.finite
            ? cubic_minimizer(lo.step, lo.loss, lo.slope, hi.step, hi.loss, hi.slope, low, high)
            : 0.5 * (lo.step + hi.step);
    const LinePath::Sample s = path.at(t);
    ++used;
    if (armijo(s) && curvature(s)) return {true, s.step, {}};
    if (!armijo(s) || s.loss >= lo.loss) {
      hi = s;
      continue;
    }
    if (s.slope * (hi.step - lo.step) >= 0.0) hi = lo;
    lo = s;
  }
  // Out of evaluations: a point with sufficient decrease is still progress (the history update
  // skips its pair if the curvature is not positive).
  if (lo.step > 0.0) {
    path.settle(lo.step);
    return {true, lo.step, {}};
  }
  return {false, 0.0, no_decrease(path, used, t)};
}

LineSearchOutcome backtracking_search(LinePath& path, double initial_step, double c1,
                                      std::size_t max_evaluations) {
  const double f0 = path.loss0();
  double t = initial_step;
  for (std::size_t used = 1; used <= max_evaluations; ++used) {
    const LinePath::Sample s = path.at(t);
    if (sufficient_decrease(s, f0, c1)) return {true, s.step, {}};
    if (used == max_evaluations) return {false, 0.0, no_decrease(path, used, t)};
    // Minimizer of the quadratic through f0, the slope and f(t), kept within [0.1 t, 0.5 t].
    double next = 0.5 * t;
    if (s.finite) {
      const double curvature = s.loss - f0 - s.predicted;
      if (curvature > 0.0)
        next = std::clamp(-s.predicted * t / (2.0 * curvature), 0.1 * t, 0.5 * t);
    }
    t = next;
  }
  return {false, 0.0, no_decrease(path, max_evaluations, t)};
}

}  // namespace maya::optim::detail
