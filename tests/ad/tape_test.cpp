// Semantics of the scalar tape beyond single operations: repeated sweeps, clear and reuse,
// record-once-replay-many, and the opt-in finite check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <maya/maya.hpp>
#include <string>
#include <vector>

namespace {

using maya::Var;

// A small model with shared subexpressions and constants on both sides: exercises fan-out
// (adjoint accumulation) and every kind of node a replay must re-evaluate.
Var model(Var x, Var y) {
  const Var s = sin(x * y) + 0.5 * x;
  return s * exp(-0.3 * y) / (1.0 + square(s)) - atan2(y, 2.0) + pow(2.0, x) * pow(y, 2.0);
}

double model_dx(double x, double y) {
  const double h = 1e-6;
  const auto f = [](double a, double b) {
    const double s = std::sin(a * b) + 0.5 * a;
    return s * std::exp(-0.3 * b) / (1.0 + s * s) - std::atan2(b, 2.0) + std::pow(2.0, a) * b * b;
  };
  return (f(x + h, y) - f(x - h, y)) / (2.0 * h);
}

TEST(Tape, SizeCountsEveryRecordedNode) {
  maya::Tape tape;
  EXPECT_EQ(tape.size(), 0u);
  const Var x = tape.var(2.0);
  const Var y = tape.var(3.0);
  EXPECT_EQ(tape.size(), 2u);
  // One node per assignment to a Var, however many operations the expression has.
  const Var z = sin(x * y) + 1.0;
  EXPECT_EQ(tape.size(), 3u);
  EXPECT_EQ(z.idx(), 2u);
  Var w = z;
  w += x;
  EXPECT_EQ(tape.size(), 4u);
  EXPECT_EQ(w.idx(), 3u);
}

TEST(Tape, GradCanBeCalledSeveralTimesWithTheSameResult) {
  maya::Tape tape;
  const Var x = tape.var(0.8);
  const Var y = tape.var(-1.4);
  const Var out = model(x, y);
  const maya::Gradients first = tape.grad(out);
  const maya::Gradients second = tape.grad(out);
  maya::Gradients reused;
  tape.grad(out, reused);
  tape.grad(out, reused);
  EXPECT_EQ(first.values(), second.values());
  EXPECT_EQ(first.values(), reused.values());
  EXPECT_NEAR(first[x], model_dx(0.8, -1.4), 1e-7 * std::max(1.0, std::abs(first[x])));
}

TEST(Tape, GradOfDifferentOutputsOnOneTapeAreIndependent) {
  maya::Tape tape;
  const Var x = tape.var(1.5);
  const Var sin_x = sin(x);
  const Var cube = x * x * x;
  EXPECT_DOUBLE_EQ(tape.grad(sin_x)[x], std::cos(1.5));
  EXPECT_DOUBLE_EQ(tape.grad(cube)[x], 3.0 * 1.5 * 1.5);
  EXPECT_DOUBLE_EQ(tape.grad(sin_x)[x], std::cos(1.5));
}

TEST(Tape, GradientsCoverEveryNodeAndAreZeroAfterTheOutput) {
  maya::Tape tape;
  const Var x = tape.var(0.5);
  const Var y = exp(x);
  const Var later = y * 3.0;
  const maya::Gradients g = tape.grad(y);
  EXPECT_EQ(g.size(), tape.size());
  EXPECT_DOUBLE_EQ(g[y], 1.0);
  EXPECT_DOUBLE_EQ(g[x], std::exp(0.5));
  EXPECT_EQ(g[later], 0.0);
}

TEST(Tape, GradOfAnInputIsOneForItselfOnly) {
  maya::Tape tape;
  const Var x = tape.var(0.5);
  const Var y = tape.var(0.7);
  const maya::Gradients g = tape.grad(x);
  EXPECT_EQ(g[x], 1.0);
  EXPECT_EQ(g[y], 0.0);
}

TEST(Tape, InfiniteAdjointDoesNotTurnIntoNaN) {
  // sqrt'(0) = +inf flows to x; the leaf's self-parent edge (partial 0) must not make it 0 * inf.
  maya::Tape tape;
  const Var x = tape.var(0.0);
  const Var y = tape.var(2.0);
  const maya::Gradients g = tape.grad(sqrt(x) + y);
  EXPECT_EQ(g[x], std::numeric_limits<double>::infinity());
  EXPECT_EQ(g[y], 1.0);
}

TEST(Tape, InfiniteAdjointDoesNotLeakIntoUnrelatedNodes) {
  // The sweep passes what a node sends to the node recorded just before it in a register; a node
  // that does not feed its predecessor must send it 0, not 0 * inf.
  maya::Tape tape;
  const Var x = tape.var(0.0);
  const Var unrelated = tape.var(5.0);
  const Var scaled = x * 1.0;
  const maya::Gradients g = tape.grad(sqrt(scaled));
  EXPECT_EQ(g[scaled], std::numeric_limits<double>::infinity());
  EXPECT_EQ(g[unrelated], 0.0);
  EXPECT_EQ(g[x], std::numeric_limits<double>::infinity());
}

TEST(Tape, LargeTapesGrowAcrossAllocationSizesAndStayCorrect) {
  // 140k nodes: the node arrays grow from ordinary heap blocks to their own huge-page mappings.
  constexpr int kSteps = 140000;
  constexpr double kFactor = 1.000001;
  maya::Tape tape;
  for (int reuse = 0; reuse < 2; ++reuse) {
    tape.clear();
    const Var x = tape.var(2.0);
    Var y = x;
    for (int i = 0; i < kSteps; ++i) y = y * kFactor;
    EXPECT_EQ(tape.size(), kSteps + 1u);
    const double expected = std::pow(kFactor, kSteps);
    EXPECT_NEAR(y.value(), 2.0 * expected, 1e-9 * expected);
    EXPECT_NEAR(tape.grad(y)[x], expected, 1e-9 * expected);
  }
}

TEST(Tape, ClearResetsSizeAndTheTapeRecordsAgain) {
  maya::Tape tape;
  for (int iteration = 0; iteration < 3; ++iteration) {
    const double at = 0.3 + iteration;
    const Var x = tape.var(at);
    const Var y = sin(x) * x;
    EXPECT_EQ(tape.size(), 2u);
    EXPECT_DOUBLE_EQ(tape.grad(y)[x], std::cos(at) * at + std::sin(at));
    tape.clear();
    EXPECT_EQ(tape.size(), 0u);
    EXPECT_FALSE(x.valid());
    EXPECT_THROW((void)x.value(), maya::TapeError);
    EXPECT_THROW((void)sin(y), maya::TapeError);
  }
}

TEST(Tape, ReserveDoesNotRecordNodes) {
  maya::Tape tape;
  tape.reserve(5000);
  EXPECT_EQ(tape.size(), 0u);
  Var y = tape.var(1.0);
  const Var x = y;
  for (int i = 0; i < 4000; ++i) y = y * 1.0001;
  EXPECT_EQ(tape.size(), 4001u);
  EXPECT_NEAR(tape.grad(y)[x], std::pow(1.0001, 4000), 1e-10);
}

TEST(Tape, ReplayAfterSetValueMatchesAFreshRecording) {
  maya::Tape tape;
  const Var x = tape.var(0.8);
  const Var y = tape.var(-1.4);
  const Var out = model(x, y);
  const std::size_t nodes = tape.size();

  tape.set_value(x, 1.1);
  tape.set_value(y, 0.6);
  tape.replay();
  EXPECT_EQ(tape.size(), nodes);
  const maya::Gradients g = tape.grad(out);

  maya::Tape fresh;
  const Var fresh_x = fresh.var(1.1);
  const Var fresh_y = fresh.var(0.6);
  const Var fresh_out = model(fresh_x, fresh_y);
  const maya::Gradients fresh_g = fresh.grad(fresh_out);

  EXPECT_EQ(out.value(), fresh_out.value());
  EXPECT_EQ(g.values(), fresh_g.values());
  EXPECT_EQ(x.value(), 1.1);
}

TEST(Tape, ReplayManyTimesFollowsTheInputs) {
  maya::Tape tape;
  const Var x = tape.var(0.0);
  const Var y = tape.var(0.0);
  const Var out = model(x, y);
  for (const double at : {-0.7, 0.2, 1.9}) {
    tape.set_value(x, at);
    tape.set_value(y, 0.5 * at);
    tape.replay();
    const double dx = tape.grad(out)[x];
    EXPECT_NEAR(dx, model_dx(at, 0.5 * at), 1e-7 * std::max(1.0, std::abs(dx))) << "at " << at;
  }
}

TEST(Tape, SetValueWithoutReplayLeavesDependentNodesUnchanged) {
  maya::Tape tape;
  const Var x = tape.var(2.0);
  const Var y = x * x;
  tape.set_value(x, 3.0);
  EXPECT_EQ(x.value(), 3.0);
  EXPECT_EQ(y.value(), 4.0);
  tape.replay();
  EXPECT_EQ(y.value(), 9.0);
}

TEST(Tape, FiniteCheckIsOffByDefault) {
  maya::Tape tape;
  EXPECT_FALSE(tape.finite_check());
  const Var x = tape.var(-1.0);
  EXPECT_TRUE(std::isnan(log(x).value()));
  EXPECT_TRUE(std::isnan(sqrt(x).value()));
  EXPECT_TRUE(std::isinf((1.0 / (x + 1.0)).value()));
}

// The message of the NonFiniteError thrown by `op`, or "" when none is thrown.
template <class Op>
std::string non_finite_message(Op op) {
  try {
    op();
  } catch (const maya::NonFiniteError& error) {
    return error.what();
  }
  return "";
}

TEST(Tape, FiniteCheckThrowsNamingTheOperation) {
  maya::Tape tape;
  tape.set_finite_check(true);
  EXPECT_TRUE(tape.finite_check());
  const Var minus_one = tape.var(-1.0);
  const Var zero = tape.var(0.0);
  const std::size_t nodes = tape.size();

  const std::string log_message = non_finite_message([&] { (void)log(minus_one); });
  EXPECT_NE(log_message.find("log"), std::string::npos) << log_message;
  const std::string sqrt_message = non_finite_message([&] { (void)sqrt(minus_one); });
  EXPECT_NE(sqrt_message.find("sqrt"), std::string::npos) << sqrt_message;
  const std::string div_message = non_finite_message([&] { (void)(minus_one / zero); });
  EXPECT_NE(div_message.find("div"), std::string::npos) << div_message;
  const std::string exp_message = non_finite_message([&] { (void)exp(minus_one * -1000.0); });
  EXPECT_NE(exp_message.find("exp"), std::string::npos) << exp_message;

  EXPECT_EQ(tape.size(), nodes) << "an expression that fails the check records nothing";
  EXPECT_THROW((void)log(zero), maya::NonFiniteError);
  EXPECT_NO_THROW((void)log(-minus_one));
}

TEST(Tape, FiniteCheckAllowsInfiniteDerivatives) {
  maya::Tape tape;
  tape.set_finite_check(true);
  const Var x = tape.var(0.0);
  const Var y = sqrt(x);
  EXPECT_EQ(tape.grad(y)[x], std::numeric_limits<double>::infinity());
}

TEST(Tape, FiniteCheckAppliesToReplayAndNamesTheNode) {
  maya::Tape tape;
  tape.set_finite_check(true);
  const Var x = tape.var(2.0);
  const Var shifted = x + 1.0;
  const Var logged = log(shifted);
  EXPECT_EQ(logged.idx(), 2u);
  tape.set_value(x, -3.0);
  const std::string message = non_finite_message([&] { tape.replay(); });
  EXPECT_NE(message.find("log"), std::string::npos) << message;
  EXPECT_NE(message.find("node 2"), std::string::npos) << message;
}

TEST(Tape, SeedExampleValueIsTheClosedForm) {
  maya::Tape tape;
  const Var x = tape.var(1.3);
  const Var y = exp(sin(square(x)));
  EXPECT_NEAR(tape.grad(y)[x], -0.834538844626, 1e-12);
}

}  // namespace
