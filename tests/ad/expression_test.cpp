// Expressions of Vars (maya/ad/expression.hpp): one node per assignment, safe to keep with `auto`
// (they hold copies, never references to temporaries), checked against their tape when recorded,
// and statements whose leaves repeat the node before them (y = f(y, x)) swept and replayed right.
#include <gtest/gtest.h>

#include <cmath>
#include <concepts>
#include <limits>
#include <maya/maya.hpp>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using maya::Var;

// Built from by-value parameters and temporaries that are gone when it returns: an expression
// holding references to them would dangle (the address sanitizer build catches that).
auto seed_expression(Var x) { return (x * x).sin().exp(); }

auto sum_of_products(Var a, Var b) {
  const auto product = a * b;  // a named sub-expression, copied into the result
  return product + sin(a) * (b - 1.0) + square(a + b);
}

double sum_of_products_value(double a, double b) {
  return a * b + std::sin(a) * (b - 1.0) + (a + b) * (a + b);
}

static_assert(std::is_trivially_copyable_v<Var> && sizeof(Var) == 16);
static_assert(std::is_trivially_copyable_v<decltype(seed_expression(Var()))>);
// Gradients are indexed by Vars: an expression must become one first (a compile error, not a
// node recorded after the sweep).
template <class T>
concept IndexesGradients = requires(const maya::Gradients& g, const T& t) {
  g[t];
};
static_assert(!IndexesGradients<decltype(seed_expression(Var()))>);
static_assert(IndexesGradients<Var>);

TEST(Expressions, AutoKeepsAnExpressionThatRecordsWhenItBecomesAVar) {
  maya::Tape tape;
  const Var x = tape.var(1.3);
  auto y = (x * x).sin().exp();  // the seed's line with `auto`
  EXPECT_EQ(tape.size(), 1u) << "nothing is recorded before the expression becomes a Var";
  EXPECT_DOUBLE_EQ(y.value(), std::exp(std::sin(1.69)));
  const maya::Gradients g = tape.grad(y);
  EXPECT_EQ(tape.size(), 2u);
  EXPECT_NEAR(g[x.idx()], -0.834538844626, 1e-12);
}

TEST(Expressions, ExpressionsReturnedFromFunctionsHoldCopies) {
  maya::Tape tape;
  const Var x = tape.var(0.7);
  const auto kept = seed_expression(x);
  std::vector<double> unrelated(64, 3.0);  // reuses the stack the temporaries lived on
  (void)unrelated;
  const Var y = kept;
  EXPECT_DOUBLE_EQ(y.value(), std::exp(std::sin(0.49)));
  EXPECT_NEAR(tape.grad(y)[x], std::exp(std::sin(0.49)) * std::cos(0.49) * 1.4, 1e-14);

  const Var a = tape.var(0.4);
  const Var b = tape.var(-1.2);
  const Var z = sum_of_products(a, b);
  EXPECT_DOUBLE_EQ(z.value(), sum_of_products_value(0.4, -1.2));
  const maya::Gradients g = tape.grad(z);
  const double h = 1e-6;
  EXPECT_NEAR(
      g[a], (sum_of_products_value(0.4 + h, -1.2) - sum_of_products_value(0.4 - h, -1.2)) / (2 * h),
      1e-8);
  EXPECT_NEAR(
      g[b], (sum_of_products_value(0.4, -1.2 + h) - sum_of_products_value(0.4, -1.2 - h)) / (2 * h),
      1e-8);
}

TEST(Expressions, EachAssignmentRecordsOneNodeAndDiscardedOnesNone) {
  maya::Tape tape;
  const Var x = tape.var(2.0);
  const Var y = tape.var(3.0);
  (void)(x * y + sin(x) / y);
  EXPECT_EQ(tape.size(), 2u);
  const auto e = x * y + 1.0;
  const Var first = e;
  const Var second = e;
  EXPECT_EQ(tape.size(), 4u);
  EXPECT_NE(first.idx(), second.idx());
  EXPECT_EQ(first.value(), second.value());
  EXPECT_EQ(tape.grad(second)[x], 3.0);
}

