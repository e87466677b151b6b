// Forward-mode numbers: a value and its derivatives with respect to N inputs. The rigid-contact
// laws are templates over their scalar, so one evaluation with Dual<N> gives a contact's exact
// Jacobian (rigid_contact_law.hpp), which the adjoints and Newton's matrix read.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

namespace maya::fem::detail {

template <int N>
struct Dual {
  double v = 0.0;
  std::array<double, N> d{};

  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT: constants mix with duals
  [[nodiscard]] static Dual input(double value, int slot) {
    Dual x(value);
    x.d[static_cast<std::size_t>(slot)] = 1.0;
    return x;
  }
};

template <int N>
Dual<N> operator+(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v + b.v);
  for (int i = 0; i < N; ++i) r.d[i] = a.d[i] + b.d[i];
  return r;
}
template <int N>
Dual<N> operator-(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v - b.v);
  for (int i = 0; i < N; ++i) r.d[i] = a.d[i] - b.d[i];
  return r;
}
template <int N>
Dual<N> operator-(const Dual<N>& a) {
  Dual<N> r(-a.v);
  for (int i = 0; i < N; ++i) r.d[i] = -a.d[i];
  return r;
}
template <int N>
Dual<N> operator*(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v * b.v);
  for (int i = 0; i < N; ++i) r.d[i] = a.d[i] * b.v + a.v * b.d[i];
  return r;
}
template <int N>
Dual<N> operator/(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v / b.v);
  for (int i = 0; i < N; ++i) r.d[i] = (a.d[i] - r.v * b.d[i]) / b.v;
  return r;
}
template <int N>
Dual<N> operator+(const Dual<N>& a, double b) {
  return a + Dual<N>(b);
}
template <int N>
Dual<N> operator-(const Dual<N>& a, double b) {
  return a - Dual<N>(b);
}
template <int N>
Dual<N> operator-(double a, const Dual<N>& b) {
  return Dual<N>(a) - b;
}
template <int N>
Dual<N> operator*(double a, const Dual<N>& b) {
  Dual<N> r(a * b.v);
  for (int i = 0; i < N; ++i) r.d[i] = a * b.d[i];
  return r;
}
template <int N>
Dual<N> operator/(const Dual<N>& a, double b) {
  return (1.0 / b) * a;
}
template <int N>
Dual<N> sqrt(const Dual<N>& a) {
  Dual<N> r(std::sqrt(a.v));
  for (int i = 0; i < N; ++i) r.d[i] = a.d[i] / (2.0 * r.v);
  return r;
}
template <int N>
Dual<N> sin(const Dual<N>& a) {
  Dual<N> r(std::sin(a.v));
  const double slope = std::cos(a.v);
  for (int i = 0; i < N; ++i) r.d[i] = slope * a.d[i];
  return r;
}
template <int N>
Dual<N> cos(const Dual<N>& a) {
  Dual<N> r(std::cos(a.v));
  const double slope = -std::sin(a.v);
  for (int i = 0; i < N; ++i) r.d[i] = slope * a.d[i];
  return r;
}

inline double value_of(double x) { return x; }
template <int N>
double value_of(const Dual<N>& x) {
  return x.v;
}

}  // namespace maya::fem::detail
