// L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithm 7.4/7.5): a quasi-Newton
// direction from the last `history` (s, y) pairs by the two-loop recursion, and a line search
// (strong Wolfe, Algorithms 3.5/3.6, or backtracking Armijo). For smooth, deterministic losses,
// such as a simulator fitted to a recorded trajectory, it needs far fewer evaluations than Adam.
// With bounds it is a projected quasi-Newton method: entries at a bound whose gradient points
// out of the box are held fixed, and the step is an Armijo backtrack along the projected path.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"

namespace maya::optim {

namespace detail {
class Evaluator;
}

enum class LineSearch {
  kStrongWolfe,   // f(u + t d) <= f + c1 t g.d  and  |g(u + t d).d| <= c2 |g.d|
  kBacktracking,  // Armijo only: halve (or interpolate) t until f decreases enough
};

struct LbfgsOptions {
  std::size_t history = 10;  // m >= 1 correction pairs
  LineSearch line_search = LineSearch::kStrongWolfe;
  double c1 = 1e-4;                              // sufficient decrease, 0 < c1 < c2 < 1
  double c2 = 0.9;                               // curvature (strong Wolfe only)
  std::size_t max_line_search_evaluations = 25;  // >= 1
};

class Lbfgs {
 public:
  // Keeps a reference to `parameters`, which must outlive the optimizer. Throws
  // maya::ValueError for settings outside the ranges above. Bounded parameter sets always use the
  // projected backtracking search (strong Wolfe does not survive the projection).
  Lbfgs(ParameterSet& parameters, LbfgsOptions options = {});

  // One iteration: direction, line search, history update; returns the new loss. Reuses the
  // loss and gradient of the previous step when the parameters have not changed since (call
  // reset() after changing the objective). Throws maya::ConvergenceError when the line search
  // finds no acceptable step, maya::NonFiniteError when the loss at the current point is NaN/Inf.
  double step(const Objective& objective);

  // Iterates until a stopping rule holds. A failed line search does not throw: it ends the run
  // with Status::kLineSearchFailed, converged = false and the reason in Result::message.
  [[nodiscard]] Result minimize(const Objective& objective, const MinimizeOptions& options = {});

  [[nodiscard]] std::size_t iterations() const noexcept { return iterations_; }
  [[nodiscard]] std::size_t history_size() const noexcept { return pairs_.size(); }
  [[nodiscard]] const LbfgsOptions& options() const noexcept { return options_; }
  [[nodiscard]] ParameterSet& parameters() noexcept { return *parameters_; }
  void reset();  // forgets the history, the cached point and the iteration count

 private:
  struct Pair {
    std::vector<double> s;  // u_{k+1} - u_k
    std::vector<double> y;  // g_{k+1} - g_k
    double rho;             // 1 / (y.s)
  };
  struct Outcome {
    bool ok;
    std::string reason;  // when !ok
  };

  void evaluate_current(detail::Evaluator& evaluate);
  void steepest_direction();
  void quasi_newton_direction();
  Outcome iterate(detail::Evaluator& evaluate);
  void remember(std::span<const double> new_point, std::span<const double> new_gradient);

  ParameterSet* parameters_;
  LbfgsOptions options_;
  std::deque<Pair> pairs_;
  bool have_current_ = false;
  std::vector<double> point_;      // u_k
  double loss_ = 0.0;              // f(u_k)
  std::vector<double> gradient_;   // g(u_k), latent
  std::vector<double> direction_;  // d_k
  std::vector<bool> fixed_;        // entries held at a bound this iteration
  std::size_t iterations_ = 0;
  std::size_t evaluations_ = 0;
};

}  // namespace maya::optim