TEST(Expressions, AnExpressionKeepsTheValuesItWasWrittenWith) {
  maya::Tape tape;
  const Var x = tape.var(2.0);
  const auto doubled = x * 2.0;
  tape.set_value(x, 5.0);
  EXPECT_EQ(doubled.value(), 4.0);
  const Var recorded = doubled;
  EXPECT_EQ(recorded.value(), 4.0);
  tape.replay();  // the recorded node follows the input again
  EXPECT_EQ(recorded.value(), 10.0);
}

TEST(Expressions, ExpressionOfAClearedOrDestroyedTapeThrowsWhenRecorded) {
  maya::Tape tape;
  const Var x = tape.var(1.0);
  const auto stale = x * 2.0;
  tape.clear();
  EXPECT_THROW((void)Var(stale), maya::TapeError);
  const Var fresh = tape.var(1.0);
  EXPECT_THROW((void)(stale + fresh), maya::TapeError);
  EXPECT_EQ(tape.size(), 1u);

  std::optional<decltype(std::declval<Var>() * 2.0)> orphan;
  {
    maya::Tape scoped;
    orphan.emplace(scoped.var(1.0) * 2.0);
  }
  EXPECT_EQ(orphan->value(), 2.0);  // its value is its own
  EXPECT_THROW((void)Var(*orphan), maya::TapeError);
}

TEST(Expressions, ExpressionsOfTwoTapesDoNotMix) {
  maya::Tape first;
  maya::Tape second;
  const Var a = first.var(1.0);
  const Var b = second.var(2.0);
  EXPECT_THROW((void)(sin(a) * cos(b)), maya::TapeError);
  EXPECT_THROW((void)(a * 2.0 + b), maya::TapeError);
  EXPECT_THROW((void)min(a + 1.0, b + 1.0), maya::TapeError);
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(second.size(), 1u);
}

TEST(Expressions, ExpressionsCompareAndMixWithVarsInConditionals) {
  maya::Tape tape;
  const Var x = tape.var(0.5);
  EXPECT_TRUE(x * 2.0 > x);
  EXPECT_TRUE(x + 1.0 >= 1.5);
  EXPECT_TRUE(0.0 < sin(x));
  const Var picked = x < 1.0 ? x * 3.0 : x;
  EXPECT_EQ(picked.value(), 1.5);
  EXPECT_EQ(tape.grad(picked)[x], 3.0);
}

// y = y + sin(x y + 0.1) exp(-0.01 x) / (1 + y^2): the benchmark's statement, whose leaves repeat
// y, the node recorded just before. record() merges those leaves into one operand.
template <class Real>
Real chain(const std::vector<Real>& x, Real y, int rounds) {
  using std::exp, std::sin;
  for (int r = 0; r < rounds; ++r) {
    for (const Real& xi : x) y = y + sin(xi * y + 0.1) * exp(-0.01 * xi) / (1.0 + y * y);
  }
  return y;
}

TEST(Expressions, ChainOfStatementsMatchesCentralDifferencesAndReplays) {
  const std::vector<double> at = {0.5, 0.9, 1.3, -0.4};
  maya::Tape tape;
  std::vector<Var> x;
  for (const double v : at) x.push_back(tape.var(v));
  const Var y0 = tape.var(0.2);
  const Var y = chain(x, y0, 3);
  EXPECT_EQ(tape.size(), at.size() + 1 + 3 * at.size()) << "one node per statement";
  EXPECT_NEAR(y.value(), chain(at, 0.2, 3), 1e-15);
  const maya::Gradients g = tape.grad(y);
  for (std::size_t i = 0; i < at.size(); ++i) {
    std::vector<double> plus = at;
    std::vector<double> minus = at;
    plus[i] += 1e-6;
    minus[i] -= 1e-6;
    const double central = (chain(plus, 0.2, 3) - chain(minus, 0.2, 3)) / 2e-6;
    EXPECT_NEAR(g[x[i]], central, 1e-8 * std::max(1.0, std::abs(central))) << "input " << i;
  }
  EXPECT_NEAR(g[y0], (chain(at, 0.2 + 1e-6, 3) - chain(at, 0.2 - 1e-6, 3)) / 2e-6, 1e-8);

  // Replay at other inputs gives what a fresh recording there gives, to the last bit.
  const std::vector<double> other = {-0.3, 0.1, 0.8, 1.7};
  for (std::size_t i = 0; i < other.size(); ++i) tape.set_value(x[i], other[i]);
  tape.set_value(y0, -0.6);
  tape.replay();
  maya::Tape fresh;
  std::vector<Var> fresh_x;
  for (const double v : other) fresh_x.push_back(fresh.var(v));
  const Var fresh_y0 = fresh.var(-0.6);
  const Var fresh_y = chain(fresh_x, fresh_y0, 3);
  EXPECT_EQ(y.value(), fresh_y.value());
  EXPECT_EQ(tape.grad(y).values(), fresh.grad(fresh_y).values());
}

