// The primal-dual interior-point method for one step's mixed LCP, written once over the scalar
// type: double for the solver, Eigen's AutoDiffScalar for the unrolled reference derivative.
// Private to src/contact (Eigen never reaches a public header).
//
// Unknowns w = (v, y, z, s): velocities, joint impulses, and p complementarity pairs z_i s_i.
//   F1 = M v - G^T y - A^T z - q = 0          Newton-Euler with impulses
//   F2 = G v - g = 0                          joints
//   F3 = s - A v - B z - c = 0                slacks of the inequalities
//   F4 = z o s - smoothing = 0,  z, s > 0     relaxed complementarity
// z = (lambda_n [nc], beta_1 [nf], ..., beta_D [nf], gamma [nf]) over the nf contacts with
// friction, with D friction directions per contact: +t, -t in 2-D (D = 2), and +t, -t, +b, -b
// for a 3-D contact with a second tangent b (D = 4). A = [J_n; J_t; -J_t; (J_b; -J_b;) 0],
// c = [b_n; 0 ...], and B couples the friction rows (Anitescu-Potra), all D directions sharing
// the slip gamma:  s_beta_d = D_d v + gamma,  s_gamma = mu lambda_n - sum_d beta_d.
// Eliminating s and v (M is diagonal) leaves one dense system in (y, z) of size me + p,
//   N = H M^-1 H^T + blockdiag(0, B + S Z^-1),   H = [G; A],
// factored by LU once per iteration and used twice (Mehrotra predictor and corrector).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "maya/contact/solver.hpp"
#include "maya/core/error.hpp"

namespace maya::contact::detail {

using Index = Eigen::Index;
template <class S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

template <class S>
[[nodiscard]] double value_of(const S& x) {
  if constexpr (std::is_same_v<S, double>) {
    return x;
  } else {
    return x.value();
  }
}

// Where each complementarity pair sits in z and s.
struct Layout {
  Index velocities = 0;
  Index joints = 0;
  Index contacts = 0;
  Index directions = 2;           // friction directions per contact: 2 (2-D) or 4 (3-D)
  std::vector<Index> frictional;  // the contact of each friction slot (friction > 0)

