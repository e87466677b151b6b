// Spatial algebra (Featherstone, "Rigid Body Dynamics Algorithms", ch. 2), templated on the
// scalar. A motion vector is [angular; linear], a force vector [moment; force]. A Transform X_AB
// from frame A to frame B holds E (rotates A coordinates into B coordinates) and r (B's origin in A
// coordinates): X m = [E w; E (v - r x w)], X* f = [E (n - r x f); E f].
#pragma once

#include <array>
#include <cmath>

#include "ad/dual.hpp"
#include "core/simd.hpp"  // MAYA_INLINE

namespace maya::multibody::detail {

// Forward-mode numbers and the scalar functions the templated dynamics call (ad/dual.hpp).
using ad::detail::chain;
using ad::detail::cos;
using ad::detail::Dual;
using ad::detail::pow;
using ad::detail::sin;
using ad::detail::sqrt;
using ad::detail::tanh;
using ad::detail::value_of;

template <class S>
using Vec3 = std::array<S, 3>;
template <class S>
using Mat3 = std::array<S, 9>;  // row-major
template <class S>
using Vec6 = std::array<S, 6>;
template <class S>
using Mat6 = std::array<S, 36>;  // row-major

template <class S>
MAYA_INLINE Vec3<S> add(const Vec3<S>& a, const Vec3<S>& b) {
  return {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
}
template <class S>
MAYA_INLINE Vec3<S> sub(const Vec3<S>& a, const Vec3<S>& b) {
  return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
template <class S, class T>
MAYA_INLINE Vec3<S> scale(const T& s, const Vec3<S>& a) {
  return {s * a[0], s * a[1], s * a[2]};
}
template <class S>
MAYA_INLINE S dot(const Vec3<S>& a, const Vec3<S>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
template <class S>
MAYA_INLINE Vec3<S> cross(const Vec3<S>& a, const Vec3<S>& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
template <class S>
MAYA_INLINE Vec3<S> mul(const Mat3<S>& m, const Vec3<S>& a) {
  return {m[0] * a[0] + m[1] * a[1] + m[2] * a[2], m[3] * a[0] + m[4] * a[1] + m[5] * a[2],
          m[6] * a[0] + m[7] * a[1] + m[8] * a[2]};
}
template <class S>
MAYA_INLINE Vec3<S> mul_transpose(const Mat3<S>& m, const Vec3<S>& a) {
  return {m[0] * a[0] + m[3] * a[1] + m[6] * a[2], m[1] * a[0] + m[4] * a[1] + m[7] * a[2],
          m[2] * a[0] + m[5] * a[1] + m[8] * a[2]};
}
template <class S>
MAYA_INLINE Mat3<S> mul(const Mat3<S>& a, const Mat3<S>& b) {
  Mat3<S> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    }
  }
  return r;
}
template <class S>
MAYA_INLINE Mat3<S> transpose(const Mat3<S>& a) {
  return {a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]};
}
template <class S>
Mat3<S> identity3() {
  return {S(1.0), S(0.0), S(0.0), S(0.0), S(1.0), S(0.0), S(0.0), S(0.0), S(1.0)};
}
template <class S, class T>
Mat3<S> cast3(const Mat3<T>& m) {
  Mat3<S> r;
  for (int i = 0; i < 9; ++i) r[i] = S(m[i]);
  return r;
}

// Quaternions (w, x, y, z), Hamilton product; rotation matrix of a unit quaternion (body to
// parent).
template <class S>
using Quat = std::array<S, 4>;

template <class S>
Quat<S> quat_mul(const Quat<S>& a, const Quat<S>& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}
template <class S>
Mat3<S> quat_to_matrix(const Quat<S>& q) {
  const S w = q[0], x = q[1], y = q[2], z = q[3];
  return {1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z),       2.0 * (x * z + w * y),
          2.0 * (x * y + w * z),       1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x),
          2.0 * (x * z - w * y),       2.0 * (y * z + w * x),       1.0 - 2.0 * (x * x + y * y)};
}
template <class S>
Quat<S> quat_normalized(const Quat<S>& q) {
  const S inv = 1.0 / sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  return {q[0] * inv, q[1] * inv, q[2] * inv, q[3] * inv};
}
// q exp(w h / 2) for an angular velocity w in the body frame over a time h, renormalized. The
// small-angle branch keeps the derivative finite at w = 0 (sin(t)/t by its Taylor series).
template <class S>
Quat<S> quat_integrate(const Quat<S>& q, const Vec3<S>& w, double h) {
  const S half_angle_sq = dot(w, w) * (0.25 * h * h);
  S c, k;  // cos(|w| h / 2), sin(|w| h / 2) / |w|
  if (value_of(half_angle_sq) < 1e-12) {
    c = 1.0 - 0.5 * half_angle_sq;
    k = (0.5 * h) * (1.0 - half_angle_sq / 6.0);
  } else {
    const S half_angle = sqrt(half_angle_sq);
    c = cos(half_angle);
    k = (0.5 * h) * sin(half_angle) / half_angle;
  }
  const Quat<S> dq{c, k * w[0], k * w[1], k * w[2]};
  return quat_normalized(quat_mul(q, dq));
}
// Rotation by `angle` about the unit `axis` (body to parent).
template <class S>
Mat3<S> axis_angle(const Vec3<double>& axis, const S& angle) {
  const S c = cos(angle), s = sin(angle);
  const S t = 1.0 - c;
  const double x = axis[0], y = axis[1], z = axis[2];
  return {t * (x * x) + c,     t * (x * y) - s * z, t * (x * z) + s * y,
          t * (x * y) + s * z, t * (y * y) + c,     t * (y * z) - s * x,
          t * (x * z) - s * y, t * (y * z) + s * x, t * (z * z) + c};
}