// More than 32 leaves: stored without merging the repeats of the previous node, the last leaf
// being that node (the sweep passes that one in a register and the others through memory).
template <class Real>
auto wide(Real previous, Real x) {
  auto term = [](const auto& p, const auto& q) { return p * q + sin(p); };
  return term(previous, x) + term(previous, previous) + term(x, previous) + term(previous, x) +
         term(previous, x) + term(previous, previous) + term(x, previous) + term(previous, x) +
         term(previous, x) + term(previous, previous) + term(x, previous) + term(previous, x) +
         term(previous, x) + term(previous, previous) + term(x, previous) + term(previous, x) +
         x * previous;
}

double wide_value(double previous, double x) {
  using std::sin;
  auto term = [](double p, double q) { return p * q + sin(p); };
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) {
    sum += term(previous, x) + term(previous, previous) + term(x, previous) + term(previous, x);
  }
  return sum + x * previous;
}

TEST(Expressions, StatementsOfManyLeavesSweepAndReplayRight) {
  maya::Tape tape;
  const Var x = tape.var(0.3);
  const Var p = tape.var(1.1);
  const Var previous = p * 1.0;  // the node just before the wide statement
  const auto expression = wide(previous, x);
  static_assert(std::remove_cvref_t<decltype(expression.node())>::kOperands > 32);
  const Var out = expression;
  EXPECT_NEAR(out.value(), wide_value(1.1, 0.3), 1e-13);
  const maya::Gradients g = tape.grad(out);
  const double h = 1e-6;
  EXPECT_NEAR(g[x], (wide_value(1.1, 0.3 + h) - wide_value(1.1, 0.3 - h)) / (2 * h), 1e-7);
  EXPECT_NEAR(g[p], (wide_value(1.1 + h, 0.3) - wide_value(1.1 - h, 0.3)) / (2 * h), 1e-7);

  tape.set_value(p, 0.4);
  tape.replay();
  EXPECT_NEAR(out.value(), wide_value(0.4, 0.3), 1e-13);
  EXPECT_NEAR(tape.grad(out)[p], (wide_value(0.4 + h, 0.3) - wide_value(0.4 - h, 0.3)) / (2 * h),
              1e-7);
}

TEST(Expressions, RepeatedPreviousNodeWithInfiniteAdjointGivesInfinityNotNaN) {
  // sqrt'(0) = inf reaches the previous node through a merged operand of two leaves.
  maya::Tape tape;
  const Var x = tape.var(0.0);
  const Var unrelated = tape.var(4.0);
  const Var previous = x * 1.0;
  const Var y = sqrt(previous) + sqrt(previous);
  const maya::Gradients g = tape.grad(y);
  EXPECT_EQ(g[previous], std::numeric_limits<double>::infinity());
  EXPECT_EQ(g[x], std::numeric_limits<double>::infinity());
  EXPECT_EQ(g[unrelated], 0.0);
}

TEST(Expressions, MethodFormsOfExpressionsMatchFreeFunctions) {
  maya::Tape tape;
  const Var x = tape.var(0.3);
  const auto e = x * 2.0;
  EXPECT_EQ(e.sin().value(), sin(e).value());
  EXPECT_EQ(e.tanh().value(), tanh(e).value());
  EXPECT_EQ(e.pow(1.5).value(), pow(e, 1.5).value());
  EXPECT_EQ(e.pow(x).value(), pow(e, x).value());
  EXPECT_EQ(e.clamp(0.0, 0.5).value(), 0.5);
  EXPECT_EQ(tape.grad(e.clamp(0.0, 0.5))[x], 0.0);
  EXPECT_THROW((void)e.clamp(1.0, 0.0), maya::ValueError);
}

}  // namespace
