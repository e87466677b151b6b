// Private to maya::optim: line searches along u(t) = u0 + t d (strong Wolfe, Nocedal & Wright
// Algorithms 3.5/3.6 with cubic interpolation) or along the projected path u(t) = P(u0 + t d)
// (backtracking Armijo). A trial point whose loss or gradient is NaN/Inf counts as "too far".
// Near a minimum the loss change drops below float64 roundoff of the loss itself; there both
// searches also accept Hager & Zhang's approximate Armijo condition (SIAM J. Optim. 16, 2005):
// f(t) <= f0 + 1e-10 |f0| and g(t).(u(t) - u0) <= (2 c1 - 1) g0.(u(t) - u0), the Armijo test
// applied to the quadratic model through both ends' slopes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "optim/evaluator.hpp"

namespace maya::optim::detail {

class LinePath {
 public:
  struct Sample {
    double step;
    double loss;
    double slope;      // g(u(t)).d, the derivative along an unprojected path
    double predicted;  // g0.(u(t) - u0), the first-order change (t g0.d without projection)
    double end_slope;  // g(u(t)).(u(t) - u0), the derivative at the far end of the segment
    bool finite;
  };

  // Empty lower/upper: no projection. The spans must outlive the path.
  LinePath(Evaluator& evaluate, std::span<const double> start, double loss,
           std::span<const double> gradient, std::span<const double> direction,
           std::span<const double> lower, std::span<const double> upper, std::size_t iteration);

  Sample at(double step);
  // Makes `step` the last evaluated point (re-evaluating when another came after it).
  void settle(double step);

  [[nodiscard]] double loss0() const noexcept { return loss0_; }
  [[nodiscard]] double slope0() const noexcept { return slope0_; }
  [[nodiscard]] std::span<const double> point() const noexcept { return point_; }
  [[nodiscard]] std::span<const double> gradient() const noexcept { return gradient_; }
  [[nodiscard]] double loss() const noexcept { return last_.loss; }
  [[nodiscard]] std::size_t evaluations() const noexcept { return evaluations_; }

 private:
  Evaluator& evaluate_;
  std::span<const double> start_;
  std::span<const double> gradient0_;
  std::span<const double> direction_;
  std::span<const double> lower_;
  std::span<const double> upper_;
  std::size_t iteration_;
  double loss0_;
  double slope0_;
  std::vector<double> point_;
  std::vector<double> gradient_;
  Sample last_{};
  std::size_t evaluations_ = 0;
};

struct LineSearchOutcome {
  bool ok;
  double step;
  std::string reason;  // why it failed, when !ok
};

[[nodiscard]] LineSearchOutcome strong_wolfe_search(LinePath& path, double initial_step, double c1,
                                                    double c2, std::size_t max_evaluations);
[[nodiscard]] LineSearchOutcome backtracking_search(LinePath& path, double initial_step, double c1,
                                                    std::size_t max_evaluations);

}  // namespace maya::optim::detail
