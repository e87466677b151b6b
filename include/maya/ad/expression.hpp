// Unrecorded expressions of Vars. An operation on Vars computes its value and partials at once
// (with evaluate() of scalar_op.hpp) but records nothing: it returns a VarExpr, which holds its
// value and d value / d leaf for each of its Var leaves. Assigning it to a Var records it as one
// tape node, a statement, whose operands are those leaves with their partials.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "maya/ad/scalar_op.hpp"
#include "maya/ad/var.hpp"

namespace maya {

namespace ad::detail {

// Where an expression's operands were read: its tape's registry stamp and slot (checked again
// when the expression is recorded) and whether that tape checks values for NaN and Inf.
struct Origin {
  std::uint64_t stamp = 0;
  std::uint32_t slot = 0;
  bool finite_check = false;
};

// What an expression keeps: its value, d value / d leaf for each of its N Var leaves (in the
// order they appear in the source, repeats included), and its C constant operands (for replay).
// Flat and fixed-size, so an expression costs a few registers, not a tree of nodes: each
// operation scales its operands' partials by its local partials (the chain rule, from the leaves
// up) as it is evaluated.
template <std::size_t N, std::size_t C>
struct Flat {
  static constexpr std::size_t kOperands = N;
  static constexpr std::size_t kConstants = C;
  double value;
  std::array<std::uint32_t, N> index;
  std::array<double, N> partial;
  std::array<double, C> constants;
};

// out[offset + k] = in[k] * scale and the index alongside, for k < M: written out element by
// element (not as a loop, which compilers turn into a call to memcpy) so that an expression stays
// in registers.
template <std::size_t Offset, std::size_t N, std::size_t C, std::size_t M, std::size_t D>
inline void scale_into(Flat<N, C>& out, const Flat<M, D>& in, double scale) noexcept {
  [&]<std::size_t... k>(std::index_sequence<k...>) {
    ((out.index[Offset + k] = in.index[k], out.partial[Offset + k] = in.partial[k] * scale), ...);
  }
  (std::make_index_sequence<M>{});
}
template <std::size_t Offset, std::size_t N, std::size_t C, std::size_t M, std::size_t D>
inline void constants_into(Flat<N, C>& out, const Flat<M, D>& in) noexcept {
  [&]<std::size_t... k>(std::index_sequence<k...>) {
    ((out.constants[Offset + k] = in.constants[k]), ...);
  }
  (std::make_index_sequence<D>{});
}

// Every node type is a Flat plus its shape, which says how to make it again from new leaf values
// and the stored constants (rebuild(), for Tape::replay) through the same constructors, so a
// replayed node computes exactly what a recorded one did.

// A Var operand: d value / d itself = 1.
struct Leaf : Flat<1, 0> {
  Leaf(std::uint32_t node, double leaf_value) noexcept {
    value = leaf_value;
    index[0] = node;
    partial[0] = 1.0;
  }
  template <class Source>
  [[nodiscard]] static Leaf rebuild(Source& source) {
    return source.leaf();
  }
};

template <ScalarOp Op, class Arg>
struct Unary : Flat<Arg::kOperands, Arg::kConstants> {
  static constexpr ScalarOp kOp = Op;

  explicit Unary(const Arg& a) noexcept {
    const LocalPartials local = evaluate(Op, a.value, 0.0);
    this->value = local.value;
    scale_into<0>(*this, a, local.d_lhs);
    constants_into<0>(*this, a);
  }
  template <class Source>
  [[nodiscard]] static Unary rebuild(Source& source) {
    const Arg a = Arg::rebuild(source);
    const Unary node(a);
    source.check(Op, node.value, a.value, 0.0);
    return node;
  }
};

template <ScalarOp Op, class Lhs, class Rhs>
struct Binary : Flat<Lhs::kOperands + Rhs::kOperands, Lhs::kConstants + Rhs::kConstants> {
  static constexpr ScalarOp kOp = Op;

