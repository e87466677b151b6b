// The primal-dual interior-point method for one step's mixed LCP, written once over the scalar
// type: double for the solver, Eigen's AutoDiffScalar for the unrolled reference derivative.
// Private to src/contact (Eigen never reaches a public header).
//
// Unknowns w = (v, y, z, s): velocities, joint impulses, and p complementarity pairs z_i s_i.
//   F1 = M v - G^T y - A^T z - q = 0          Newton-Euler with impulses
//   F2 = G v - g = 0                          joints
//   F3 = s - A v - B z - c = 0                slacks of the inequalities
//   F4 = z o s - smoothing = 0,  z, s > 0     relaxed complementarity
// z = (lambda_n [nc], beta+ [nf], beta- [nf], gamma [nf]) over the nf contacts with friction, and
// A = [J_n; J_t; -J_t; 0], c = [b_n; 0; 0; 0], and B couples the friction rows (Anitescu-Potra):
//   s_beta+ = J_t v + gamma,  s_beta- = -J_t v + gamma,  s_gamma = mu lambda_n - beta+ - beta-.
// Eliminating s and v (M is diagonal) leaves one dense system in (y, z) of size me + p,
//   N = H M^-1 H^T + blockdiag(0, B + S Z^-1),   H = [G; A],
// factored by LU once per iteration and used twice (Mehrotra predictor and corrector).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
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
  std::vector<Index> frictional;  // the contact of each friction slot (friction > 0)

  [[nodiscard]] Index slots() const noexcept { return static_cast<Index>(frictional.size()); }
  [[nodiscard]] Index pairs() const noexcept { return contacts + 3 * slots(); }
  [[nodiscard]] Index plus(Index k) const noexcept { return contacts + k; }
  [[nodiscard]] Index minus(Index k) const noexcept { return contacts + slots() + k; }
  [[nodiscard]] Index slip(Index k) const noexcept { return contacts + 2 * slots() + k; }
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
    out(layout.plus(k)) = z(layout.slip(k));
    out(layout.minus(k)) = z(layout.slip(k));
    out(layout.slip(k)) = kkt.friction(k) * z(i) - z(layout.plus(k)) - z(layout.minus(k));
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
    add(layout.plus(k), layout.slip(k), S(1.0));
    add(layout.minus(k), layout.slip(k), S(1.0));
    add(layout.slip(k), i, kkt.friction(k));
    add(layout.slip(k), layout.plus(k), S(-1.0));
    add(layout.slip(k), layout.minus(k), S(-1.0));
  }
}

// H M^-1 H^T with H = [G; A]: the part of N that does not change between iterations.
template <class S>
[[nodiscard]] Mat<S> constraint_gram(const Kkt<S>& kkt) {
  const Index me = kkt.joint.rows();
  const Index p = kkt.inequality.rows();
  const Index n = kkt.mass.size();
  Mat<S> h(me + p, n);
  h.topRows(me) = kkt.joint;
  h.bottomRows(p) = kkt.inequality;
  const Vec<S> inverse_mass = kkt.mass.cwiseInverse();
  const Mat<S> scaled = h * inverse_mass.asDiagonal();
  return scaled * h.transpose();
}

// An LU factorization of N, equilibrated by its diagonal so that the singularity test is not
// fooled by the huge s/z of inactive contacts.
template <class S>
class ReducedSystem {
 public:
  // False when N is numerically singular. With `estimate_condition`, singular means a
  // reciprocal condition number (LAPACK's 1-norm estimate, a few extra triangular solves) below
  // 1e-14; without, the cheaper test on the smallest pivot of the equilibrated matrix.
  [[nodiscard]] bool factor(Mat<S> n_matrix, bool estimate_condition) {
    const Index m = n_matrix.rows();
    scale_.resize(m);
    for (Index i = 0; i < m; ++i) {
      const double d = std::abs(value_of(n_matrix(i, i)));
      scale_(i) = d > 0.0 && std::isfinite(d) ? 1.0 / std::sqrt(d) : 1.0;
    }
    for (Index j = 0; j < m; ++j) {
      for (Index i = 0; i < m; ++i) n_matrix(i, j) *= S(scale_(i) * scale_(j));
    }
    lu_.compute(n_matrix);
    rcond_ = 1.0;
    if constexpr (std::is_same_v<S, double>) {
      if (m > 0 && estimate_condition) {
        rcond_ = lu_.rcond();
      } else if (m > 0) {
        const auto pivots = lu_.matrixLU().diagonal().cwiseAbs();
        rcond_ = pivots.minCoeff() / std::max(pivots.maxCoeff(), 1.0);
      }
    }
    return rcond_ > kSingular;
  }
  [[nodiscard]] double rcond() const noexcept { return rcond_; }
  [[nodiscard]] Vec<S> solve(const Vec<S>& rhs) const {
    Vec<S> scaled_rhs = rhs;
    for (Index i = 0; i < rhs.size(); ++i) scaled_rhs(i) *= S(scale_(i));
    Vec<S> x = lu_.solve(scaled_rhs);
    for (Index i = 0; i < rhs.size(); ++i) x(i) *= S(scale_(i));
    return x;
  }
  [[nodiscard]] Vec<S> solve_transposed(const Vec<S>& rhs) const {
    Vec<S> scaled_rhs = rhs;
    for (Index i = 0; i < rhs.size(); ++i) scaled_rhs(i) *= S(scale_(i));
    Vec<S> x = lu_.transpose().solve(scaled_rhs);
    for (Index i = 0; i < rhs.size(); ++i) x(i) *= S(scale_(i));
    return x;
  }

