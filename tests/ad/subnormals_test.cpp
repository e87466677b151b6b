// The reverse sweeps flush subnormal adjoints to zero by default (fast on Intel CPUs) and keep
// them when asked; the thread's floating-point mode is restored after every sweep.
#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>

namespace {

// d loss / d x = 1e-10 * 1e-300 = 1e-310: a subnormal adjoint.
constexpr double kSubnormalAdjoint = 1e-310;

TEST(Subnormals, ScalarSweepFlushesByDefaultAndKeepsThemWhenAsked) {
  ASSERT_EQ(std::fpclassify(kSubnormalAdjoint), FP_SUBNORMAL);
  maya::Tape tape;
  EXPECT_TRUE(tape.flush_subnormals());
  const maya::Var x = tape.var(2.0);
  const maya::Var loss = (x * 1e-10) * 1e-300;
  const double flushed = tape.grad(loss)[x];
  tape.set_flush_subnormals(false);
  const double kept = tape.grad(loss)[x];
  if (maya::can_flush_subnormals()) {
    EXPECT_EQ(flushed, 0.0);
  }
  EXPECT_DOUBLE_EQ(kept, kSubnormalAdjoint);
}

TEST(Subnormals, TensorSweepFlushesByDefaultAndKeepsThemWhenAsked) {
  maya::TensorTape tape;
  const maya::TensorVar x = tape.var(maya::Tensor::from_data({1.0, 2.0}, {2}));
  const maya::TensorVar loss = maya::sum(x * 1e-10) * 1e-300;
  const maya::Tensor flushed = tape.grad(loss)[x];
  tape.set_flush_subnormals(false);
  const maya::Tensor kept = tape.grad(loss)[x];
  for (std::size_t i = 0; i < 2; ++i) {
    if (maya::can_flush_subnormals()) {
      EXPECT_EQ(flushed.data()[i], 0.0);
    }
    EXPECT_DOUBLE_EQ(kept.data()[i], kSubnormalAdjoint);
  }
}

TEST(Subnormals, SweepRestoresTheThreadsFloatingPointMode) {
  maya::Tape tape;
  const maya::Var x = tape.var(1.0);
  const maya::Var y = maya::sin(x) * 3.0;
  (void)tape.grad(y);
  // Outside the sweep, subnormal arithmetic is IEEE again.
  volatile double tiny = 1e-300;
  volatile double scale = 1e-10;
  EXPECT_EQ(std::fpclassify(tiny * scale), FP_SUBNORMAL);
  {
    const maya::FlushSubnormals flush;
    if (maya::can_flush_subnormals()) {
      EXPECT_EQ(tiny * scale, 0.0);
    }
  }
  EXPECT_EQ(std::fpclassify(tiny * scale), FP_SUBNORMAL);
}

}  // namespace