  Binary(const Lhs& a, const Rhs& b) noexcept {
    const LocalPartials local = evaluate(Op, a.value, b.value);
    this->value = local.value;
    scale_into<0>(*this, a, local.d_lhs);
    scale_into<Lhs::kOperands>(*this, b, local.d_rhs);
    constants_into<0>(*this, a);
    constants_into<Lhs::kConstants>(*this, b);
  }
  template <class Source>
  [[nodiscard]] static Binary rebuild(Source& source) {
    const Lhs a = Lhs::rebuild(source);  // left first: the order the leaves were stored in
    const Rhs b = Rhs::rebuild(source);
    const Binary node(a, b);
    source.check(Op, node.value, a.value, b.value);
    return node;
  }
};

// op(arg, constant); ops whose constant comes first (c - x, c / x, c^x, atan2(c, x)) are the
// "R" ops of ScalarOp, still with the constant in the second slot of evaluate().
template <ScalarOp Op, class Arg>
struct WithConstant : Flat<Arg::kOperands, Arg::kConstants + 1> {
  static constexpr ScalarOp kOp = Op;

  WithConstant(const Arg& a, double c) noexcept {
    const LocalPartials local = evaluate(Op, a.value, c);
    this->value = local.value;
    scale_into<0>(*this, a, local.d_lhs);
    constants_into<0>(*this, a);
    this->constants[Arg::kConstants] = c;
  }
  template <class Source>
  [[nodiscard]] static WithConstant rebuild(Source& source) {
    const Arg a = Arg::rebuild(source);
    const double c = source.constant();
    const WithConstant node(a, c);
    source.check(Op, node.value, a.value, c);
    return node;
  }
};

template <class T>
struct IsVarExpr : std::false_type {};
template <class Node>
struct IsVarExpr<VarExpr<Node>> : std::true_type {};

// What the operators of var_math.hpp accept as a differentiable operand.
template <class T>
concept Operand = std::is_same_v<T, Var> || IsVarExpr<T>::value;

}  // namespace ad::detail

// The result of an operation on Vars, not yet on the tape. It holds copies of what it needs
// (its value, its leaves' node indices and partials, its constants), never references, so `auto e = x * y + 1.0;` is safe to keep:
// e holds the values of x and y at the time it was written. Converting it to a Var (`Var z = e;`,
// passing it where a Var is expected, as to Tape::grad) records it as one node; each conversion
// records a new node. To index Gradients or ask for idx(), make it a Var first.
template <class Node>
class VarExpr {
 public:
  using NodeType = Node;

  // The expression op(children...), Node being that op's node type.
  template <class... Children>
  explicit VarExpr(ad::detail::Origin origin, const Children&... children) noexcept
      : node_(children...), origin_(origin) {}

  [[nodiscard]] double value() const noexcept { return node_.value; }
  // Records the expression as one node of its tape; throws maya::TapeError if that tape was
  // cleared or destroyed after the operands were read.
  operator Var() const;  // NOLINT(google-explicit-constructor): `Var y = x * x;` is the API

  [[nodiscard]] const Node& node() const noexcept { return node_; }
  [[nodiscard]] ad::detail::Origin origin() const noexcept { return origin_; }

  // Method forms, as on Var: (x * x).sin().exp().
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kSin, Node>> sin() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kCos, Node>> cos() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kTan, Node>> tan() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kAsin, Node>> asin() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kAcos, Node>> acos() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kAtan, Node>> atan() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kExp, Node>> exp() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kLog, Node>> log() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kLog1p, Node>> log1p() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kSqrt, Node>> sqrt() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kCbrt, Node>> cbrt() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kAbs, Node>> abs() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kTanh, Node>> tanh() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kSigmoid, Node>> sigmoid() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kRelu, Node>> relu() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kSoftplus, Node>> softplus() const;
  [[nodiscard]] VarExpr<ad::detail::Unary<ScalarOp::kSquare, Node>> square() const;
  [[nodiscard]] VarExpr<ad::detail::WithConstant<ScalarOp::kPowConst, Node>> pow(
      double exponent) const;
  template <ad::detail::Operand E>
  [[nodiscard]] auto pow(const E& exponent) const;
  [[nodiscard]] VarExpr<
      ad::detail::WithConstant<ScalarOp::kMin, ad::detail::WithConstant<ScalarOp::kMax, Node>>>
  clamp(double lo, double hi) const;

 private:
  Node node_;
  ad::detail::Origin origin_;
};

}  // namespace maya
