// Shapes whose element count overflows are rejected wherever a shape is made or changed.
#include <gtest/gtest.h>

#include "maya/core/error.hpp"
#include "maya/tensor/index_tensor.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace {

constexpr std::size_t kBig = std::size_t{1} << 32;

TEST(ShapeOverflow, FromDataRejectsAWrappingElementCount) {
  // 2^32 * 2^32 wraps to 0, which an empty value list used to "fill".
  EXPECT_THROW((void)maya::Tensor::from_data({}, {kBig, kBig}), maya::ShapeError);
  EXPECT_THROW((void)maya::Tensor::from_data({1.0}, {kBig, kBig, 1}), maya::ShapeError);
}

TEST(ShapeOverflow, IndexTensorRejectsAWrappingElementCount) {
  EXPECT_THROW((void)maya::IndexTensor::from_data({}, {kBig, kBig}), maya::ShapeError);
}

TEST(ShapeOverflow, MakersRejectBeforeAllocating) {
  EXPECT_THROW((void)maya::Tensor::zeros({kBig, kBig + 1}), maya::ShapeError);
  EXPECT_THROW((void)maya::Tensor::uniform({kBig, kBig}, 0.0, 1.0, 1), maya::ShapeError);
  EXPECT_THROW((void)maya::Tensor::normal({kBig, kBig}, 0.0, 1.0, 1), maya::ShapeError);
  EXPECT_THROW((void)maya::Tensor::zeros({std::size_t{1} << 62}), maya::ShapeError);
  EXPECT_THROW((void)maya::Tensor::arange(0.0, 1e300), maya::ShapeError);
}

TEST(ShapeOverflow, ReshapeRejectsAWrappingElementCount) {
  const maya::Tensor empty = maya::Tensor::zeros({0});
  EXPECT_THROW((void)empty.reshape({kBig, kBig}), maya::ShapeError);
  maya::TensorTape tape;
  const maya::TensorVar x = tape.var(maya::Tensor::zeros({0}));
  EXPECT_THROW((void)maya::reshape(x, {kBig, kBig}), maya::ShapeError);
}

TEST(ShapeOverflow, EmptyShapesWithHugeExtentsAreEmpty) {
  EXPECT_EQ(maya::Tensor::zeros({0, kBig, kBig}).numel(), 0U);
}

}  // namespace
