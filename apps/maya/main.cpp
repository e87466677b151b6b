// The maya command-line program. For now its one job is `maya demo`: the seed's scalar example.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <maya/maya.hpp>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "demo") != 0) {
    std::fprintf(stderr, "maya: unknown command '%s' (try: maya demo)\n", argv[1]);
    return 2;
  }
  maya::Tape tape;
  const maya::Var x = tape.var(1.3);
  const maya::Var y = (x * x).sin().exp();
  std::printf("d/dx exp(sin(x^2)) at x = 1.3 = %.12f\n", tape.grad(y)[x]);
  return 0;
}
