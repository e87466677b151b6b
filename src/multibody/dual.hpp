// Forward-mode numbers for the multibody layer: a value and its derivatives along N seeded
// directions. The dynamics are templates over their scalar, so one evaluation with Dual<N> gives N
// exact columns of a step's Jacobian (chunked forward mode: ceil(inputs / N) evaluations).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace maya::multibody::detail {

template <int N>
struct Dual {
  double v = 0.0;
  std::array<double, N> d{};

  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT: constants mix with duals

  Dual& operator+=(const Dual& b) {
    v += b.v;
    for (int i = 0; i < N; ++i) d[i] += b.d[i];
    return *this;
  }
  Dual& operator-=(const Dual& b) {
    v -= b.v;
    for (int i = 0; i < N; ++i) d[i] -= b.d[i];
    return *this;
  }
  Dual& operator*=(const Dual& b) {
    for (int i = 0; i < N; ++i) d[i] = d[i] * b.v + v * b.d[i];
    v *= b.v;
    return *this;
  }
  Dual& operator/=(const Dual& b) {
    v /= b.v;
    for (int i = 0; i < N; ++i) d[i] = (d[i] - v * b.d[i]) / b.v;
    return *this;
  }
};

template <int N>
Dual<N> operator+(Dual<N> a, const Dual<N>& b) {
  return a += b;
}
template <int N>
Dual<N> operator-(Dual<N> a, const Dual<N>& b) {
  return a -= b;
}
template <int N>
Dual<N> operator*(Dual<N> a, const Dual<N>& b) {
  return a *= b;
}
template <int N>
Dual<N> operator/(Dual<N> a, const Dual<N>& b) {
  return a /= b;
}
template <int N>
Dual<N> operator-(const Dual<N>& a) {
  Dual<N> r(-a.v);
  for (int i = 0; i < N; ++i) r.d[i] = -a.d[i];
  return r;
}
template <int N>
Dual<N> operator+(Dual<N> a, double b) {
  a.v += b;
  return a;
}
template <int N>
Dual<N> operator+(double a, Dual<N> b) {
  b.v += a;
  return b;
}
template <int N>
Dual<N> operator-(Dual<N> a, double b) {
  a.v -= b;
  return a;
}
template <int N>
Dual<N> operator-(double a, const Dual<N>& b) {
  return Dual<N>(a) - b;
}
template <int N>
Dual<N> operator*(Dual<N> a, double b) {
  a.v *= b;
  for (int i = 0; i < N; ++i) a.d[i] *= b;
  return a;
}
template <int N>
Dual<N> operator*(double a, Dual<N> b) {
  return b * a;
}
template <int N>
Dual<N> operator/(const Dual<N>& a, double b) {
  return a * (1.0 / b);
}
template <int N>
Dual<N> operator/(double a, const Dual<N>& b) {
  return Dual<N>(a) / b;
}

template <int N>
bool operator<(const Dual<N>& a, const Dual<N>& b) {
  return a.v < b.v;
}
template <int N>
bool operator>(const Dual<N>& a, const Dual<N>& b) {
  return a.v > b.v;
}

// f(a) with f(a.v) = value and f'(a.v) = slope.
template <int N>
Dual<N> chain(const Dual<N>& a, double value, double slope) {
  Dual<N> r(value);
  for (int i = 0; i < N; ++i) r.d[i] = slope * a.d[i];
  return r;
}

template <int N>
Dual<N> sqrt(const Dual<N>& a) {
  const double s = std::sqrt(a.v);
  return chain(a, s, 0.5 / s);
}
template <int N>
Dual<N> sin(const Dual<N>& a) {
  return chain(a, std::sin(a.v), std::cos(a.v));
}
template <int N>
Dual<N> cos(const Dual<N>& a) {
  return chain(a, std::cos(a.v), -std::sin(a.v));
}
template <int N>
Dual<N> tanh(const Dual<N>& a) {
  const double t = std::tanh(a.v);
  return chain(a, t, 1.0 - t * t);
}
template <int N>
Dual<N> pow(const Dual<N>& a, double p) {
  const double value = std::pow(a.v, p);
  return chain(a, value, a.v == 0.0 ? 0.0 : p * value / a.v);
}

inline double value_of(double x) { return x; }
template <int N>
double value_of(const Dual<N>& x) {
  return x.v;
}

// Scalar functions that dispatch between double and Dual (found by argument-dependent lookup).
inline double sqrt(double x) { return std::sqrt(x); }
inline double sin(double x) { return std::sin(x); }
inline double cos(double x) { return std::cos(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double pow(double x, double p) { return std::pow(x, p); }

}  // namespace maya::multibody::detail
