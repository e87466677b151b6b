// Uses the installed maya exactly as a downstream project would; exits non-zero on a wrong result.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>
#include <maya/viz/svg_plot.hpp>
#include <vector>

int main() {
  maya::Tape tape;
  const maya::Var x = tape.var(1.3);
  const maya::Var y = (x * x).sin().exp();
  const double derivative = tape.grad(y)[x];
  const double expected = std::exp(std::sin(1.69)) * std::cos(1.69) * 2.6;
  std::printf("d/dx exp(sin(x^2)) at 1.3 = %.12f\n", derivative);
  // The layers above the engine come in the same package (maya::viz links maya::tasks and maya).
  const std::vector<double> ticks = maya::viz::nice_ticks(0.0, 1.0, 5);
  return std::abs(derivative - expected) < 1e-12 && ticks.size() == 6 ? 0 : 1;
}
