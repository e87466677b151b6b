#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <vector>

namespace {

TEST(LeafFromView, CopiesTheValuesOnceAndDifferentiatesLikeATensorLeaf) {
  std::vector<double> values{1.0, -2.0, 3.0, 0.5, 4.0, -1.5};
  const maya::Shape shape{2, 3};
  maya::TensorTape tape;
  const maya::TensorVar from_view = tape.var(maya::TensorView{values.data(), shape});
  const maya::TensorVar from_tensor = tape.var(maya::Tensor::from_data(values, shape));
  const maya::TensorVar constant = tape.constant(maya::TensorView{values.data(), shape});
  values[0] = 100.0;  // the tape holds its own copy
  EXPECT_EQ(from_view.view()[0], 1.0);
  EXPECT_EQ(constant.view()[0], 1.0);
  ASSERT_EQ(from_view.ndim(), 2u);
  EXPECT_EQ(from_view.shape()[1], 3u);
  EXPECT_FALSE(tape.requires_grad(constant));

  const maya::TensorVar loss = maya::sum(maya::square(from_view) * constant) +
                               maya::sum(maya::square(from_tensor) * constant);
  const maya::TensorGradients g = tape.grad(loss);
  // d/dx sum(x^2 c) = 2 x c
  const double expected[] = {2.0, 8.0, 18.0, 0.5, 32.0, 4.5};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(g[from_view].data()[i], expected[i]);
    EXPECT_DOUBLE_EQ(g[from_tensor].data()[i], expected[i]);
  }
}

TEST(LeafFromView, ZeroDimensionalAndEmptyViews) {
  const double one = 2.5;
  maya::TensorTape tape;
  const maya::TensorVar scalar = tape.var(maya::TensorView{&one, {}});
  EXPECT_EQ(scalar.item(), 2.5);
  const maya::Shape empty{0};
  const maya::TensorVar nothing = tape.var(maya::TensorView{nullptr, empty});
  EXPECT_EQ(nothing.numel(), 0u);
}

}  // namespace
