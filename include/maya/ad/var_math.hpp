// Arithmetic, comparisons and elementary functions on Var. Free functions live in namespace maya
// so argument-dependent lookup finds them: exp(sin(x * x)) and maya::exp(...) both work. Every
// two-argument function also takes a double in either position. Each operation returns a
// VarExpr (maya/ad/expression.hpp): evaluated at once, recorded as one node with the rest of its
// expression when it becomes a Var.
#pragma once

#include <cmath>
#include <cstdint>

#include "maya/ad/expression.hpp"
#include "maya/ad/tape.hpp"
#include "maya/core/tape_registry.hpp"

namespace maya {

struct VarAccess {
  [[nodiscard]] static std::uint32_t index(Var v) noexcept { return v.index_; }
  [[nodiscard]] static Tape& tape(Var v, const char* operation) {
    if (core::detail::TapeRegistry::is_current(v.slot_, v.stamp_)) [[likely]]
      return *static_cast<Tape*>(core::detail::TapeRegistry::tape(v.slot_));
    throw_unusable(v, operation);
  }
  // `v` as an expression operand: its index and the value read from its (checked) tape.
  [[nodiscard]] static VarExpr<ad::detail::Leaf> leaf(Var v, const char* operation) {
    const Tape& t = tape(v, operation);
    return VarExpr<ad::detail::Leaf>(ad::detail::Origin{v.stamp_, v.slot_, t.finite_check_},
                                     ad::detail::Leaf(v.index_, t.values_[v.index_]));
  }
  template <class Node>
  [[nodiscard]] static Var record(const VarExpr<Node>& e) {
    const ad::detail::Origin origin = e.origin();
    if (!core::detail::TapeRegistry::is_current(origin.slot, origin.stamp)) [[unlikely]] {
      throw_stale_expression(origin);
    }
    return static_cast<Tape*>(core::detail::TapeRegistry::tape(origin.slot))->record(e.node());
  }
  [[noreturn]] static void throw_unusable(Var v, const char* operation);
  // Operands of one operation from two tapes (or tape generations).
  [[noreturn]] static void throw_mixed(ad::detail::Origin a, ad::detail::Origin b,
                                       const char* operation);
  [[noreturn]] static void throw_stale_expression(ad::detail::Origin origin);
  // The finite check of an operation evaluated outside replay(): names the node it would be.
  [[noreturn]] static void throw_non_finite(ad::detail::Origin origin, ScalarOp op, double a,
                                            double b);
};

namespace ad::detail {

[[nodiscard]] inline VarExpr<Leaf> as_expr(Var v, const char* operation) {
  return VarAccess::leaf(v, operation);
}
template <class Node>
[[nodiscard]] inline const VarExpr<Node>& as_expr(const VarExpr<Node>& e,
                                                  const char* /*operation*/) noexcept {
  return e;
}
template <class T>
using ExprNode = typename std::remove_cvref_t<T>::NodeType;

inline void check_finite(const Origin& origin, ScalarOp op, double value, double a, double b) {
  if (origin.finite_check && !std::isfinite(value)) [[unlikely]] {
    VarAccess::throw_non_finite(origin, op, a, b);
  }
}

template <ScalarOp Op, Operand A>
[[nodiscard]] inline auto unary(const A& a, const char* name) {
  const auto& x = as_expr(a, name);
  VarExpr<Unary<Op, ExprNode<decltype(x)>>> result(x.origin(), x.node());
  check_finite(x.origin(), Op, result.value(), x.value(), 0.0);
  return result;
}

template <ScalarOp Op, Operand A, Operand B>
[[nodiscard]] inline auto binary(const A& a, const B& b, const char* name) {
  const auto& x = as_expr(a, name);
  const auto& y = as_expr(b, name);
  const Origin origin = x.origin();
  if (origin.slot != y.origin().slot || origin.stamp != y.origin().stamp) [[unlikely]] {
    VarAccess::throw_mixed(origin, y.origin(), name);
  }
  VarExpr<Binary<Op, ExprNode<decltype(x)>, ExprNode<decltype(y)>>> result(origin, x.node(),
                                                                           y.node());
  check_finite(origin, Op, result.value(), x.value(), y.value());
  return result;
}

template <ScalarOp Op, Operand A>
[[nodiscard]] inline auto with_constant(const A& a, double c, const char* name) {
  const auto& x = as_expr(a, name);
  VarExpr<WithConstant<Op, ExprNode<decltype(x)>>> result(x.origin(), x.node(), c);
  check_finite(x.origin(), Op, result.value(), x.value(), c);
  return result;
}

[[nodiscard]] inline double value_of(Var v) { return v.value(); }
template <class Node>
[[nodiscard]] inline double value_of(const VarExpr<Node>& e) noexcept {
  return e.value();
}

[[noreturn]] void throw_bad_clamp(double lo, double hi);

}  // namespace ad::detail

template <class Node>
VarExpr<Node>::operator Var() const {
  return VarAccess::record(*this);
}

// Arithmetic. Operands are Vars or expressions; at least one side of each operator is one.
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline auto operator+(const A& a, const B& b) {
  return ad::detail::binary<ScalarOp::kAdd>(a, b, "+");
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline auto operator-(const A& a, const B& b) {
  return ad::detail::binary<ScalarOp::kSub>(a, b, "-");
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline auto operator*(const A& a, const B& b) {
  return ad::detail::binary<ScalarOp::kMul>(a, b, "*");
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline auto operator/(const A& a, const B& b) {
  return ad::detail::binary<ScalarOp::kDiv>(a, b, "/");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator+(const A& a, double b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(a, b, "+");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator+(double a, const A& b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(b, a, "+");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator-(const A& a, double b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(a, -b, "-");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator-(double a, const A& b) {
  return ad::detail::with_constant<ScalarOp::kRSub>(b, a, "-");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator*(const A& a, double b) {
  return ad::detail::with_constant<ScalarOp::kMul>(a, b, "*");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator*(double a, const A& b) {
  return ad::detail::with_constant<ScalarOp::kMul>(b, a, "*");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator/(const A& a, double b) {
  return ad::detail::with_constant<ScalarOp::kDiv>(a, b, "/");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator/(double a, const A& b) {
  return ad::detail::with_constant<ScalarOp::kRDiv>(b, a, "/");
}
template <ad::detail::Operand A>
[[nodiscard]] inline auto operator-(const A& a) {
  return ad::detail::unary<ScalarOp::kNeg>(a, "unary -");
}
[[nodiscard]] inline Var operator+(Var a) { return a; }
template <class Node>
[[nodiscard]] inline VarExpr<Node> operator+(const VarExpr<Node>& a) {
  return a;
}

inline Var& Var::operator+=(Var other) { return *this = *this + other; }
inline Var& Var::operator-=(Var other) { return *this = *this - other; }
inline Var& Var::operator*=(Var other) { return *this = *this * other; }
inline Var& Var::operator/=(Var other) { return *this = *this / other; }
inline Var& Var::operator+=(double other) { return *this = *this + other; }
inline Var& Var::operator-=(double other) { return *this = *this - other; }
inline Var& Var::operator*=(double other) { return *this = *this * other; }
inline Var& Var::operator/=(double other) { return *this = *this / other; }
template <class Node>
Var& Var::operator+=(const VarExpr<Node>& other) {
  return *this = *this + other;
}
template <class Node>
Var& Var::operator-=(const VarExpr<Node>& other) {
  return *this = *this - other;
}
template <class Node>
Var& Var::operator*=(const VarExpr<Node>& other) {
  return *this = *this * other;
}
template <class Node>
Var& Var::operator/=(const VarExpr<Node>& other) {
  return *this = *this / other;
}

// Comparisons compare values; they are not recorded.
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline bool operator<(const A& a, const B& b) {
  return ad::detail::value_of(a) < ad::detail::value_of(b);
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline bool operator<=(const A& a, const B& b) {
  return ad::detail::value_of(a) <= ad::detail::value_of(b);
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline bool operator>(const A& a, const B& b) {
  return ad::detail::value_of(a) > ad::detail::value_of(b);
}
template <ad::detail::Operand A, ad::detail::Operand B>
[[nodiscard]] inline bool operator>=(const A& a, const B& b) {
  return ad::detail::value_of(a) >= ad::detail::value_of(b);
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator<(const A& a, double b) {
  return ad::detail::value_of(a) < b;
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator<=(const A& a, double b) {
  return ad::detail::value_of(a) <= b;
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator>(const A& a, double b) {
  return ad::detail::value_of(a) > b;
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator>=(const A& a, double b) {
  return ad::detail::value_of(a) >= b;
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator<(double a, const A& b) {
  return a < ad::detail::value_of(b);
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator<=(double a, const A& b) {
  return a <= ad::detail::value_of(b);
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator>(double a, const A& b) {
  return a > ad::detail::value_of(b);
}
template <ad::detail::Operand A>
[[nodiscard]] inline bool operator>=(double a, const A& b) {
  return a >= ad::detail::value_of(b);
}

// Elementary functions.
#define MAYA_AD_UNARY_FUNCTION(name, op)                                              \
  template <ad::detail::Operand A>                                                    \
  [[nodiscard]] inline auto name(const A& x) {                                        \
    return ad::detail::unary<ScalarOp::op>(x, #name);                                 \
  }                                                                                   \
  inline Var::UnaryExpr<ScalarOp::op> Var::name() const { return maya::name(*this); } \
  template <class Node>                                                               \
  VarExpr<ad::detail::Unary<ScalarOp::op, Node>> VarExpr<Node>::name() const {        \
    return maya::name(*this);                                                         \
  }

MAYA_AD_UNARY_FUNCTION(sin, kSin)
MAYA_AD_UNARY_FUNCTION(cos, kCos)
MAYA_AD_UNARY_FUNCTION(tan, kTan)
MAYA_AD_UNARY_FUNCTION(asin, kAsin)
MAYA_AD_UNARY_FUNCTION(acos, kAcos)
MAYA_AD_UNARY_FUNCTION(atan, kAtan)
MAYA_AD_UNARY_FUNCTION(exp, kExp)
MAYA_AD_UNARY_FUNCTION(log, kLog)
MAYA_AD_UNARY_FUNCTION(log1p, kLog1p)
MAYA_AD_UNARY_FUNCTION(sqrt, kSqrt)
MAYA_AD_UNARY_FUNCTION(cbrt, kCbrt)
MAYA_AD_UNARY_FUNCTION(abs, kAbs)
MAYA_AD_UNARY_FUNCTION(tanh, kTanh)
MAYA_AD_UNARY_FUNCTION(sigmoid, kSigmoid)
MAYA_AD_UNARY_FUNCTION(relu, kRelu)
MAYA_AD_UNARY_FUNCTION(softplus, kSoftplus)
MAYA_AD_UNARY_FUNCTION(square, kSquare)
#undef MAYA_AD_UNARY_FUNCTION

// Two-argument functions: f(expr, expr), f(expr, double), f(double, expr). Two Vars, or two
// expressions of one type, have overloads of their own, more specialized than std::min and
// std::max, so `using std::min; min(a, b)` still records a node that replay() re-evaluates.
#define MAYA_AD_BINARY_FUNCTION(name, op, op_constant, op_constant_first)          \
  template <ad::detail::Operand A, ad::detail::Operand B>                          \
  [[nodiscard]] inline auto name(const A& a, const B& b) {                         \
    return ad::detail::binary<ScalarOp::op>(a, b, #name);                          \
  }                                                                                \
  [[nodiscard]] inline auto name(Var a, Var b) {                                   \
    return ad::detail::binary<ScalarOp::op>(a, b, #name);                          \
  }                                                                                \
  template <class Node>                                                            \
  [[nodiscard]] inline auto name(const VarExpr<Node>& a, const VarExpr<Node>& b) { \
    return ad::detail::binary<ScalarOp::op>(a, b, #name);                          \
  }                                                                                \
  template <ad::detail::Operand A>                                                 \
  [[nodiscard]] inline auto name(const A& a, double b) {                           \
    return ad::detail::with_constant<ScalarOp::op_constant>(a, b, #name);          \
  }                                                                                \
  template <ad::detail::Operand A>                                                 \
  [[nodiscard]] inline auto name(double a, const A& b) {                           \
    return ad::detail::with_constant<ScalarOp::op_constant_first>(b, a, #name);    \
  }

MAYA_AD_BINARY_FUNCTION(pow, kPow, kPowConst, kRPow)
MAYA_AD_BINARY_FUNCTION(atan2, kAtan2, kAtan2, kRAtan2)
MAYA_AD_BINARY_FUNCTION(hypot, kHypot, kHypot, kHypot)
MAYA_AD_BINARY_FUNCTION(min, kMin, kMin, kMin)
MAYA_AD_BINARY_FUNCTION(max, kMax, kMax, kMax)
#undef MAYA_AD_BINARY_FUNCTION

// clamp(x, lo, hi) = min(max(x, lo), hi); throws maya::ValueError when lo > hi (or a bound is NaN).
template <ad::detail::Operand A>
[[nodiscard]] inline auto clamp(const A& x, double lo, double hi) {
  if (!(lo <= hi)) [[unlikely]]
    ad::detail::throw_bad_clamp(lo, hi);
  return min(max(x, lo), hi);
}

inline Var::PowConstExpr Var::pow(double exponent) const { return maya::pow(*this, exponent); }
inline Var::PowExpr Var::pow(Var exponent) const { return maya::pow(*this, exponent); }
inline Var::ClampExpr Var::clamp(double lo, double hi) const { return maya::clamp(*this, lo, hi); }

template <class Node>
VarExpr<ad::detail::WithConstant<ScalarOp::kPowConst, Node>> VarExpr<Node>::pow(
    double exponent) const {
  return maya::pow(*this, exponent);
}
template <class Node>
template <ad::detail::Operand E>
auto VarExpr<Node>::pow(const E& exponent) const {
  return maya::pow(*this, exponent);
}
template <class Node>
VarExpr<ad::detail::WithConstant<ScalarOp::kMin, ad::detail::WithConstant<ScalarOp::kMax, Node>>>
VarExpr<Node>::clamp(double lo, double hi) const {
  return maya::clamp(*this, lo, hi);
}

inline double Var::value() const { return VarAccess::tape(*this, "value").value(*this); }

}  // namespace maya