  [[nodiscard]] Index slots() const noexcept { return static_cast<Index>(frictional.size()); }
  [[nodiscard]] Index pairs() const noexcept { return contacts + (directions + 1) * slots(); }
  // Direction d of slot k: 0 = +t, 1 = -t, 2 = +b, 3 = -b.
  [[nodiscard]] Index beta(Index k, Index d) const noexcept { return contacts + d * slots() + k; }
  [[nodiscard]] Index plus(Index k) const noexcept { return beta(k, 0); }
  [[nodiscard]] Index minus(Index k) const noexcept { return beta(k, 1); }
  [[nodiscard]] Index slip(Index k) const noexcept { return contacts + directions * slots() + k; }
  // The size of one contact's block of B + W: lambda_n, the directions and gamma.
  [[nodiscard]] Index block_size() const noexcept { return directions + 2; }
};

[[nodiscard]] Layout layout_of(const ContactProblem& problem);

// The problem in the solver's variables.
template <class S>
struct Kkt {
  Vec<S> mass;      // [n] diagonal of M
  Vec<S> momentum;  // [n] q
  Mat<S> joint;     // [me, n] G
  Vec<S> joint_target;
  Mat<S> inequality;  // [p, n] A
  Vec<S> offset;      // [p] c
  Vec<S> friction;    // [nf] mu of each friction slot
};

template <class S>
struct Iterate {
  Vec<S> v, y, z, s;
  int iterations = 0;
};

// Checks sizes, finiteness and positivity; throws maya::ShapeError / maya::ValueError.
void validate(const ContactProblem& problem, const SolverOptions& options);

// Fills `kkt` with the problem's values (no derivatives).
template <class S>
void assemble(const ContactProblem& problem, const Layout& layout, Kkt<S>& kkt) {
  const Index n = layout.velocities;
  const Index me = layout.joints;
  const Index nc = layout.contacts;
  const Index nf = layout.slots();
  const auto at = [n](const std::vector<double>& rows, Index r, Index j) {
    return rows[static_cast<std::size_t>(r * n + j)];
  };
  kkt.mass.resize(n);
  kkt.momentum.resize(n);
  for (Index j = 0; j < n; ++j) {
    kkt.mass(j) = S(problem.mass[static_cast<std::size_t>(j)]);
    kkt.momentum(j) = S(problem.momentum[static_cast<std::size_t>(j)]);
  }
  kkt.joint = Mat<S>::Zero(me, n);
  kkt.joint_target.resize(me);
  for (Index r = 0; r < me; ++r) {
    for (Index j = 0; j < n; ++j) kkt.joint(r, j) = S(at(problem.joint_jacobian, r, j));
    kkt.joint_target(r) = S(problem.joint_target[static_cast<std::size_t>(r)]);
  }
  kkt.inequality = Mat<S>::Zero(layout.pairs(), n);
  kkt.offset = Vec<S>::Zero(layout.pairs());
  kkt.friction.resize(nf);
  for (Index i = 0; i < nc; ++i) {
    for (Index j = 0; j < n; ++j) kkt.inequality(i, j) = S(at(problem.normal_jacobian, i, j));
    kkt.offset(i) = S(problem.normal_offset[static_cast<std::size_t>(i)]);
  }
  for (Index k = 0; k < nf; ++k) {
    const Index i = layout.frictional[static_cast<std::size_t>(k)];
    for (Index j = 0; j < n; ++j) {
      const double t = at(problem.tangent_jacobian, i, j);
      kkt.inequality(layout.plus(k), j) = S(t);
      kkt.inequality(layout.minus(k), j) = S(-t);
      if (layout.directions == 4) {
        const double b = at(problem.bitangent_jacobian, i, j);
        kkt.inequality(layout.beta(k, 2), j) = S(b);
        kkt.inequality(layout.beta(k, 3), j) = S(-b);
      }
    }
    kkt.friction(k) = S(problem.friction[static_cast<std::size_t>(i)]);
  }
}

// B z for the friction coupling.
template <class S>
[[nodiscard]] Vec<S> coupling_times(const Layout& layout, const Kkt<S>& kkt, const Vec<S>& z) {
  Vec<S> out = Vec<S>::Zero(layout.pairs());
  for (Index k = 0; k < layout.slots(); ++k) {
    const Index i = layout.frictional[static_cast<std::size_t>(k)];
    out(layout.slip(k)) = kkt.friction(k) * z(i);
    for (Index d = 0; d < layout.directions; ++d) {
      out(layout.beta(k, d)) = z(layout.slip(k));
      out(layout.slip(k)) -= z(layout.beta(k, d));
    }
  }
  return out;
}

// Adds B (or B^T) into the (z, z) block of N, which starts at row and column `at`.
template <class S>
void add_coupling(const Layout& layout, const Kkt<S>& kkt, Mat<S>& n_matrix, Index at,
                  bool transposed) {
  const auto add = [&](Index row, Index col, const S& value) {
    if (transposed) {
      n_matrix(at + col, at + row) += value;
    } else {
      n_matrix(at + row, at + col) += value;
    }
  };
  for (Index k = 0; k < layout.slots(); ++k) {
    const Index i = layout.frictional[static_cast<std::size_t>(k)];
    add(layout.slip(k), i, kkt.friction(k));
    for (Index d = 0; d < layout.directions; ++d) {
      add(layout.beta(k, d), layout.slip(k), S(1.0));
      add(layout.slip(k), layout.beta(k, d), S(-1.0));
    }
  }
}

// An LU factorization with the matrix equilibrated by its diagonal, so that the singularity test
// is not fooled by the huge s/z of inactive contacts.
template <class S>
class EquilibratedLu {
 public:
  // False when the matrix is numerically singular. With `estimate_condition`, singular means a
  // reciprocal condition number (LAPACK's 1-norm estimate, a few extra triangular solves) below
  // 1e-14; without, the cheaper test on the smallest pivot of the equilibrated matrix.
  [[nodiscard]] bool factor(Mat<S> matrix, bool estimate_condition) {
    const Index m = matrix.rows();
    scale_.resize(m);
    for (Index i = 0; i < m; ++i) {
      const double d = std::abs(value_of(matrix(i, i)));
      scale_(i) = d > 0.0 && std::isfinite(d) ? 1.0 / std::sqrt(d) : 1.0;
    }
    for (Index j = 0; j < m; ++j) {
      for (Index i = 0; i < m; ++i) matrix(i, j) *= S(scale_(i) * scale_(j));
    }
    lu_.compute(matrix);
    rcond_ = 1.0;
    if constexpr (std::is_same_v<S, double>) {
      if (m > 0) {
        // The estimate misses exactly zero pivots, so both tests apply.
        const auto pivots = lu_.matrixLU().diagonal().cwiseAbs();
        rcond_ = pivots.minCoeff() / std::max(pivots.maxCoeff(), 1.0);
        if (estimate_condition && rcond_ > kSingular) rcond_ = lu_.rcond();
      }
    }
    return rcond_ > kSingular;
  }
  [[nodiscard]] double rcond() const noexcept { return rcond_; }
  [[nodiscard]] Vec<S> solve(const Vec<S>& rhs, bool transposed) const {
    Vec<S> x = rhs;
    for (Index i = 0; i < rhs.size(); ++i) x(i) *= S(scale_(i));
    x = transposed ? Vec<S>(lu_.transpose().solve(x)) : Vec<S>(lu_.solve(x));
    for (Index i = 0; i < rhs.size(); ++i) x(i) *= S(scale_(i));
    return x;
  }

