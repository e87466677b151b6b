// The checking vocabulary: NaN fails every check, messages name the argument, value and rule.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "maya/core/check.hpp"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "no exception";
  return {};
}

TEST(Check, NaNFailsEveryCheck) {
  EXPECT_THROW((void)maya::check_finite(kNaN, "op: x"), maya::ValueError);
  EXPECT_THROW((void)maya::check_positive(kNaN, "op: x"), maya::ValueError);
  EXPECT_THROW((void)maya::check_non_negative(kNaN, "op: x"), maya::ValueError);
  EXPECT_THROW((void)maya::check_in_range(kNaN, -kInf, kInf, "op: x"), maya::ValueError);
}

TEST(Check, InfinityIsNeitherFiniteNorPositive) {
  EXPECT_THROW((void)maya::check_finite(kInf, "op: x"), maya::ValueError);
  EXPECT_THROW((void)maya::check_positive(kInf, "op: x"), maya::ValueError);
  EXPECT_THROW((void)maya::check_non_negative(kInf, "op: x"), maya::ValueError);
  EXPECT_EQ(maya::check_positive(2.5, "op: x"), 2.5);
  EXPECT_EQ(maya::check_non_negative(0.0, "op: x"), 0.0);
  EXPECT_EQ(maya::check_in_range(1.0, 0.0, 1.0, "op: x"), 1.0);
}

TEST(Check, MessageNamesArgumentRuleAndValue) {
  EXPECT_EQ(message_of<maya::ValueError>([] { (void)maya::check_positive(-0.5, "step: dt"); }),
            "step: dt must be positive and finite, got -0.5");
  EXPECT_EQ(
      message_of<maya::ValueError>([] { (void)maya::check_in_range(2.0, 0.0, 1.0, "law: mu"); }),
      "law: mu must be in [0, 1], got 2");
  EXPECT_EQ(message_of<maya::ParseError>(
                [] { (void)maya::check_finite<maya::ParseError>(kNaN, "file: x"); }),
            "file: x must be finite, got nan");
}

TEST(Check, HalfOpenRangesExcludeTheirUpperBound) {
  EXPECT_EQ(maya::check_in_half_open_range(0.0, 0.0, 1.0, "Adam: beta1"), 0.0);
  EXPECT_THROW((void)maya::check_in_half_open_range(kNaN, 0.0, 1.0, "Adam: beta1"),
               maya::ValueError);
  EXPECT_EQ(message_of<maya::ValueError>(
                [] { (void)maya::check_in_half_open_range(1.0, 0.0, 1.0, "Sgd: momentum"); }),
            "Sgd: momentum must be in [0, 1), got 1");
}

TEST(Check, AtLeastNamesTheMinimum) {
  EXPECT_EQ(maya::check_at_least(3, 1, "solve: max_iterations"), 3U);
  EXPECT_EQ(
      message_of<maya::ValueError>([] { (void)maya::check_at_least(0, 1, "Lbfgs: history"); }),
      "Lbfgs: history must be at least 1, got 0");
}

TEST(Check, CountsRejectNegativesAndLimits) {
  EXPECT_EQ(maya::check_count(5, "run: --iterations"), 5U);
  EXPECT_THROW((void)maya::check_count(-5, "run: --iterations"), maya::ValueError);
  EXPECT_THROW((void)maya::check_count(11, "run: --steps", 10), maya::ValueError);
}

TEST(Check, ElementCountOverflowIsAShapeError) {
  const std::vector<std::size_t> huge{1ULL << 32, 1ULL << 32};
  EXPECT_THROW((void)maya::checked_element_count(huge, "make"), maya::ShapeError);
  const std::vector<std::size_t> empty{0, 1ULL << 40, 1ULL << 40};
  EXPECT_EQ(maya::checked_element_count(empty, "make"), 0U);
  EXPECT_THROW((void)maya::checked_product(1ULL << 40, 1ULL << 40, "make"), maya::ShapeError);
}

TEST(FormatNumber, ShortestRoundTrip) {
  EXPECT_EQ(maya::format_number(0.1), "0.1");
  EXPECT_EQ(maya::format_number(kNaN), "nan");
  EXPECT_EQ(maya::format_number(-kInf), "-inf");
  EXPECT_EQ(maya::format_number(1e308), "1e+308");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(maya::format_number(third)), third);
}

}  // namespace