template <class S>
struct Transform {
  Mat3<S> E = identity3<S>();
  Vec3<S> r{S(0.0), S(0.0), S(0.0)};
};

// The transform of a frame whose rotation (its axes in the parent) is R and origin is p.
template <class S>
Transform<S> frame_transform(const Mat3<S>& R, const Vec3<S>& p) {
  return {transpose(R), p};
}

template <class S>
MAYA_INLINE Vec6<S> apply_motion(const Transform<S>& X, const Vec6<S>& m) {
  const Vec3<S> w{m[0], m[1], m[2]}, v{m[3], m[4], m[5]};
  const Vec3<S> w1 = mul(X.E, w), v1 = mul(X.E, sub(v, cross(X.r, w)));
  return {w1[0], w1[1], w1[2], v1[0], v1[1], v1[2]};
}
template <class S>
MAYA_INLINE Vec6<S> apply_force(const Transform<S>& X, const Vec6<S>& f) {
  const Vec3<S> n{f[0], f[1], f[2]}, lin{f[3], f[4], f[5]};
  const Vec3<S> n1 = mul(X.E, sub(n, cross(X.r, lin))), f1 = mul(X.E, lin);
  return {n1[0], n1[1], n1[2], f1[0], f1[1], f1[2]};
}
// X^-1 m (motion from B back to A).
template <class S>
MAYA_INLINE Vec6<S> inverse_motion(const Transform<S>& X, const Vec6<S>& m) {
  const Vec3<S> w = mul_transpose(X.E, Vec3<S>{m[0], m[1], m[2]});
  const Vec3<S> v = add(mul_transpose(X.E, Vec3<S>{m[3], m[4], m[5]}), cross(X.r, w));
  return {w[0], w[1], w[2], v[0], v[1], v[2]};
}
// X^T f (force from B back to A).
template <class S>
MAYA_INLINE Vec6<S> inverse_force(const Transform<S>& X, const Vec6<S>& f) {
  const Vec3<S> lin = mul_transpose(X.E, Vec3<S>{f[3], f[4], f[5]});
  const Vec3<S> n = add(mul_transpose(X.E, Vec3<S>{f[0], f[1], f[2]}), cross(X.r, lin));
  return {n[0], n[1], n[2], lin[0], lin[1], lin[2]};
}
// X_AC = X_BC X_AB.
template <class S>
MAYA_INLINE Transform<S> compose(const Transform<S>& X_BC, const Transform<S>& X_AB) {
  return {mul(X_BC.E, X_AB.E), add(X_AB.r, mul_transpose(X_AB.E, X_BC.r))};
}