 private:
  static constexpr double kSingular = 1e-14;
  Eigen::VectorXd scale_;
  Eigen::PartialPivLU<Mat<S>> lu_;
  double rcond_ = 1.0;
};

// The linear systems of the method, for slack ratios W = S Z^-1:
//   M v - G^T y - A^T z = b1,   G v = b2,   A v + (B + W) z = b3            (K, s eliminated)
// and its transpose. Eliminated one of two ways, whichever leaves the smaller dense matrix:
//   dual:   N [y; z] = [b2 - G M^-1 b1;  b3 - A M^-1 b1],  v = M^-1 (b1 + G^T y + A^T z),
//           N = [G; A] M^-1 [G; A]^T + blockdiag(0, B + W)                  size me + p;
//   primal: [M + A^T C A, -G^T; G, 0] [v; y] = [b1 + A^T C b3; b2],  z = C (b3 - A v),
//           C = (B + W)^-1, block diagonal (D + 2 square per contact with friction)  size n + me.
// Few contacts on many bodies (billiards) take the dual form, many contacts on few bodies (stacks)
// the primal one.
template <class S>
class NewtonSystem {
 public:
  NewtonSystem(const Layout& layout, const Kkt<S>& kkt, Reduction reduction)
      : layout_(layout),
        kkt_(kkt),
        primal_(reduction == Reduction::kVelocities ||
                (reduction == Reduction::kAutomatic && layout.velocities < layout.pairs())) {
    inverse_mass_ = kkt.mass.cwiseInverse();
    if (!primal_) {
      const Index me = layout.joints;
      const Index p = layout.pairs();
      Mat<S> h(me + p, layout.velocities);
      h.topRows(me) = kkt.joint;
      h.bottomRows(p) = kkt.inequality;
      const Mat<S> scaled = h * inverse_mass_.asDiagonal();
      gram_ = scaled * h.transpose();
    }
  }

  [[nodiscard]] bool primal() const noexcept { return primal_; }

  // Factors the reduced matrix for the slack ratios `ratio` = s / z. False when singular.
  [[nodiscard]] bool factor(const Vec<S>& ratio, bool estimate_condition) {
    const Index n = layout_.velocities;
    const Index me = layout_.joints;
    const Index p = layout_.pairs();
    if (!primal_) {
      Mat<S> matrix = gram_;
      for (Index i = 0; i < p; ++i) matrix(me + i, me + i) += ratio(i);
      add_coupling(layout_, kkt_, matrix, me, false);
      return lu_.factor(std::move(matrix), estimate_condition);
    }
    invert_blocks(ratio);
    const Mat<S> ca = apply_blocks(kkt_.inequality, false);
    Mat<S> matrix = Mat<S>::Zero(n + me, n + me);
    matrix.topLeftCorner(n, n) = kkt_.inequality.transpose() * ca;
    for (Index j = 0; j < n; ++j) matrix(j, j) += kkt_.mass(j);
    matrix.topRightCorner(n, me) = -kkt_.joint.transpose();
    matrix.bottomLeftCorner(me, n) = kkt_.joint;
    return lu_.factor(std::move(matrix), estimate_condition);
  }
  [[nodiscard]] double rcond() const noexcept { return lu_.rcond(); }

