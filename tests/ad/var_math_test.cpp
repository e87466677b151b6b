// Every operation of var_math.hpp: its value against the plain double formula and its derivative
// against central differences at several points, plus the documented choices at the points where
// the derivative does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <maya/maya.hpp>
#include <utility>
#include <vector>

namespace {

using maya::Var;

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;
constexpr double kInf = std::numeric_limits<double>::infinity();

// (f(x + h) - f(x - h)) / 2h: error h^2 f'''/6 + eps |f| / h, about 1e-10 for well-scaled f.
double central_difference(const std::function<double(double)>& f, double x) {
  return (f(x + kStep) - f(x - kStep)) / (2.0 * kStep);
}

// Relative error with a floor of 1, so derivatives near zero are compared absolutely.
void expect_close(double tape, double reference, const char* what, double at) {
  EXPECT_LE(std::abs(tape - reference), kTolerance * std::max(1.0, std::abs(reference)))
      << what << " at " << at << ": tape " << tape << ", central difference " << reference;
}

// `op` maps a Var to a Var, `reference` the same function on doubles.
template <class Op>
void expect_unary_matches(Op op, const std::function<double(double)>& reference,
                          const std::vector<double>& points) {
  for (const double at : points) {
    maya::Tape tape;
    const Var x = tape.var(at);
    const Var y = op(x);
    EXPECT_DOUBLE_EQ(y.value(), reference(at)) << "value at " << at;
    expect_close(tape.grad(y)[x], central_difference(reference, at), "d/dx", at);
  }
}

// `op` is generic: called as op(Var, Var), op(Var, double) and op(double, Var), each derivative
// compared with the central difference of `reference` in that argument.
template <class Op>
void expect_binary_matches(Op op, const std::function<double(double, double)>& reference,
                           const std::vector<std::pair<double, double>>& points) {
  for (const auto& [a, b] : points) {
    const auto in_a = [&](double s) { return reference(s, b); };
    const auto in_b = [&](double s) { return reference(a, s); };
    const double d_a = central_difference(in_a, a);
    const double d_b = central_difference(in_b, b);
    {
      maya::Tape tape;
      const Var va = tape.var(a);
      const Var vb = tape.var(b);
      const Var y = op(va, vb);
      EXPECT_DOUBLE_EQ(y.value(), reference(a, b)) << "Var-Var value at " << a << ", " << b;
      const maya::Gradients g = tape.grad(y);
      expect_close(g[va], d_a, "Var-Var d/da", a);
      expect_close(g[vb], d_b, "Var-Var d/db", b);
    }
    {
      maya::Tape tape;
      const Var va = tape.var(a);
      const Var y = op(va, b);
      EXPECT_DOUBLE_EQ(y.value(), reference(a, b)) << "Var-double value at " << a << ", " << b;
      expect_close(tape.grad(y)[va], d_a, "Var-double d/da", a);
    }
    {
      maya::Tape tape;
      const Var vb = tape.var(b);
      const Var y = op(a, vb);
      EXPECT_DOUBLE_EQ(y.value(), reference(a, b)) << "double-Var value at " << a << ", " << b;
      expect_close(tape.grad(y)[vb], d_b, "double-Var d/db", b);
    }
  }
}

// Derivative of a one-operation recording at `at`.
template <class Op>
double derivative_at(Op op, double at) {
  maya::Tape tape;
  const Var x = tape.var(at);
  return tape.grad(op(x))[x];
}

const std::vector<double> kRealLine = {-2.3, -0.7, 0.4, 1.1, 3.2};
const std::vector<double> kOpenUnit = {-0.9, -0.35, 0.1, 0.6, 0.85};
const std::vector<double> kPositive = {0.05, 0.3, 1.0, 2.7, 40.0};

const std::vector<std::pair<double, double>> kPairs = {
    {0.7, 1.3}, {-1.2, 0.4}, {2.5, -0.8}, {-0.3, -1.9}, {1.9, 3.1}};
const std::vector<std::pair<double, double>> kPositivePairs = {
    {0.7, 1.3}, {1.2, 0.4}, {2.5, -0.8}, {0.3, 2.9}, {3.1, 1.9}};
const std::vector<std::pair<double, double>> kDistinctPairs = {
    {0.7, 1.3}, {1.2, 0.4}, {-2.5, -0.8}, {0.3, -2.9}, {3.1, 1.9}};

TEST(VarMath, AddMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return a + b; },
                        [](double a, double b) { return a + b; }, kPairs);
}

