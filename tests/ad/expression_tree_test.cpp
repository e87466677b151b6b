// Seeded property tests: random expression trees over three inputs, evaluated once on doubles and
// once on the tape. Operations are composed so that every subexpression stays smooth and bounded
// (denominators kept away from zero, exp and pow of bounded arguments), so central differences
// are accurate to about 1e-9 and a 1e-7 mismatch means a wrong derivative, not a bad check.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <maya/maya.hpp>
#include <random>
#include <type_traits>
#include <vector>

namespace {

using maya::Var;

constexpr int kTrees = 200;
constexpr int kDepth = 6;
constexpr int kInputs = 3;
constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

// The double twins of the Var functions that <cmath> lacks.
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus(double x) { return std::log1p(std::exp(x)); }
double square(double x) { return x * x; }

enum class Kind : std::uint8_t {
  kInput,
  kConstant,
  // unary
  kNeg,
  kSin,
  kCos,
  kTanh,
  kAtan,
  kSigmoid,
  kSoftplus,
  kExpOfSin,       // exp(sin x)
  kLogOfOnePlus,   // log(1 + x^2)
  kLog1pOfSquare,  // log1p(x^2)
  kSqrtOfOnePlus,  // sqrt(1 + x^2)
  kCbrtShifted,    // cbrt(2 + sin x)
  kAsinScaled,     // asin(0.5 tanh x)
  kAcosScaled,     // acos(0.5 sigmoid x)
  kTanScaled,      // tan(0.5 sin x)
  kSquare,
  kPowConst,  // (1.5 + cos x)^1.7
  // binary
  kAdd,
  kSub,
  kMul,
  kDiv,    // a / (1.5 + sin b)
  kPow,    // (1.2 + sin a)^(cos b)
  kAtan2,  // atan2(a, 2 + cos b)
  kHypot,  // hypot(a, 1 + b^2)
  kMin,
  kMax,
};

constexpr Kind kFirstUnary = Kind::kNeg;
constexpr Kind kLastUnary = Kind::kPowConst;
constexpr Kind kFirstBinary = Kind::kAdd;
constexpr Kind kLastBinary = Kind::kMax;

struct Node {
  Kind kind;
  int lhs = -1;
  int rhs = -1;
  int input = 0;
  double constant = 0.0;
};

// Nodes in post-order; the last one is the root. A constant is only ever one operand of a binary
// node, so the tape sees every Var-double and double-Var overload.
class Tree {
 public:
  explicit Tree(std::mt19937_64& rng) { root_ = grow(rng, kDepth, false); }

  template <class T>
  [[nodiscard]] T evaluate(const std::array<T, kInputs>& inputs) const {
    return evaluate_node(root_, inputs);
  }

 private:
  int grow(std::mt19937_64& rng, int depth, bool constant_allowed) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Node node{};
    if (depth == 0 || (depth < kDepth && unit(rng) < 0.2)) {
      if (constant_allowed && unit(rng) < 0.3) {
        node.kind = Kind::kConstant;
        node.constant = std::uniform_real_distribution<double>(-1.5, 1.5)(rng);
      } else {
        node.kind = Kind::kInput;
        node.input = std::uniform_int_distribution<int>(0, kInputs - 1)(rng);
      }
    } else if (unit(rng) < 0.45) {
      node.kind = pick(rng, kFirstUnary, kLastUnary);
      node.lhs = grow(rng, depth - 1, false);
    } else {
      node.kind = pick(rng, kFirstBinary, kLastBinary);
      node.lhs = grow(rng, depth - 1, true);
      const bool lhs_constant = nodes_[node.lhs].kind == Kind::kConstant;
      node.rhs = grow(rng, depth - 1, !lhs_constant);
    }
    nodes_.push_back(node);
    return static_cast<int>(nodes_.size()) - 1;
  }

  static Kind pick(std::mt19937_64& rng, Kind first, Kind last) {
    std::uniform_int_distribution<int> index(static_cast<int>(first), static_cast<int>(last));
    return static_cast<Kind>(index(rng));
  }

  template <class T>
  T evaluate_node(int index, const std::array<T, kInputs>& inputs) const {
    const Node& node = nodes_[index];
    if (node.kind == Kind::kInput) return inputs[node.input];
    if (node.rhs < 0) return unary(node.kind, evaluate_node(node.lhs, inputs));
    const Node& lhs = nodes_[node.lhs];
    const Node& rhs = nodes_[node.rhs];
    if (lhs.kind == Kind::kConstant) {
      return binary(node.kind, lhs.constant, evaluate_node(node.rhs, inputs));
    }
    if (rhs.kind == Kind::kConstant) {
      return binary(node.kind, evaluate_node(node.lhs, inputs), rhs.constant);
    }
    return binary(node.kind, evaluate_node(node.lhs, inputs), evaluate_node(node.rhs, inputs));
  }