  void solve(const Vec<S>& b1, const Vec<S>& b2, const Vec<S>& b3, Vec<S>& v, Vec<S>& y,
             Vec<S>& z) const {
    const Index n = layout_.velocities;
    const Index me = layout_.joints;
    const Index p = layout_.pairs();
    if (!primal_) {
      const Vec<S> minv_b1 = b1.cwiseProduct(inverse_mass_);
      Vec<S> rhs(me + p);
      rhs.head(me) = b2 - kkt_.joint * minv_b1;
      rhs.tail(p) = b3 - kkt_.inequality * minv_b1;
      const Vec<S> yz = lu_.solve(rhs, false);
      y = yz.head(me);
      z = yz.tail(p);
      v = (b1 + kkt_.joint.transpose() * y + kkt_.inequality.transpose() * z)
              .cwiseProduct(inverse_mass_);
      return;
    }
    Vec<S> rhs(n + me);
    rhs.head(n) = b1 + kkt_.inequality.transpose() * apply_blocks(b3, false);
    rhs.tail(me) = b2;
    const Vec<S> vy = lu_.solve(rhs, false);
    v = vy.head(n);
    y = vy.tail(me);
    z = apply_blocks(Vec<S>(b3 - kkt_.inequality * v), false);
  }

  // The transpose, for the adjoint a of K^T a = (g1, 0, g3, 0):
  //   M a1 + G^T a2 - A^T a3 = g1,   G a1 = 0,   A a1 + (B + W)^T a3 = -g3.
  void solve_transposed(const Vec<S>& g1, const Vec<S>& g3, Vec<S>& a1, Vec<S>& a2,
                        Vec<S>& a3) const {
    const Index n = layout_.velocities;
    const Index me = layout_.joints;
    const Index p = layout_.pairs();
    if (!primal_) {
      // N^T [-a2; a3] = [-G M^-1 g1; -g3 - A M^-1 g1]
      const Vec<S> minv_g1 = g1.cwiseProduct(inverse_mass_);
      Vec<S> rhs(me + p);
      rhs.head(me) = -(kkt_.joint * minv_g1);
      rhs.tail(p) = -g3 - kkt_.inequality * minv_g1;
      const Vec<S> x = lu_.solve(rhs, true);
      a2 = -x.head(me);
      a3 = x.tail(p);
      a1 = (g1 - kkt_.joint.transpose() * a2 + kkt_.inequality.transpose() * a3)
               .cwiseProduct(inverse_mass_);
      return;
    }
    // [M + A^T C^T A, G^T; -G, 0] [a1; a2] = [g1 - A^T C^T g3; 0],  a3 = -C^T (g3 + A a1)
    Vec<S> rhs = Vec<S>::Zero(n + me);
    rhs.head(n) = g1 - kkt_.inequality.transpose() * apply_blocks(g3, true);
    const Vec<S> x = lu_.solve(rhs, true);
    a1 = x.head(n);
    a2 = x.tail(me);
    a3 = -apply_blocks(Vec<S>(g3 + kkt_.inequality * a1), true);
  }