TEST(VarMath, SubtractMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return a - b; },
                        [](double a, double b) { return a - b; }, kPairs);
}

TEST(VarMath, MultiplyMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return a * b; },
                        [](double a, double b) { return a * b; }, kPairs);
}

TEST(VarMath, DivideMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return a / b; },
                        [](double a, double b) { return a / b; }, kPairs);
}

TEST(VarMath, UnaryMinusMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return -x; }, [](double x) { return -x; }, kRealLine);
}

TEST(VarMath, UnaryPlusIsTheSameNode) {
  maya::Tape tape;
  const Var x = tape.var(2.0);
  EXPECT_EQ((+x).idx(), x.idx());
  EXPECT_EQ(tape.size(), 1u);
}

TEST(VarMath, SelfProductCountsBothOperands) {
  maya::Tape tape;
  const Var x = tape.var(1.7);
  EXPECT_DOUBLE_EQ(tape.grad(x * x)[x], 2.0 * 1.7);
  EXPECT_DOUBLE_EQ(tape.grad(x / x)[x], 0.0);
  EXPECT_DOUBLE_EQ(tape.grad(x - x)[x], 0.0);
}

TEST(VarMath, CompoundAssignmentWithVarMatchesCentralDifferences) {
  const auto reference_chain = [](double a, double b) {
    double y = a;
    y += b;
    y *= b;
    y -= a;
    y /= b;
    return y;
  };
  const auto chain = [](Var a, Var b) {
    Var y = a;
    y += b;
    y *= b;
    y -= a;
    y /= b;
    return y;
  };
  for (const auto& [a, b] : kPairs) {
    maya::Tape tape;
    const Var va = tape.var(a);
    const Var vb = tape.var(b);
    const Var y = chain(va, vb);
    EXPECT_DOUBLE_EQ(y.value(), reference_chain(a, b));
    const maya::Gradients g = tape.grad(y);
    expect_close(g[va], central_difference([&](double s) { return reference_chain(s, b); }, a),
                 "d/da", a);
    expect_close(g[vb], central_difference([&](double s) { return reference_chain(a, s); }, b),
                 "d/db", b);
  }
}

TEST(VarMath, CompoundAssignmentWithDoubleMatchesCentralDifferences) {
  expect_unary_matches(
      [](Var x) {
        Var y = x;
        y += 1.5;
        y *= x;
        y -= 0.25;
        y *= -3.0;
        y /= 0.7;
        return y;
      },
      [](double x) { return ((x + 1.5) * x - 0.25) * -3.0 / 0.7; }, kRealLine);
}

TEST(VarMath, CompoundAssignmentRebindsTheHandle) {
  maya::Tape tape;
  const Var x = tape.var(2.0);
  Var y = x;
  y += 1.0;
  EXPECT_NE(y.idx(), x.idx());
  EXPECT_DOUBLE_EQ(x.value(), 2.0);
  EXPECT_DOUBLE_EQ(y.value(), 3.0);
}

TEST(VarMath, SinMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return sin(x); }, [](double x) { return std::sin(x); },
                       kRealLine);
}

TEST(VarMath, CosMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return cos(x); }, [](double x) { return std::cos(x); },
                       kRealLine);
}

TEST(VarMath, TanMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return tan(x); }, [](double x) { return std::tan(x); },
                       {-1.2, -0.4, 0.3, 0.9, 1.4});
}

TEST(VarMath, AsinMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return asin(x); }, [](double x) { return std::asin(x); },
                       kOpenUnit);
}

TEST(VarMath, AcosMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return acos(x); }, [](double x) { return std::acos(x); },
                       kOpenUnit);
}