// Spatial cross products: v x m (motion) and v x* f (force).
template <class S>
MAYA_INLINE Vec6<S> cross_motion(const Vec6<S>& a, const Vec6<S>& m) {
  const Vec3<S> w{a[0], a[1], a[2]}, v{a[3], a[4], a[5]};
  const Vec3<S> mw{m[0], m[1], m[2]}, mv{m[3], m[4], m[5]};
  const Vec3<S> r0 = cross(w, mw), r1 = add(cross(w, mv), cross(v, mw));
  return {r0[0], r0[1], r0[2], r1[0], r1[1], r1[2]};
}
template <class S>
MAYA_INLINE Vec6<S> cross_force(const Vec6<S>& a, const Vec6<S>& f) {
  const Vec3<S> w{a[0], a[1], a[2]}, v{a[3], a[4], a[5]};
  const Vec3<S> n{f[0], f[1], f[2]}, lin{f[3], f[4], f[5]};
  const Vec3<S> r0 = add(cross(w, n), cross(v, lin)), r1 = cross(w, lin);
  return {r0[0], r0[1], r0[2], r1[0], r1[1], r1[2]};
}

template <class S>
MAYA_INLINE Vec6<S> add6(const Vec6<S>& a, const Vec6<S>& b) {
  Vec6<S> r;
  for (int i = 0; i < 6; ++i) r[i] = a[i] + b[i];
  return r;
}
template <class S>
MAYA_INLINE Vec6<S> sub6(const Vec6<S>& a, const Vec6<S>& b) {
  Vec6<S> r;
  for (int i = 0; i < 6; ++i) r[i] = a[i] - b[i];
  return r;
}
template <class S>
MAYA_INLINE S dot6(const Vec6<S>& a, const Vec6<S>& b) {
  S r = a[0] * b[0];
  for (int i = 1; i < 6; ++i) r += a[i] * b[i];
  return r;
}
template <class S>
MAYA_INLINE Vec6<S> mul6(const Mat6<S>& m, const Vec6<S>& a) {
  Vec6<S> r;
  for (int i = 0; i < 6; ++i) {
    S s = m[6 * i] * a[0];
    for (int j = 1; j < 6; ++j) s += m[6 * i + j] * a[j];
    r[i] = s;
  }
  return r;
}

// I m for a rigid body's spatial inertia I = [Ib, [h]x; [h]x^T, m 1] (body_inertia()'s layout,
// h = m c): [Ib w + h x v; m v - h x w] in 24 products where mul6() takes 36.
template <class S>
MAYA_INLINE Vec6<S> mul_rigid(const Mat6<S>& I, const Vec6<S>& a) {
  const Vec3<S> h{-I[11], I[5], I[9]};
  const S& m = I[21];
  const Vec3<S> w{a[0], a[1], a[2]}, v{a[3], a[4], a[5]};
  const Vec3<S> hv = cross(h, v), hw = cross(h, w);
  Vec6<S> r;
  for (int i = 0; i < 3; ++i) {
    r[i] = I[6 * i] * w[0] + I[6 * i + 1] * w[1] + I[6 * i + 2] * w[2] + hv[i];
    r[i + 3] = m * v[i] - hw[i];
  }
  return r;
}

// E^T M E when E turns only about coordinate axis K (E e_K = e_K, the other two axes turning in
// their plane): two rows and two columns change, 24 products where the general form takes 45-54.
template <int K, class S>
MAYA_INLINE Mat3<S> turn_about_axis(const Mat3<S>& M, const Mat3<S>& E) {
  constexpr int i = K == 0 ? 1 : 0, j = K == 2 ? 1 : 2;
  const S eii = E[3 * i + i], eij = E[3 * i + j], eji = E[3 * j + i], ejj = E[3 * j + j];
  Mat3<S> P;  // M E
  for (int x = 0; x < 3; ++x) {
    P[3 * x + K] = M[3 * x + K];
    P[3 * x + i] = M[3 * x + i] * eii + M[3 * x + j] * eji;
    P[3 * x + j] = M[3 * x + i] * eij + M[3 * x + j] * ejj;
  }
  Mat3<S> Q;  // E^T P
  for (int y = 0; y < 3; ++y) {
    Q[3 * K + y] = P[3 * K + y];
    Q[3 * i + y] = eii * P[3 * i + y] + eji * P[3 * j + y];
    Q[3 * j + y] = eij * P[3 * i + y] + ejj * P[3 * j + y];
  }
  return Q;
}