  // Unqualified calls: std:: for doubles, maya:: (by argument-dependent lookup) for Vars.
  template <class T>
  static T unary(Kind kind, T x) {
    using std::acos, std::asin, std::atan, std::cbrt, std::cos, std::exp, std::log, std::log1p;
    using std::pow, std::sin, std::sqrt, std::tan, std::tanh;
    switch (kind) {
      case Kind::kNeg: return -x;
      case Kind::kSin: return sin(x);
      case Kind::kCos: return cos(x);
      case Kind::kTanh: return tanh(x);
      case Kind::kAtan: return atan(x);
      case Kind::kSigmoid: return sigmoid(x);
      case Kind::kSoftplus: return softplus(x);
      case Kind::kExpOfSin: return exp(sin(x));
      case Kind::kLogOfOnePlus: return log(1.0 + square(x));
      case Kind::kLog1pOfSquare: return log1p(square(x));
      case Kind::kSqrtOfOnePlus: return sqrt(1.0 + x * x);
      case Kind::kCbrtShifted: return cbrt(2.0 + sin(x));
      case Kind::kAsinScaled: return asin(0.5 * tanh(x));
      case Kind::kAcosScaled: return acos(sigmoid(x) * 0.5);
      case Kind::kTanScaled: return tan(sin(x) / 2.0);
      case Kind::kSquare: return square(x);
      case Kind::kPowConst: return pow(1.5 + cos(x), 1.7);
      default: break;
    }
    ADD_FAILURE() << "not a unary kind";
    return x;
  }

  template <class A, class B>
  using Result =
      std::conditional_t<std::is_same_v<A, double> && std::is_same_v<B, double>, double, Var>;

  template <class A, class B>
  static Result<A, B> binary(Kind kind, A a, B b) {
    using std::atan2, std::cos, std::hypot, std::max, std::min, std::pow, std::sin;
    switch (kind) {
      case Kind::kAdd: return a + b;
      case Kind::kSub: return a - b;
      case Kind::kMul: return a * b;
      case Kind::kDiv: return a / (1.5 + sin(b));
      case Kind::kPow: return pow(1.2 + sin(a), cos(b));
      case Kind::kAtan2: return atan2(a, 2.0 + cos(b));
      case Kind::kHypot: return hypot(a, 1.0 + square(b));
      case Kind::kMin: return min(a, b);
      case Kind::kMax: return max(a, b);
      default: break;
    }
    ADD_FAILURE() << "not a binary kind";
    return a + b;
  }

  std::vector<Node> nodes_;
  int root_ = -1;
};

std::array<double, kInputs> random_point(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> coordinate(-1.0, 1.0);
  return {coordinate(rng), coordinate(rng), coordinate(rng)};
}

TEST(ExpressionTrees, RandomTreesMatchCentralDifferences) {
  std::mt19937_64 rng(20261127);
  maya::Tape tape;
  for (int trial = 0; trial < kTrees; ++trial) {
    const Tree tree(rng);
    const std::array<double, kInputs> point = random_point(rng);
    tape.clear();
    const std::array<Var, kInputs> inputs = {tape.var(point[0]), tape.var(point[1]),
                                             tape.var(point[2])};
    const Var output = tree.evaluate(inputs);
    const double primal = tree.evaluate(point);
    ASSERT_NEAR(output.value(), primal, 1e-12 * std::max(1.0, std::abs(primal)))
        << "tree " << trial;
    const maya::Gradients g = tape.grad(output);
    for (int i = 0; i < kInputs; ++i) {
      std::array<double, kInputs> plus = point;
      std::array<double, kInputs> minus = point;
      plus[i] += kStep;
      minus[i] -= kStep;
      const double central = (tree.evaluate(plus) - tree.evaluate(minus)) / (2.0 * kStep);
      EXPECT_LE(std::abs(g[inputs[i]] - central), kTolerance * std::max(1.0, std::abs(central)))
          << "tree " << trial << ", input " << i << ": tape " << g[inputs[i]]
          << ", central difference " << central;
    }
  }
}

TEST(ExpressionTrees, ReplayOnNewInputsMatchesAFreshRecording) {
  std::mt19937_64 rng(7);
  maya::Tape replayed;
  maya::Tape fresh;
  for (int trial = 0; trial < kTrees; ++trial) {
    const Tree tree(rng);
    const std::array<double, kInputs> first = random_point(rng);
    const std::array<double, kInputs> second = random_point(rng);

    replayed.clear();
    const std::array<Var, kInputs> inputs = {replayed.var(first[0]), replayed.var(first[1]),
                                             replayed.var(first[2])};
    const Var output = tree.evaluate(inputs);
    for (int i = 0; i < kInputs; ++i) replayed.set_value(inputs[i], second[i]);
    replayed.replay();

    fresh.clear();
    const std::array<Var, kInputs> fresh_inputs = {fresh.var(second[0]), fresh.var(second[1]),
                                                   fresh.var(second[2])};
    const Var fresh_output = tree.evaluate(fresh_inputs);

    ASSERT_EQ(replayed.size(), fresh.size());
    EXPECT_EQ(output.value(), fresh_output.value()) << "tree " << trial;
    const maya::Gradients g = replayed.grad(output);
    const maya::Gradients fresh_g = fresh.grad(fresh_output);
    for (int i = 0; i < kInputs; ++i) {
      EXPECT_EQ(g[inputs[i]], fresh_g[fresh_inputs[i]]) << "tree " << trial << ", input " << i;
    }
  }
}

}  // namespace
