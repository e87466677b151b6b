// The elementary operations of the scalar tape and their local partial derivatives. One function,
// evaluate(), is the single source of truth for values and partials: recording and replay both
// call it, so a replayed tape cannot disagree with a freshly recorded one.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace maya {

// An operation whose second operand may be a constant stores it in the node; "R" variants put the
// constant first (c - x, c / x, c^x, atan2(c, x)).
enum class ScalarOp : std::uint8_t {
  kLeaf,
  kAdd,
  kSub,
  kRSub,
  kMul,
  kDiv,
  kRDiv,
  kNeg,
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kAtan2,
  kRAtan2,
  kExp,
  kLog,
  kLog1p,
  kSqrt,
  kCbrt,
  kAbs,
  kTanh,
  kSigmoid,
  kRelu,
  kSoftplus,
  kSquare,
  kPow,
  kPowConst,
  kRPow,
  kHypot,
  kMin,
  kMax,
};

[[nodiscard]] std::string_view op_name(ScalarOp op) noexcept;

struct LocalPartials {
  double value;
  double d_lhs;  // d value / d a
  double d_rhs;  // d value / d b (ignored where b is a constant)
};

namespace ad::detail {

// sin x and cos x. With the GNU C library one sincos call computes both for about the price of
// one: compilers merge separate sin and cos calls into it only some of the time.
struct SinCos {
  double sin;
  double cos;
};
[[nodiscard]] inline SinCos sin_cos(double x) noexcept {
#if defined(__GLIBC__)
  SinCos out;
  ::sincos(x, &out.sin, &out.cos);
  return out;
#else
  return {std::sin(x), std::cos(x)};
#endif
}

[[nodiscard]] inline double stable_sigmoid(double x) noexcept {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace ad::detail

// Values and partials of op(a, b). Conventions at non-differentiable points (documented in
// docs/scalar-tape.md): abs'(0) = 0, relu'(0) = 0, sqrt'(0) = +inf, cbrt'(0) = +inf, min/max give
// the whole derivative to the first operand on ties, d(x^y)/dy = 0 where x^y = 0, atan2 and hypot
// have a zero gradient at the origin.
[[nodiscard]] inline LocalPartials evaluate(ScalarOp op, double a, double b) noexcept {
  switch (op) {
    case ScalarOp::kLeaf: return {a, 0.0, 0.0};
    case ScalarOp::kAdd: return {a + b, 1.0, 1.0};
    case ScalarOp::kSub: return {a - b, 1.0, -1.0};
    case ScalarOp::kRSub: return {b - a, -1.0, 1.0};
    case ScalarOp::kMul: return {a * b, b, a};
    case ScalarOp::kDiv: {
      const double inv = 1.0 / b;
      const double q = a * inv;
      return {q, inv, -q * inv};  // d(a/b)/db = -a/b^2
    }
    case ScalarOp::kRDiv: {
      const double inv = 1.0 / a;
      const double q = b * inv;
      return {q, -q * inv, inv};
    }
    case ScalarOp::kNeg: return {-a, -1.0, 0.0};
    case ScalarOp::kSin: {
      const ad::detail::SinCos sc = ad::detail::sin_cos(a);
      return {sc.sin, sc.cos, 0.0};
    }
    case ScalarOp::kCos: {
      const ad::detail::SinCos sc = ad::detail::sin_cos(a);
      return {sc.cos, -sc.sin, 0.0};
    }
    case ScalarOp::kTan: {
      const double t = std::tan(a);
      return {t, 1.0 + t * t, 0.0};
    }
    case ScalarOp::kAsin: return {std::asin(a), 1.0 / std::sqrt(1.0 - a * a), 0.0};
    case ScalarOp::kAcos: return {std::acos(a), -1.0 / std::sqrt(1.0 - a * a), 0.0};
    case ScalarOp::kAtan: return {std::atan(a), 1.0 / (1.0 + a * a), 0.0};
    case ScalarOp::kAtan2: {  // atan2(y = a, x = b)
      const double r2 = a * a + b * b;
      if (r2 == 0.0) return {std::atan2(a, b), 0.0, 0.0};
      return {std::atan2(a, b), b / r2, -a / r2};
    }
    case ScalarOp::kRAtan2: {  // atan2(y = b, x = a)
      const double r2 = a * a + b * b;
      if (r2 == 0.0) return {std::atan2(b, a), 0.0, 0.0};
      return {std::atan2(b, a), -b / r2, a / r2};
    }
    case ScalarOp::kExp: {
      const double e = std::exp(a);
      return {e, e, 0.0};
    }
    case ScalarOp::kLog: return {std::log(a), 1.0 / a, 0.0};
    case ScalarOp::kLog1p: return {std::log1p(a), 1.0 / (1.0 + a), 0.0};
    case ScalarOp::kSqrt: {
      const double s = std::sqrt(a);
      return {s, 0.5 / s, 0.0};
    }
    case ScalarOp::kCbrt: {
      const double c = std::cbrt(a);
      return {c, 1.0 / (3.0 * c * c), 0.0};
    }
    case ScalarOp::kAbs: return {std::abs(a), a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : 0.0), 0.0};
    case ScalarOp::kTanh: {
      const double t = std::tanh(a);
      return {t, 1.0 - t * t, 0.0};
    }
    case ScalarOp::kSigmoid: {
      const double s = ad::detail::stable_sigmoid(a);
      return {s, s * (1.0 - s), 0.0};
    }
    case ScalarOp::kRelu: return {a > 0.0 ? a : 0.0, a > 0.0 ? 1.0 : 0.0, 0.0};
    case ScalarOp::kSoftplus: {
      // log(1 + e^a) without overflow: a + log1p(e^-a) for positive a.
      const double v = a > 0.0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
      return {v, ad::detail::stable_sigmoid(a), 0.0};
    }
    case ScalarOp::kSquare: return {a * a, 2.0 * a, 0.0};
    case ScalarOp::kPow: {
      const double v = std::pow(a, b);
      const double d_base = b == 0.0 ? 0.0 : b * std::pow(a, b - 1.0);
      return {v, d_base, v == 0.0 ? 0.0 : v * std::log(a)};
    }
    case ScalarOp::kPowConst: {
      const double v = std::pow(a, b);
      return {v, b == 0.0 ? 0.0 : b * std::pow(a, b - 1.0), 0.0};
    }
    case ScalarOp::kRPow: {  // b^a
      const double v = std::pow(b, a);
      return {v, v == 0.0 ? 0.0 : v * std::log(b), 0.0};
    }
    case ScalarOp::kHypot: {
      const double h = std::hypot(a, b);
      if (h == 0.0) return {0.0, 0.0, 0.0};
      return {h, a / h, b / h};
    }
    case ScalarOp::kMin: return a <= b ? LocalPartials{a, 1.0, 0.0} : LocalPartials{b, 0.0, 1.0};
    case ScalarOp::kMax: return a >= b ? LocalPartials{a, 1.0, 0.0} : LocalPartials{b, 0.0, 1.0};
  }
  return {std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0};
}

}  // namespace maya
