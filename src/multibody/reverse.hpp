// Reverse-mode numbers for the multibody layer: each operation on Rev appends one node (its two
// operands and the partial derivatives with respect to them) to the tape its operands point at
// (a RevTape the caller borrows from its maya::Workspace; constants point at none), and one
// backward sweep gives the gradient of a weighted sum of the outputs with respect to every input:
// O(1) sweeps in the number of inputs, where forward mode (dual.hpp) needs one pass per eight
// inputs. The step's adjoint evaluates the templated dynamics on Rev (differentiable.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace maya::multibody::detail {

inline constexpr std::uint32_t kConstant = 0xffffffffU;

struct RevNode {
  std::uint32_t a, b;  // operands (kConstant: none)
  double da, db;       // d node / d a, d node / d b
};

struct RevTape {
  std::vector<RevNode> nodes;
  std::vector<double> adjoints;
  std::uint32_t push(std::uint32_t a, double da, std::uint32_t b, double db) {
    nodes.push_back({a, b, da, db});
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }
  // Adjoints of every node from the adjoints already seeded on some of them.
  void sweep() {
    for (std::size_t i = nodes.size(); i-- > 0;) {
      const double w = adjoints[i];
      if (w == 0.0) continue;
      const RevNode& n = nodes[i];
      if (n.a != kConstant) adjoints[n.a] += n.da * w;
      if (n.b != kConstant) adjoints[n.b] += n.db * w;
    }
  }
};

struct Rev {
  double v = 0.0;
  std::uint32_t i = kConstant;
  RevTape* t = nullptr;  // the tape node i is on; null for a constant

  Rev() = default;
  Rev(double value) : v(value) {}  // NOLINT: constants mix with Rev
  Rev(double value, std::uint32_t index, RevTape* tape) : v(value), i(index), t(tape) {}

  // A new input of `tape`.
  [[nodiscard]] static Rev input(RevTape& tape, double value) {
    return {value, tape.push(kConstant, 0.0, kConstant, 0.0), &tape};
  }

  Rev& operator+=(const Rev& b);
  Rev& operator-=(const Rev& b);
  Rev& operator*=(const Rev& b);
  Rev& operator/=(const Rev& b);
};

// r = f(a, b) with partials da, db; constant when both operands are.
inline Rev make(double value, const Rev& a, double da, const Rev& b, double db) {
  RevTape* tape = a.t != nullptr ? a.t : b.t;
  if (tape == nullptr) return Rev(value);
  return {value, tape->push(a.i, da, b.i, db), tape};
}
inline Rev make(double value, const Rev& a, double da) {
  if (a.t == nullptr) return Rev(value);
  return {value, a.t->push(a.i, da, kConstant, 0.0), a.t};
}

inline Rev operator+(const Rev& a, const Rev& b) { return make(a.v + b.v, a, 1.0, b, 1.0); }
inline Rev operator-(const Rev& a, const Rev& b) { return make(a.v - b.v, a, 1.0, b, -1.0); }
inline Rev operator*(const Rev& a, const Rev& b) { return make(a.v * b.v, a, b.v, b, a.v); }
inline Rev operator/(const Rev& a, const Rev& b) {
  const double r = a.v / b.v;
  return make(r, a, 1.0 / b.v, b, -r / b.v);
}
inline Rev operator-(const Rev& a) { return make(-a.v, a, -1.0); }
inline Rev operator+(const Rev& a, double b) { return make(a.v + b, a, 1.0); }
inline Rev operator+(double a, const Rev& b) { return make(a + b.v, b, 1.0); }
inline Rev operator-(const Rev& a, double b) { return make(a.v - b, a, 1.0); }
inline Rev operator-(double a, const Rev& b) { return make(a - b.v, b, -1.0); }
inline Rev operator*(const Rev& a, double b) { return make(a.v * b, a, b); }
inline Rev operator*(double a, const Rev& b) { return make(a * b.v, b, a); }
inline Rev operator/(const Rev& a, double b) { return make(a.v / b, a, 1.0 / b); }
inline Rev operator/(double a, const Rev& b) {
  const double r = a / b.v;
  return make(r, b, -r / b.v);
}

inline Rev& Rev::operator+=(const Rev& b) { return *this = *this + b; }
inline Rev& Rev::operator-=(const Rev& b) { return *this = *this - b; }
inline Rev& Rev::operator*=(const Rev& b) { return *this = *this * b; }
inline Rev& Rev::operator/=(const Rev& b) { return *this = *this / b; }

inline bool operator<(const Rev& a, const Rev& b) { return a.v < b.v; }
inline bool operator>(const Rev& a, const Rev& b) { return a.v > b.v; }

inline Rev sqrt(const Rev& a) {
  const double s = std::sqrt(a.v);
  return make(s, a, 0.5 / s);
}
inline Rev sin(const Rev& a) { return make(std::sin(a.v), a, std::cos(a.v)); }
inline Rev cos(const Rev& a) { return make(std::cos(a.v), a, -std::sin(a.v)); }
inline Rev tanh(const Rev& a) {
  const double t = std::tanh(a.v);
  return make(t, a, 1.0 - t * t);
}
inline Rev pow(const Rev& a, double p) {
  const double value = std::pow(a.v, p);
  return make(value, a, a.v == 0.0 ? 0.0 : p * value / a.v);
}
inline double value_of(const Rev& x) { return x.v; }

}  // namespace maya::multibody::detail