TEST(VarMath, AsinAndAcosDerivativesAreInfiniteAtTheDomainEdges) {
  EXPECT_EQ(derivative_at([](Var x) { return asin(x); }, 1.0), kInf);
  EXPECT_EQ(derivative_at([](Var x) { return asin(x); }, -1.0), kInf);
  EXPECT_EQ(derivative_at([](Var x) { return acos(x); }, 1.0), -kInf);
  EXPECT_EQ(derivative_at([](Var x) { return acos(x); }, -1.0), -kInf);
}

TEST(VarMath, AtanMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return atan(x); }, [](double x) { return std::atan(x); },
                       kRealLine);
}

TEST(VarMath, Atan2MatchesCentralDifferences) {
  expect_binary_matches([](auto y, auto x) { return atan2(y, x); },
                        [](double y, double x) { return std::atan2(y, x); }, kPairs);
}

TEST(VarMath, Atan2AtTheOriginHasZeroGradient) {
  maya::Tape tape;
  const Var y = tape.var(0.0);
  const Var x = tape.var(0.0);
  const Var angle = atan2(y, x);
  const maya::Gradients g = tape.grad(angle);
  EXPECT_EQ(angle.value(), 0.0);
  EXPECT_EQ(g[y], 0.0);
  EXPECT_EQ(g[x], 0.0);
  EXPECT_EQ(derivative_at([](Var v) { return atan2(v, 0.0); }, 0.0), 0.0);
  EXPECT_EQ(derivative_at([](Var v) { return atan2(0.0, v); }, 0.0), 0.0);
}

TEST(VarMath, ExpMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return exp(x); }, [](double x) { return std::exp(x); },
                       kRealLine);
}

TEST(VarMath, LogMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return log(x); }, [](double x) { return std::log(x); },
                       kPositive);
}

TEST(VarMath, Log1pMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return log1p(x); }, [](double x) { return std::log1p(x); },
                       {-0.9, -0.3, 1e-3, 0.8, 12.0});
}

TEST(VarMath, LogAndLog1pAtTheirPolesGiveInfiniteDerivative) {
  EXPECT_EQ(derivative_at([](Var x) { return log(x); }, 0.0), kInf);
  EXPECT_EQ(derivative_at([](Var x) { return log1p(x); }, -1.0), kInf);
}

TEST(VarMath, SqrtMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return sqrt(x); }, [](double x) { return std::sqrt(x); },
                       kPositive);
}

TEST(VarMath, SqrtDerivativeAtZeroIsPlusInfinity) {
  maya::Tape tape;
  const Var x = tape.var(0.0);
  const Var y = sqrt(x);
  EXPECT_EQ(y.value(), 0.0);
  EXPECT_EQ(tape.grad(y)[x], kInf);
}

TEST(VarMath, CbrtMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return cbrt(x); }, [](double x) { return std::cbrt(x); },
                       {-8.0, -0.4, 0.3, 1.0, 27.5});
}

TEST(VarMath, CbrtDerivativeAtZeroIsPlusInfinity) {
  EXPECT_EQ(derivative_at([](Var x) { return cbrt(x); }, 0.0), kInf);
}

TEST(VarMath, AbsMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return abs(x); }, [](double x) { return std::abs(x); },
                       kRealLine);
}

TEST(VarMath, AbsDerivativeAtZeroIsZero) {
  EXPECT_EQ(derivative_at([](Var x) { return abs(x); }, 0.0), 0.0);
  EXPECT_EQ(derivative_at([](Var x) { return abs(x); }, -0.0), 0.0);
}

TEST(VarMath, TanhMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return tanh(x); }, [](double x) { return std::tanh(x); },
                       kRealLine);
}

TEST(VarMath, SigmoidMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return sigmoid(x); },
                       [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, kRealLine);
}

TEST(VarMath, SigmoidIsFiniteForLargeArguments) {
  maya::Tape tape;
  const Var big = tape.var(800.0);
  const Var small = tape.var(-800.0);
  EXPECT_EQ(sigmoid(big).value(), 1.0);
  EXPECT_EQ(sigmoid(small).value(), 0.0);
  EXPECT_EQ(tape.grad(sigmoid(big))[big], 0.0);
  EXPECT_EQ(tape.grad(sigmoid(small))[small], 0.0);
}

