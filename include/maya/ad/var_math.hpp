// Arithmetic, comparisons and elementary functions on Var. Free functions live in namespace maya
// so argument-dependent lookup finds them: exp(sin(x * x)) and maya::exp(...) both work. Every
// two-argument function also takes a double in either position.
#pragma once

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
  [[nodiscard]] static Tape& tape(Var a, Var b, const char* operation) {
    if (a.slot_ == b.slot_ && a.stamp_ == b.stamp_ &&
        core::detail::TapeRegistry::is_current(a.slot_, a.stamp_)) [[likely]]
      return *static_cast<Tape*>(core::detail::TapeRegistry::tape(a.slot_));
    throw_mixed(a, b, operation);
  }
  [[noreturn]] static void throw_unusable(Var v, const char* operation);
  [[noreturn]] static void throw_mixed(Var a, Var b, const char* operation);
};

namespace ad::detail {

template <ScalarOp Op>
[[nodiscard]] inline Var unary(Var x, const char* name) {
  return VarAccess::tape(x, name).record_unary<Op>(VarAccess::index(x));
}
template <ScalarOp Op>
[[nodiscard]] inline Var binary(Var a, Var b, const char* name) {
  return VarAccess::tape(a, b, name).record_binary<Op>(VarAccess::index(a), VarAccess::index(b));
}
template <ScalarOp Op>
[[nodiscard]] inline Var with_constant(Var x, double c, const char* name) {
  return VarAccess::tape(x, name).record_constant<Op>(VarAccess::index(x), c);
}

}  // namespace ad::detail

// Arithmetic.
[[nodiscard]] inline Var operator+(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kAdd>(a, b, "+");
}
[[nodiscard]] inline Var operator-(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kSub>(a, b, "-");
}
[[nodiscard]] inline Var operator*(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kMul>(a, b, "*");
}
[[nodiscard]] inline Var operator/(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kDiv>(a, b, "/");
}
[[nodiscard]] inline Var operator+(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(a, b, "+");
}
[[nodiscard]] inline Var operator+(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(b, a, "+");
}
[[nodiscard]] inline Var operator-(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kAdd>(a, -b, "-");
}
[[nodiscard]] inline Var operator-(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kRSub>(b, a, "-");
}
[[nodiscard]] inline Var operator*(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kMul>(a, b, "*");
}
[[nodiscard]] inline Var operator*(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kMul>(b, a, "*");
}
[[nodiscard]] inline Var operator/(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kDiv>(a, b, "/");
}
[[nodiscard]] inline Var operator/(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kRDiv>(b, a, "/");
}
[[nodiscard]] inline Var operator-(Var a) {
  return ad::detail::unary<ScalarOp::kNeg>(a, "unary -");
}
[[nodiscard]] inline Var operator+(Var a) { return a; }

inline Var& Var::operator+=(Var other) { return *this = *this + other; }
inline Var& Var::operator-=(Var other) { return *this = *this - other; }
inline Var& Var::operator*=(Var other) { return *this = *this * other; }
inline Var& Var::operator/=(Var other) { return *this = *this / other; }
inline Var& Var::operator+=(double other) { return *this = *this + other; }
inline Var& Var::operator-=(double other) { return *this = *this - other; }
inline Var& Var::operator*=(double other) { return *this = *this * other; }
inline Var& Var::operator/=(double other) { return *this = *this / other; }

// Comparisons compare values; they are not recorded.
[[nodiscard]] inline bool operator<(Var a, Var b) { return a.value() < b.value(); }
[[nodiscard]] inline bool operator<=(Var a, Var b) { return a.value() <= b.value(); }
[[nodiscard]] inline bool operator>(Var a, Var b) { return a.value() > b.value(); }
[[nodiscard]] inline bool operator>=(Var a, Var b) { return a.value() >= b.value(); }
[[nodiscard]] inline bool operator<(Var a, double b) { return a.value() < b; }
[[nodiscard]] inline bool operator<=(Var a, double b) { return a.value() <= b; }
[[nodiscard]] inline bool operator>(Var a, double b) { return a.value() > b; }
[[nodiscard]] inline bool operator>=(Var a, double b) { return a.value() >= b; }
[[nodiscard]] inline bool operator<(double a, Var b) { return a < b.value(); }
[[nodiscard]] inline bool operator<=(double a, Var b) { return a <= b.value(); }
[[nodiscard]] inline bool operator>(double a, Var b) { return a > b.value(); }
[[nodiscard]] inline bool operator>=(double a, Var b) { return a >= b.value(); }