// The blocks of E^T [A B; B^T C] E, each E^T (.) E.
template <int K, class S>
MAYA_INLINE void turn_blocks(const Mat6<S>& inertia, const Mat3<S>& E, Mat3<S>& Ab, Mat3<S>& Bb,
                             Mat3<S>& Cb) {
  Mat3<S> A, B, C;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      A[3 * i + j] = inertia[6 * i + j];
      B[3 * i + j] = inertia[6 * i + j + 3];
      C[3 * i + j] = inertia[6 * (i + 3) + j + 3];
    }
  }
  Ab = turn_about_axis<K>(A, E);
  Bb = turn_about_axis<K>(B, E);
  Cb = turn_about_axis<K>(C, E);
}

// target += X^T I X for a symmetric 6x6 inertia I expressed in B: the same inertia expressed in
// A, added to an inertia of A. With I = [A B; B^T C], X = [E 0; -E R E], R = [r]x and bars for
// E^T (.) E:
//   X^T I X = [A' - B' R + R B'^T - R C' R,  B' + R C';  (B' + R C')^T,  C'].
// A', C' and the top-left block are symmetric: only their upper triangles are computed. `axis`
// 0, 1 or 2 says that E turns only about that coordinate axis (turn_about_axis); -1, any E.
template <class S>
MAYA_INLINE void add_inertia_to_parent(const Transform<S>& X, const Mat6<S>& inertia,
                                       Mat6<S>& target, int axis = -1) {
  const Mat3<S>& E = X.E;
  Mat3<S> Ab, Bb, Cb;
  if (axis == 0) {
    turn_blocks<0>(inertia, E, Ab, Bb, Cb);
  } else if (axis == 1) {
    turn_blocks<1>(inertia, E, Ab, Bb, Cb);
  } else if (axis == 2) {
    turn_blocks<2>(inertia, E, Ab, Bb, Cb);
  } else {
    // T = M E for the three blocks, then E^T T.
    Mat3<S> TA, TB, TC;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        TA[3 * i + j] =
            inertia[6 * i] * E[j] + inertia[6 * i + 1] * E[3 + j] + inertia[6 * i + 2] * E[6 + j];
        TB[3 * i + j] = inertia[6 * i + 3] * E[j] + inertia[6 * i + 4] * E[3 + j] +
                        inertia[6 * i + 5] * E[6 + j];
        TC[3 * i + j] = inertia[6 * (i + 3) + 3] * E[j] + inertia[6 * (i + 3) + 4] * E[3 + j] +
                        inertia[6 * (i + 3) + 5] * E[6 + j];
      }
    }
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        Bb[3 * i + j] = E[i] * TB[j] + E[3 + i] * TB[3 + j] + E[6 + i] * TB[6 + j];
        if (j < i) continue;
        Ab[3 * i + j] = E[i] * TA[j] + E[3 + i] * TA[3 + j] + E[6 + i] * TA[6 + j];
        Cb[3 * i + j] = E[i] * TC[j] + E[3 + i] * TC[3 + j] + E[6 + i] * TC[6 + j];
      }
    }
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < i; ++j) {
        Ab[3 * i + j] = Ab[3 * j + i];
        Cb[3 * i + j] = Cb[3 * j + i];
      }
    }
  }
  const Vec3<S>& r = X.r;
  // RC = R C' column by column; the rows of M R are the rows of M crossed with r.
  Mat3<S> RC, RCR, BR;
  for (int j = 0; j < 3; ++j) {
    const Vec3<S> c = cross(r, Vec3<S>{Cb[j], Cb[3 + j], Cb[6 + j]});
    RC[j] = c[0], RC[3 + j] = c[1], RC[6 + j] = c[2];
  }
  for (int i = 0; i < 3; ++i) {
    const Vec3<S> a = cross(Vec3<S>{RC[3 * i], RC[3 * i + 1], RC[3 * i + 2]}, r);
    const Vec3<S> b = cross(Vec3<S>{Bb[3 * i], Bb[3 * i + 1], Bb[3 * i + 2]}, r);
    for (int j = 0; j < 3; ++j) RCR[3 * i + j] = a[j], BR[3 * i + j] = b[j];
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (j >= i) {
        // R B'^T = -(B' R)^T, so the top-left block is A' - B'R - (B'R)^T - R C' R.
        const S top_left = Ab[3 * i + j] - BR[3 * i + j] - BR[3 * j + i] - RCR[3 * i + j];
        target[6 * i + j] += top_left;
        if (j > i) target[6 * j + i] += top_left;
        target[6 * (i + 3) + j + 3] += Cb[3 * i + j];
        if (j > i) target[6 * (j + 3) + i + 3] += Cb[3 * i + j];
      }
      const S top_right = Bb[3 * i + j] + RC[3 * i + j];
      target[6 * i + j + 3] += top_right;
      target[6 * (j + 3) + i] += top_right;
    }
  }
}