 private:
  static constexpr double kSingular = 1e-14;
  Eigen::VectorXd scale_;
  Eigen::PartialPivLU<Mat<S>> lu_;
  double rcond_ = 1.0;
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

// One Newton direction from the residuals (F1, F2, F3, F4) with N already factored:
//   N [dy; dz] = [-F2 + G M^-1 F1;  F3 - F4 / z + A M^-1 F1]
//   dv = M^-1 (-F1 + G^T dy + A^T dz),   ds = -(F4 + s o dz) / z.
template <class S>
void newton_direction(const Kkt<S>& kkt, const ReducedSystem<S>& system, const Iterate<S>& w,
                      const Vec<S>& r1, const Vec<S>& r2, const Vec<S>& r3, const Vec<S>& r4,
                      Direction<S>& d) {
  const Index me = kkt.joint.rows();
  const Index p = kkt.inequality.rows();
  const Vec<S> minv_r1 = r1.cwiseQuotient(kkt.mass);
  Vec<S> rhs(me + p);
  rhs.head(me) = -r2 + kkt.joint * minv_r1;
  rhs.tail(p) = r3 - r4.cwiseQuotient(w.z) + kkt.inequality * minv_r1;
  const Vec<S> yz = system.solve(rhs);
  d.y = yz.head(me);
  d.z = yz.tail(p);
  d.v = (-r1 + kkt.joint.transpose() * d.y + kkt.inequality.transpose() * d.z)
            .cwiseQuotient(kkt.mass);
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

  const Mat<S> gram = constraint_gram(kkt);
  ReducedSystem<S> system;
  Mat<S> n_matrix;
  // Singular at the start: the constraints are redundant. Singular later: the iterates ran to
  // the boundary of an empty feasible set (z grows while s / z vanishes).
  const auto factor_with = [&](const Vec<S>& diagonal, int iteration) {
    n_matrix = gram;
    for (Index i = 0; i < p; ++i) n_matrix(me + i, me + i) += diagonal(i);
    add_coupling(layout, kkt, n_matrix, me, false);
    if (system.factor(std::move(n_matrix), iteration == 0)) return;
    if (iteration == 0) throw_singular(kOperation, system.rcond());
    throw ConvergenceError(std::string(kOperation) +
                           ": the constraint system became singular at "
                           "iteration " +
                           std::to_string(iteration) +
                           ": the constraints are infeasible (a joint or a wall holding a body "
                           "inside another?)");
  };

  // Starting point: the Newton system with S Z^-1 = I and s = -z (a least-squares guess), then
  // Mehrotra's shift into the interior.
  w.y = Vec<S>::Zero(me);
  w.z = Vec<S>::Zero(p);
  w.s = Vec<S>::Zero(p);
  if (me + p == 0) {
    w.v = kkt.momentum.cwiseQuotient(kkt.mass);
    w.iterations = 0;
    return;
  }
  factor_with(Vec<S>::Ones(p), 0);
  {
    const Vec<S> minv_q = kkt.momentum.cwiseQuotient(kkt.mass);
    Vec<S> rhs(me + p);
    rhs.head(me) = kkt.joint_target - kkt.joint * minv_q;
    rhs.tail(p) = -kkt.offset - kkt.inequality * minv_q;
    const Vec<S> yz = system.solve(rhs);
    w.y = yz.head(me);
    w.z = yz.tail(p);
    w.v = (kkt.momentum + kkt.joint.transpose() * w.y + kkt.inequality.transpose() * w.z)
              .cwiseQuotient(kkt.mass);
    w.s = kkt.inequality * w.v + coupling_times(layout, kkt, w.z) + kkt.offset;
  }
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
    newton_direction(kkt, system, w, r1, r2, r3, r4, affine);
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
    newton_direction(kkt, system, w, r1, r2, r3, r4, d);
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