TEST(VarMath, ReluMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return relu(x); }, [](double x) { return x > 0.0 ? x : 0.0; },
                       kRealLine);
}

TEST(VarMath, ReluDerivativeAtZeroIsZero) {
  EXPECT_EQ(derivative_at([](Var x) { return relu(x); }, 0.0), 0.0);
}

TEST(VarMath, SoftplusMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return softplus(x); },
                       [](double x) { return std::log1p(std::exp(x)); }, kRealLine);
}

TEST(VarMath, SoftplusIsFiniteForLargeArguments) {
  maya::Tape tape;
  const Var big = tape.var(1000.0);
  const Var y = softplus(big);
  EXPECT_DOUBLE_EQ(y.value(), 1000.0);
  EXPECT_DOUBLE_EQ(tape.grad(y)[big], 1.0);
}

TEST(VarMath, SquareMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return square(x); }, [](double x) { return x * x; }, kRealLine);
}

TEST(VarMath, PowMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return pow(a, b); },
                        [](double a, double b) { return std::pow(a, b); }, kPositivePairs);
}

TEST(VarMath, PowWithIntegerExponentOfNegativeBaseMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return pow(x, 3.0); }, [](double x) { return x * x * x; },
                       kRealLine);
}

TEST(VarMath, PowAtZeroFollowsTheDocumentedConventions) {
  // d/dx x^0 = 0, d/dx x^2 at 0 = 0, d/dx x^0.5 at 0 = +inf, d/dy 0^y = 0 for y > 0.
  EXPECT_EQ(derivative_at([](Var x) { return pow(x, 0.0); }, 0.0), 0.0);
  EXPECT_EQ(derivative_at([](Var x) { return pow(x, 2.0); }, 0.0), 0.0);
  EXPECT_EQ(derivative_at([](Var x) { return pow(x, 0.5); }, 0.0), kInf);
  EXPECT_EQ(derivative_at([](Var y) { return pow(0.0, y); }, 1.5), 0.0);
  maya::Tape tape;
  const Var base = tape.var(0.0);
  const Var exponent = tape.var(2.0);
  const maya::Gradients g = tape.grad(pow(base, exponent));
  EXPECT_EQ(g[base], 0.0);
  EXPECT_EQ(g[exponent], 0.0);
}

TEST(VarMath, HypotMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return hypot(a, b); },
                        [](double a, double b) { return std::hypot(a, b); }, kPairs);
}

TEST(VarMath, HypotAtTheOriginHasZeroGradient) {
  maya::Tape tape;
  const Var a = tape.var(0.0);
  const Var b = tape.var(0.0);
  const Var h = hypot(a, b);
  const maya::Gradients g = tape.grad(h);
  EXPECT_EQ(h.value(), 0.0);
  EXPECT_EQ(g[a], 0.0);
  EXPECT_EQ(g[b], 0.0);
}

TEST(VarMath, MinMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return min(a, b); },
                        [](double a, double b) { return std::min(a, b); }, kDistinctPairs);
}

TEST(VarMath, MaxMatchesCentralDifferences) {
  expect_binary_matches([](auto a, auto b) { return max(a, b); },
                        [](double a, double b) { return std::max(a, b); }, kDistinctPairs);
}

TEST(VarMath, MinAndMaxTiesGiveTheWholeDerivativeToTheFirstVar) {
  maya::Tape tape;
  const Var a = tape.var(1.5);
  const Var b = tape.var(1.5);
  const maya::Gradients g_min = tape.grad(min(a, b));
  EXPECT_EQ(g_min[a], 1.0);
  EXPECT_EQ(g_min[b], 0.0);
  const maya::Gradients g_max = tape.grad(max(a, b));
  EXPECT_EQ(g_max[a], 1.0);
  EXPECT_EQ(g_max[b], 0.0);
  // Against a constant, the Var is the only differentiable operand and takes the derivative.
  EXPECT_EQ(tape.grad(min(a, 1.5))[a], 1.0);
  EXPECT_EQ(tape.grad(min(1.5, a))[a], 1.0);
  EXPECT_EQ(tape.grad(max(a, 1.5))[a], 1.0);
  EXPECT_EQ(tape.grad(max(1.5, a))[a], 1.0);
}

