// The seed's first example: the derivative of f(x) = exp(sin(x^2)) at x = 1.3 by reverse mode,
// checked against its closed form f'(x) = exp(sin x^2) cos(x^2) 2x.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>

int main() {
  maya::Tape tape;
  const maya::Var x = tape.var(1.3);
  const maya::Var y = (x * x).sin().exp();
  const maya::Gradients grads = tape.grad(y);

  const double closed_form = std::exp(std::sin(1.69)) * std::cos(1.69) * 2.0 * 1.3;
  std::printf("f(x)  = exp(sin(x^2)) at x = 1.3: %.15f\n", y.value());
  std::printf("df/dx by the tape:                %.15f\n", grads[x.idx()]);
  std::printf("df/dx closed form:                %.15f\n", closed_form);
  return std::abs(grads[x] - closed_form) < 1e-12 ? 0 : 1;
}
