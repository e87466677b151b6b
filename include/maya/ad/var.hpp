// Var: a handle to one value recorded on a scalar Tape. Trivially copyable (slot, stamp, index);
// the stamp lets every operation detect a Var whose tape was cleared or destroyed. Operations on
// Vars return unrecorded expressions (maya/ad/expression.hpp) that become one tape node when
// assigned to a Var.
#pragma once

#include <cstddef>
#include <cstdint>

#include "maya/ad/scalar_op.hpp"

namespace maya {

class Tape;
template <class Node>
class VarExpr;

namespace ad::detail {
struct Leaf;
template <ScalarOp Op, class Arg>
struct Unary;
template <ScalarOp Op, class Lhs, class Rhs>
struct Binary;
template <ScalarOp Op, class Arg>
struct WithConstant;
}  // namespace ad::detail

class Var {
 public:
  // The expression types the method forms return (x.sin() is sin(x)).
  template <ScalarOp Op>
  using UnaryExpr = VarExpr<ad::detail::Unary<Op, ad::detail::Leaf>>;
  using PowExpr = VarExpr<ad::detail::Binary<ScalarOp::kPow, ad::detail::Leaf, ad::detail::Leaf>>;
  using PowConstExpr = VarExpr<ad::detail::WithConstant<ScalarOp::kPowConst, ad::detail::Leaf>>;
  using ClampExpr =
      VarExpr<ad::detail::WithConstant<ScalarOp::kMin,
                                       ad::detail::WithConstant<ScalarOp::kMax, ad::detail::Leaf>>>;

  Var() = default;  // an unbound handle: every use throws maya::TapeError

  [[nodiscard]] double value() const;
  [[nodiscard]] std::size_t idx() const noexcept { return index_; }
  [[nodiscard]] bool valid() const noexcept;  // bound to a live, uncleared tape

  // Method forms of the free functions in var_math.hpp, so expressions chain as in
  // (x * x).sin().exp().
  [[nodiscard]] UnaryExpr<ScalarOp::kSin> sin() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kCos> cos() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kTan> tan() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kAsin> asin() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kAcos> acos() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kAtan> atan() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kExp> exp() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kLog> log() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kLog1p> log1p() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kSqrt> sqrt() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kCbrt> cbrt() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kAbs> abs() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kTanh> tanh() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kSigmoid> sigmoid() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kRelu> relu() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kSoftplus> softplus() const;
  [[nodiscard]] UnaryExpr<ScalarOp::kSquare> square() const;
  [[nodiscard]] PowConstExpr pow(double exponent) const;
  [[nodiscard]] PowExpr pow(Var exponent) const;
  [[nodiscard]] ClampExpr clamp(double lo, double hi) const;

  // Each records one node, y op= e being y = y op e.
  Var& operator+=(Var other);
  Var& operator-=(Var other);
  Var& operator*=(Var other);
  Var& operator/=(Var other);
  Var& operator+=(double other);
  Var& operator-=(double other);
  Var& operator*=(double other);
  Var& operator/=(double other);
  template <class Node>
  Var& operator+=(const VarExpr<Node>& other);
  template <class Node>
  Var& operator-=(const VarExpr<Node>& other);
  template <class Node>
  Var& operator*=(const VarExpr<Node>& other);
  template <class Node>
  Var& operator/=(const VarExpr<Node>& other);

 private:
  friend class Tape;
  friend class Gradients;
  friend struct VarAccess;
  Var(std::uint32_t slot, std::uint32_t index, std::uint64_t stamp) noexcept
      : slot_(slot), index_(index), stamp_(stamp) {}

  std::uint32_t slot_ = 0;
  std::uint32_t index_ = 0;
  std::uint64_t stamp_ = 0;
};

}  // namespace maya