 private:
  // C = (B + W)^-1 per contact: 1 / w for a frictionless one, else the inverse of the block over
  // (lambda_n, beta_1 .. beta_D, gamma), e.g. in 2-D
  //   [w_n 0 0 0;  0 w+ 0 1;  0 0 w- 1;  mu -1 -1 w_gamma].
  void invert_blocks(const Vec<S>& ratio) {
    diagonal_ = ratio.cwiseInverse();
    blocks_.resize(static_cast<std::size_t>(layout_.slots()));
    const Index size = layout_.block_size();
    for (Index k = 0; k < layout_.slots(); ++k) {
      const auto index = block_index(k);
      Block b = Block::Zero(size, size);
      for (Index r = 0; r < size; ++r) b(r, r) = ratio(index[static_cast<std::size_t>(r)]);
      b(size - 1, 0) = kkt_.friction(k);
      for (Index d = 1; d < size - 1; ++d) {
        b(d, size - 1) = S(1.0);
        b(size - 1, d) = S(-1.0);
      }
      if constexpr (std::is_same_v<S, double>) {
        if (size == 4) {
          const Eigen::Matrix4d fixed = b;
          blocks_[static_cast<std::size_t>(k)] = fixed.inverse();
        } else {
          blocks_[static_cast<std::size_t>(k)] = b.partialPivLu().inverse();
        }
      } else {
        // Eigen's closed-form 4 x 4 inverse does not support AutoDiffScalar; LU does.
        blocks_[static_cast<std::size_t>(k)] = Mat<S>(b).partialPivLu().inverse();
      }
    }
  }
  [[nodiscard]] std::array<Index, 6> block_index(Index k) const {
    std::array<Index, 6> index{};
    index[0] = layout_.frictional[static_cast<std::size_t>(k)];
    for (Index d = 0; d < layout_.directions; ++d) {
      index[static_cast<std::size_t>(d + 1)] = layout_.beta(k, d);
    }
    index[static_cast<std::size_t>(layout_.directions + 1)] = layout_.slip(k);
    return index;
  }
  // C x (or C^T x) for the rows of x (a vector or a matrix with p rows).
  template <class Rows>
  [[nodiscard]] Rows apply_blocks(const Rows& x, bool transposed) const {
    Rows out = diagonal_.asDiagonal() * x;  // exact for frictionless contacts
    const Index size = layout_.block_size();
    for (Index k = 0; k < layout_.slots(); ++k) {
      const auto index = block_index(k);
      const Block& b = blocks_[static_cast<std::size_t>(k)];
      for (Index r = 0; r < size; ++r) {
        out.row(index[static_cast<std::size_t>(r)]).setZero();
        for (Index c = 0; c < size; ++c) {
          const S coefficient = transposed ? b(c, r) : b(r, c);
          out.row(index[static_cast<std::size_t>(r)]) +=
              coefficient * x.row(index[static_cast<std::size_t>(c)]);
        }
      }
    }
    return out;
  }