// Elementary functions.
[[nodiscard]] inline Var sin(Var x) { return ad::detail::unary<ScalarOp::kSin>(x, "sin"); }
[[nodiscard]] inline Var cos(Var x) { return ad::detail::unary<ScalarOp::kCos>(x, "cos"); }
[[nodiscard]] inline Var tan(Var x) { return ad::detail::unary<ScalarOp::kTan>(x, "tan"); }
[[nodiscard]] inline Var asin(Var x) { return ad::detail::unary<ScalarOp::kAsin>(x, "asin"); }
[[nodiscard]] inline Var acos(Var x) { return ad::detail::unary<ScalarOp::kAcos>(x, "acos"); }
[[nodiscard]] inline Var atan(Var x) { return ad::detail::unary<ScalarOp::kAtan>(x, "atan"); }
[[nodiscard]] inline Var exp(Var x) { return ad::detail::unary<ScalarOp::kExp>(x, "exp"); }
[[nodiscard]] inline Var log(Var x) { return ad::detail::unary<ScalarOp::kLog>(x, "log"); }
[[nodiscard]] inline Var log1p(Var x) { return ad::detail::unary<ScalarOp::kLog1p>(x, "log1p"); }
[[nodiscard]] inline Var sqrt(Var x) { return ad::detail::unary<ScalarOp::kSqrt>(x, "sqrt"); }
[[nodiscard]] inline Var cbrt(Var x) { return ad::detail::unary<ScalarOp::kCbrt>(x, "cbrt"); }
[[nodiscard]] inline Var abs(Var x) { return ad::detail::unary<ScalarOp::kAbs>(x, "abs"); }
[[nodiscard]] inline Var tanh(Var x) { return ad::detail::unary<ScalarOp::kTanh>(x, "tanh"); }
[[nodiscard]] inline Var sigmoid(Var x) {
  return ad::detail::unary<ScalarOp::kSigmoid>(x, "sigmoid");
}
[[nodiscard]] inline Var relu(Var x) { return ad::detail::unary<ScalarOp::kRelu>(x, "relu"); }
[[nodiscard]] inline Var softplus(Var x) {
  return ad::detail::unary<ScalarOp::kSoftplus>(x, "softplus");
}
[[nodiscard]] inline Var square(Var x) { return ad::detail::unary<ScalarOp::kSquare>(x, "square"); }

[[nodiscard]] inline Var pow(Var x, Var y) {
  return ad::detail::binary<ScalarOp::kPow>(x, y, "pow");
}
[[nodiscard]] inline Var pow(Var x, double y) {
  return ad::detail::with_constant<ScalarOp::kPowConst>(x, y, "pow");
}
[[nodiscard]] inline Var pow(double x, Var y) {
  return ad::detail::with_constant<ScalarOp::kRPow>(y, x, "pow");
}
[[nodiscard]] inline Var atan2(Var y, Var x) {
  return ad::detail::binary<ScalarOp::kAtan2>(y, x, "atan2");
}
[[nodiscard]] inline Var atan2(Var y, double x) {
  return ad::detail::with_constant<ScalarOp::kAtan2>(y, x, "atan2");
}
[[nodiscard]] inline Var atan2(double y, Var x) {
  return ad::detail::with_constant<ScalarOp::kRAtan2>(x, y, "atan2");
}
[[nodiscard]] inline Var hypot(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kHypot>(a, b, "hypot");
}
[[nodiscard]] inline Var hypot(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kHypot>(a, b, "hypot");
}
[[nodiscard]] inline Var hypot(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kHypot>(b, a, "hypot");
}
[[nodiscard]] inline Var min(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kMin>(a, b, "min");
}
[[nodiscard]] inline Var min(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kMin>(a, b, "min");
}
[[nodiscard]] inline Var min(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kMin>(b, a, "min");
}
[[nodiscard]] inline Var max(Var a, Var b) {
  return ad::detail::binary<ScalarOp::kMax>(a, b, "max");
}
[[nodiscard]] inline Var max(Var a, double b) {
  return ad::detail::with_constant<ScalarOp::kMax>(a, b, "max");
}
[[nodiscard]] inline Var max(double a, Var b) {
  return ad::detail::with_constant<ScalarOp::kMax>(b, a, "max");
}

// clamp(x, lo, hi) = min(max(x, lo), hi); throws maya::ValueError when lo > hi.
[[nodiscard]] Var clamp(Var x, double lo, double hi);

inline Var Var::sin() const { return maya::sin(*this); }
inline Var Var::cos() const { return maya::cos(*this); }
inline Var Var::tan() const { return maya::tan(*this); }
inline Var Var::asin() const { return maya::asin(*this); }
inline Var Var::acos() const { return maya::acos(*this); }
inline Var Var::atan() const { return maya::atan(*this); }
inline Var Var::exp() const { return maya::exp(*this); }
inline Var Var::log() const { return maya::log(*this); }
inline Var Var::log1p() const { return maya::log1p(*this); }
inline Var Var::sqrt() const { return maya::sqrt(*this); }
inline Var Var::cbrt() const { return maya::cbrt(*this); }
inline Var Var::abs() const { return maya::abs(*this); }
inline Var Var::tanh() const { return maya::tanh(*this); }
inline Var Var::sigmoid() const { return maya::sigmoid(*this); }
inline Var Var::relu() const { return maya::relu(*this); }
inline Var Var::softplus() const { return maya::softplus(*this); }
inline Var Var::square() const { return maya::square(*this); }
inline Var Var::pow(double exponent) const { return maya::pow(*this, exponent); }
inline Var Var::pow(Var exponent) const { return maya::pow(*this, exponent); }
inline Var Var::clamp(double lo, double hi) const { return maya::clamp(*this, lo, hi); }

inline double Var::value() const { return VarAccess::tape(*this, "value").value(*this); }

}  // namespace maya