// X^T I X (add_inertia_to_parent onto zero).
template <class S>
Mat6<S> inertia_to_parent(const Transform<S>& X, const Mat6<S>& inertia) {
  Mat6<S> out;
  for (auto& x : out) x = S(0.0);
  add_inertia_to_parent(X, inertia, out);
  return out;
}

// The spatial inertia of a body of mass m, centre of mass c and rotational inertia Ic about the
// centre (all in the body frame): [Ic + m [c]x [c]x^T, m [c]x; m [c]x^T, m 1].
// Written into `r` (a returned Mat6 would be copied: a short block copy, slow on x86).
template <class S>
void body_inertia(const S& m, const Vec3<S>& c, const Mat3<S>& Ic, Mat6<S>& r) {
  const Vec3<S> h = scale(m, c);
  const S cc = dot(c, c);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      r[6 * i + j] = Ic[3 * i + j] - h[i] * c[j];
    }
    r[6 * i + i] += m * cc;
    for (int j = 0; j < 3; ++j) r[6 * (i + 3) + j + 3] = i == j ? m : S(0.0);
  }
  const Mat3<S> hx{S(0.0), -h[2], h[1], h[2], S(0.0), -h[0], -h[1], h[0], S(0.0)};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      r[6 * i + j + 3] = hx[3 * i + j];
      r[6 * (i + 3) + j] = hx[3 * j + i];
    }
  }
}

// The unit quaternion (w, x, y, z), w >= 0, of a rotation matrix (Shepperd's method: from the
// largest diagonal combination, for accuracy near every angle).
inline std::array<double, 4> quaternion_of(const Mat3<double>& R) {
  double w, x, y, z;
  const double trace = R[0] + R[4] + R[8];
  if (trace > 0.0) {
    const double s = 2.0 * std::sqrt(1.0 + trace);
    w = 0.25 * s, x = (R[7] - R[5]) / s, y = (R[2] - R[6]) / s, z = (R[3] - R[1]) / s;
  } else if (R[0] > R[4] && R[0] > R[8]) {
    const double s = 2.0 * std::sqrt(1.0 + R[0] - R[4] - R[8]);
    w = (R[7] - R[5]) / s, x = 0.25 * s, y = (R[1] + R[3]) / s, z = (R[2] + R[6]) / s;
  } else if (R[4] > R[8]) {
    const double s = 2.0 * std::sqrt(1.0 + R[4] - R[0] - R[8]);
    w = (R[2] - R[6]) / s, x = (R[1] + R[3]) / s, y = 0.25 * s, z = (R[5] + R[7]) / s;
  } else {
    const double s = 2.0 * std::sqrt(1.0 + R[8] - R[0] - R[4]);
    w = (R[3] - R[1]) / s, x = (R[2] + R[6]) / s, y = (R[5] + R[7]) / s, z = 0.25 * s;
  }
  if (w < 0.0) w = -w, x = -x, y = -y, z = -z;
  return {w, x, y, z};
}

}  // namespace maya::multibody::detail
