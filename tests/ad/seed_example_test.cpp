#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>

TEST(ScalarTape, SeedExampleMatchesClosedForm) {
  maya::Tape t;
  const maya::Var x = t.var(1.3);
  const maya::Var y = (x * x).sin().exp();
  const maya::Var z = exp(sin(x * x));
  const maya::Gradients g = t.grad(y);
  const double expected = std::exp(std::sin(1.69)) * std::cos(1.69) * 2.6;
  EXPECT_NEAR(g[x.idx()], expected, 1e-12);
  EXPECT_NEAR(g[x], expected, 1e-12);
  EXPECT_DOUBLE_EQ(y.value(), z.value());
}
