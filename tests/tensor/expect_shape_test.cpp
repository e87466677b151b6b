#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <string>

namespace {

TEST(ExpectShape, PassesOnEqualShapesAndNamesBothOtherwise) {
  const maya::Shape shape{2, 5, 3};
  EXPECT_NO_THROW(maya::expect_shape(shape, {2, 5, 3}, "step", "state"));
  EXPECT_NO_THROW(maya::expect_shape(maya::Shape{}, {}, "step", "scalar"));
  try {
    maya::expect_shape(shape, {2, 4, 3}, "rigid_step", "state");
    FAIL() << "no ShapeError";
  } catch (const maya::ShapeError& e) {
    EXPECT_EQ(std::string(e.what()), "rigid_step: state has shape [2, 5, 3], expected [2, 4, 3]");
  }
  EXPECT_THROW(maya::expect_shape(shape, {2, 5}, "step", "state"), maya::ShapeError);
}

}  // namespace