TEST(VarMath, ClampMatchesCentralDifferences) {
  expect_unary_matches([](Var x) { return clamp(x, -1.0, 2.0); },
                       [](double x) { return std::clamp(x, -1.0, 2.0); }, kRealLine);
}

TEST(VarMath, ClampPassesTheDerivativeAtBothBounds) {
  EXPECT_EQ(derivative_at([](Var x) { return clamp(x, -1.0, 2.0); }, -1.0), 1.0);
  EXPECT_EQ(derivative_at([](Var x) { return clamp(x, -1.0, 2.0); }, 2.0), 1.0);
  EXPECT_EQ(derivative_at([](Var x) { return clamp(x, 0.5, 0.5); }, 0.5), 1.0);
  EXPECT_EQ(derivative_at([](Var x) { return clamp(x, 0.5, 0.5); }, 0.7), 0.0);
}

TEST(VarMath, MethodFormsMatchFreeFunctions) {
  maya::Tape tape;
  const Var x = tape.var(0.37);
  const Var e = tape.var(1.6);
  EXPECT_EQ(x.sin().value(), sin(x).value());
  EXPECT_EQ(x.cos().value(), cos(x).value());
  EXPECT_EQ(x.tan().value(), tan(x).value());
  EXPECT_EQ(x.asin().value(), asin(x).value());
  EXPECT_EQ(x.acos().value(), acos(x).value());
  EXPECT_EQ(x.atan().value(), atan(x).value());
  EXPECT_EQ(x.exp().value(), exp(x).value());
  EXPECT_EQ(x.log().value(), log(x).value());
  EXPECT_EQ(x.log1p().value(), log1p(x).value());
  EXPECT_EQ(x.sqrt().value(), sqrt(x).value());
  EXPECT_EQ(x.cbrt().value(), cbrt(x).value());
  EXPECT_EQ(x.abs().value(), abs(x).value());
  EXPECT_EQ(x.tanh().value(), tanh(x).value());
  EXPECT_EQ(x.sigmoid().value(), sigmoid(x).value());
  EXPECT_EQ(x.relu().value(), relu(x).value());
  EXPECT_EQ(x.softplus().value(), softplus(x).value());
  EXPECT_EQ(x.square().value(), square(x).value());
  EXPECT_EQ(x.pow(2.5).value(), pow(x, 2.5).value());
  EXPECT_EQ(x.pow(e).value(), pow(x, e).value());
  EXPECT_EQ(x.clamp(0.0, 0.2).value(), clamp(x, 0.0, 0.2).value());
  EXPECT_EQ(maya::exp(x).value(), exp(x).value());
}

TEST(VarMath, ComparisonsCompareValues) {
  maya::Tape tape;
  const Var one = tape.var(1.0);
  const Var two = tape.var(2.0);
  EXPECT_TRUE(one < two);
  EXPECT_TRUE(one <= two);
  EXPECT_FALSE(one > two);
  EXPECT_FALSE(one >= two);
  EXPECT_TRUE(one <= tape.var(1.0));
  EXPECT_TRUE(one >= tape.var(1.0));
  EXPECT_TRUE(one < 1.5);
  EXPECT_TRUE(two > 1.5);
  EXPECT_TRUE(one <= 1.0);
  EXPECT_TRUE(two >= 2.0);
  EXPECT_TRUE(0.5 < one);
  EXPECT_TRUE(2.5 > two);
  EXPECT_TRUE(1.0 <= one);
  EXPECT_TRUE(2.0 >= two);
  const std::size_t nodes = tape.size();
  EXPECT_TRUE(one < two);
  EXPECT_EQ(tape.size(), nodes);  // comparisons are not recorded
}

}  // namespace
