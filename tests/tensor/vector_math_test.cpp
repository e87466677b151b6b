#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <maya/maya.hpp>
#include <vector>

#include "../../src/tensor/vector_math.hpp"

namespace {

// Relative error in units of the last place of the reference.
double ulps(double value, double reference) {
  if (value == reference) return 0.0;
  const double scale = std::max(std::abs(reference), std::numeric_limits<double>::min());
  return std::abs(value - reference) / (scale * std::numeric_limits<double>::epsilon());
}

std::vector<double> sample_points() {
  std::vector<double> x;
  for (double v = -40.0; v <= 40.0; v += 0.0137) x.push_back(v);
  for (double v = 1e-300; v < 1.0; v *= 1.7) {
    x.push_back(v);
    x.push_back(-v);
  }
  x.insert(x.end(), {0.0, -0.0, 0.125, -0.125, 0.1249999999, 700.0, -700.0, -708.5, -720.0, -744.0,
                     -746.0, 1e308, -1e308});
  return x;
}

}  // namespace

TEST(VectorMath, TanhIsWithinFourUlpsOfTheLibm) {
  const std::vector<double> x = sample_points();
  std::vector<double> y(x.size());
  maya::tensor::detail::vector_tanh(x.data(), y.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(ulps(y[i], std::tanh(x[i])), 4.0) << "x = " << x[i];
  }
}

TEST(VectorMath, SigmoidAndExpAreWithinFourUlps) {
  const std::vector<double> x = sample_points();
  std::vector<double> s(x.size()), e(x.size());
  maya::tensor::detail::vector_sigmoid(x.data(), s.data(), x.size());
  maya::tensor::detail::vector_exp(x.data(), e.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(ulps(s[i], maya::ad::detail::stable_sigmoid(x[i])), 4.0) << "x = " << x[i];
    if (x[i] < 709.0) {
      EXPECT_LE(ulps(e[i], std::exp(x[i])), 4.0) << "x = " << x[i];
    }
  }
}