  // One contact's block: 4 x 4 in 2-D, 6 x 6 in 3-D, on the stack.
  using Block = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, 0, 6, 6>;
  const Layout& layout_;
  const Kkt<S>& kkt_;
  bool primal_;
  Vec<S> inverse_mass_;
  Mat<S> gram_;
  Vec<S> diagonal_;
  std::vector<Block> blocks_;
  EquilibratedLu<S> lu_;
};

[[noreturn]] inline void throw_singular(const char* operation, double rcond) {
  throw ValueError(
      std::string(operation) + ": the constraint system is singular (reciprocal condition number " +
      std::to_string(rcond) + "): redundant joints, or a body constrained twice in the same way");
}

template <class S>
struct Direction {
  Vec<S> v, y, z, s;
};

// One Newton direction from the residuals (F1, F2, F3, F4), the system factored at w:
//   b = (-F1, -F2, F3 - F4 / z),   ds = -(F4 + s o dz) / z.
template <class S>
void newton_direction(const NewtonSystem<S>& system, const Iterate<S>& w, const Vec<S>& r1,
                      const Vec<S>& r2, const Vec<S>& r3, const Vec<S>& r4, Direction<S>& d) {
  system.solve(-r1, -r2, Vec<S>(r3 - r4.cwiseQuotient(w.z)), d.v, d.y, d.z);
  d.s = -(r4 + w.s.cwiseProduct(d.z)).cwiseQuotient(w.z);
}

template <class S>
[[nodiscard]] S smaller(const S& a, const S& b) {
  return value_of(b) < value_of(a) ? b : a;
}

// The largest alpha with x + alpha dx >= 0 (infinite when no entry decreases). Branches are taken
// on values, so the unrolled derivative differentiates the step length the forward pass chose.
template <class S>
[[nodiscard]] S max_step(const Vec<S>& x, const Vec<S>& dx) {
  S alpha(std::numeric_limits<double>::infinity());
  for (Index i = 0; i < x.size(); ++i) {
    if (value_of(dx(i)) < 0.0) {
      const S ratio = -x(i) / dx(i);
      if (value_of(ratio) < value_of(alpha)) alpha = ratio;
    }
  }
  return alpha;
}

template <class S>
void residuals(const Layout& layout, const Kkt<S>& kkt, const Iterate<S>& w, Vec<S>& r1, Vec<S>& r2,
               Vec<S>& r3) {
  r1 = kkt.mass.cwiseProduct(w.v) - kkt.joint.transpose() * w.y - kkt.inequality.transpose() * w.z -
       kkt.momentum;
  r2 = kkt.joint * w.v - kkt.joint_target;
  r3 = w.s - kkt.inequality * w.v - coupling_times(layout, kkt, w.z) - kkt.offset;
}

template <class S>
[[nodiscard]] double inf_norm(const Vec<S>& x) {
  double out = 0.0;
  for (Index i = 0; i < x.size(); ++i) out = std::max(out, std::abs(value_of(x(i))));
  return out;
}

// Solves the step problem from a Mehrotra starting point. Throws maya::ConvergenceError when
// the iterations diverge (an infeasible problem) or reach the iteration limit, and
// maya::ValueError for a singular constraint system.
template <class S>
void interior_point(const Layout& layout, const Kkt<S>& kkt, const SolverOptions& options,
                    Iterate<S>& w) {
  constexpr const char* kOperation = "contact solve";
  const Index me = layout.joints;
  const Index p = layout.pairs();
  const S smoothing(options.smoothing);

  NewtonSystem<S> system(layout, kkt, options.reduction);
  // Singular at the start: the constraints are redundant. Singular later: the iterates ran to
  // the boundary of an empty feasible set (z grows while s / z vanishes).
  const auto factor_with = [&](const Vec<S>& ratio, int iteration) {
    if (system.factor(ratio, iteration == 0)) return;
    if (iteration == 0) throw_singular(kOperation, system.rcond());
    throw ConvergenceError(std::string(kOperation) +
                           ": the constraint system became singular at iteration " +
                           std::to_string(iteration) +
                           ": the constraints are infeasible (a joint or a wall holding a body "
                           "inside another?)");
  };

  // Starting point: K with S Z^-1 = I and s = -z (a least-squares guess), then Mehrotra's shift
  // into the interior.
  w.y = Vec<S>::Zero(me);
  w.z = Vec<S>::Zero(p);
  w.s = Vec<S>::Zero(p);
  if (me + p == 0) {
    w.v = kkt.momentum.cwiseQuotient(kkt.mass);
    w.iterations = 0;
    return;
  }
  factor_with(Vec<S>::Ones(p), 0);
  system.solve(kkt.momentum, kkt.joint_target, Vec<S>(-kkt.offset), w.v, w.y, w.z);
  w.s = kkt.inequality * w.v + coupling_times(layout, kkt, w.z) + kkt.offset;
  if (p > 0) {
    double shift_z = 0.0;
    double shift_s = 0.0;
    for (Index i = 0; i < p; ++i) {
      shift_z = std::max(shift_z, -1.5 * value_of(w.z(i)));
      shift_s = std::max(shift_s, -1.5 * value_of(w.s(i)));
    }
    for (Index i = 0; i < p; ++i) {
      w.z(i) += S(shift_z);
      w.s(i) += S(shift_s);
    }
    double dot = 0.0;
    double sum_z = 0.0;
    double sum_s = 0.0;
    for (Index i = 0; i < p; ++i) {
      dot += value_of(w.z(i)) * value_of(w.s(i));
      sum_z += value_of(w.z(i));
      sum_s += value_of(w.s(i));
    }
    const double floor = std::max(std::sqrt(options.smoothing), 1e-8);
    const double extra_z = sum_s > 0.0 ? 0.5 * dot / sum_s : 0.0;
    const double extra_s = sum_z > 0.0 ? 0.5 * dot / sum_z : 0.0;
    for (Index i = 0; i < p; ++i) {
      w.z(i) += S(extra_z);
      w.s(i) += S(extra_s);
      if (value_of(w.z(i)) < floor) w.z(i) = S(floor);
      if (value_of(w.s(i)) < floor) w.s(i) = S(floor);
    }
  }

  const double scale1 = 1.0 + inf_norm(kkt.momentum);
  const double scale2 = 1.0 + inf_norm(kkt.joint_target);
  const double scale3 = 1.0 + inf_norm(kkt.offset);
  constexpr double kFractionToBoundary = 0.99;
  constexpr double kDivergence = 1e14;

  Vec<S> r1, r2, r3, r4;
  Direction<S> affine, d;
  double feasibility = 0.0;
  double centrality = 0.0;
  for (int it = 0; it <= options.max_iterations; ++it) {
    residuals(layout, kkt, w, r1, r2, r3);
    feasibility = std::max({inf_norm(r1) / scale1, inf_norm(r2) / scale2, inf_norm(r3) / scale3});
    centrality = 0.0;
    double gap = 0.0;
    for (Index i = 0; i < p; ++i) {
      const double product = value_of(w.z(i)) * value_of(w.s(i));
      centrality = std::max(centrality, std::abs(product / options.smoothing - 1.0));
      gap += product;
    }
    if (p > 0) gap /= static_cast<double>(p);
    if (!std::isfinite(feasibility) || inf_norm(w.z) > kDivergence * scale1 ||
        inf_norm(w.v) > kDivergence * (scale1 + scale2 + scale3)) {
      throw ConvergenceError(std::string(kOperation) + ": the iterates diverge after " +
                             std::to_string(it) +
                             " iterations: the constraints are infeasible (a joint or a wall "
                             "holding a body inside another?)");
    }
    if (feasibility <= options.tolerance && centrality <= options.tolerance) {
      w.iterations = it;
      return;
    }
    if (it == options.max_iterations) break;

    Vec<S> w_over_z(p);
    for (Index i = 0; i < p; ++i) w_over_z(i) = w.s(i) / w.z(i);
    factor_with(w_over_z, it + 1);

    // Predictor: Newton towards z o s = 0.
    r4 = w.z.cwiseProduct(w.s);
    newton_direction(system, w, r1, r2, r3, r4, affine);
    const S alpha_affine =
        smaller(S(1.0), smaller(max_step(w.z, affine.z), max_step(w.s, affine.s)));
    const S gap_affine =
        (w.z + alpha_affine * affine.z).dot(w.s + alpha_affine * affine.s) / S(double(p));
    const S sigma = gap_affine / S(gap);
    const S target = sigma * sigma * sigma * S(gap);
    if (value_of(target) > options.smoothing) {
      // Corrector with Mehrotra's second-order term, centred at sigma^3 gap.
      r4 = w.z.cwiseProduct(w.s) + affine.z.cwiseProduct(affine.s) - Vec<S>::Constant(p, target);
    } else {
      // Close to the smoothed solution: plain Newton on F4 = z o s - smoothing, which converges
      // quadratically to the point the implicit function theorem differentiates.
      r4 = w.z.cwiseProduct(w.s) - Vec<S>::Constant(p, smoothing);
    }
    newton_direction(system, w, r1, r2, r3, r4, d);
    const S boundary = smaller(max_step(w.z, d.z), max_step(w.s, d.s));
    const S alpha = smaller(S(1.0), S(boundary * S(kFractionToBoundary)));
    w.v += alpha * d.v;
    w.y += alpha * d.y;
    w.z += alpha * d.z;
    w.s += alpha * d.s;
  }
  throw ConvergenceError(
      std::string(kOperation) + ": no convergence in " + std::to_string(options.max_iterations) +
      " iterations (feasibility residual " + std::to_string(feasibility) + ", centrality " +
      std::to_string(centrality) + ", tolerance " + std::to_string(options.tolerance) +
      "); raise max_iterations or the smoothing, or check for infeasible "
      "constraints");
}

}  // namespace maya::contact::detail
