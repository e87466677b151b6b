#include "maya/contact/solver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "maya/core/error.hpp"

namespace {

using maya::contact::ContactProblem;
using maya::contact::ContactSolution;
using maya::contact::Reduction;
using maya::contact::SolverOptions;

constexpr Reduction kReductions[] = {Reduction::kImpulses, Reduction::kVelocities};

// Row of a 2-D contact on body `b` (of `num_bodies`): [d, r x d] with r the lever arm.
void add_row(std::vector<double>& rows, std::size_t num_bodies, std::size_t b, double dx, double dy,
             double rx, double ry) {
  const std::size_t start = rows.size();
  rows.resize(start + 3 * num_bodies, 0.0);
  rows[start + 3 * b] = dx;
  rows[start + 3 * b + 1] = dy;
  rows[start + 3 * b + 2] = rx * dy - ry * dx;
}

// A random step problem: bodies pressed onto random planes at random lever arms.
ContactProblem random_problem(std::size_t num_bodies, std::size_t num_contacts, unsigned seed,
                              bool with_friction) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  ContactProblem p;
  p.num_velocities = 3 * num_bodies;
  for (std::size_t b = 0; b < num_bodies; ++b) {
    const double m = 1.0 + 0.5 * u(rng);
    const double inertia = 0.1 * m * (1.0 + 0.5 * u(rng));
    const double px = m * u(rng);
    const double py = m * (u(rng) - 1.0);
    const double spin = 0.1 * u(rng);
    for (const double value : {m, m, inertia}) p.mass.push_back(value);
    for (const double value : {px, py, spin}) p.momentum.push_back(value);
  }
  for (std::size_t i = 0; i < num_contacts; ++i) {
    const std::size_t b = i % num_bodies;
    const double angle = 1.5707963 + 0.6 * u(rng);
    const double nx = std::cos(angle);
    const double ny = std::sin(angle);
    const double rx = 0.5 * u(rng);
    const double ry = -0.3 + 0.1 * u(rng);
    add_row(p.normal_jacobian, num_bodies, b, nx, ny, rx, ry);
    add_row(p.tangent_jacobian, num_bodies, b, -ny, nx, rx, ry);
    p.normal_offset.push_back(0.3 * u(rng));
    p.friction.push_back(with_friction ? 0.5 + 0.3 * u(rng) : 0.0);
  }
  return p;
}

// Dense Gaussian elimination with partial pivoting: the brute-force reference's only algebra.
bool gauss_solve(std::vector<double> a, std::vector<double> b, std::vector<double>& x) {
  const std::size_t n = b.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r) {
      if (std::abs(a[r * n + c]) > std::abs(a[pivot * n + c])) pivot = r;
    }
    if (std::abs(a[pivot * n + c]) < 1e-12) return false;
    for (std::size_t k = 0; k < n; ++k) std::swap(a[c * n + k], a[pivot * n + k]);
    std::swap(b[c], b[pivot]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      for (std::size_t k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  x.assign(n, 0.0);
  for (std::size_t c = n; c-- > 0;) {
    double sum = b[c];
    for (std::size_t k = c + 1; k < n; ++k) sum -= a[c * n + k] * x[k];
    x[c] = sum / a[c * n + c];
  }
  return true;
}

// Every solution of the exact mixed LCP, by enumerating which side of each complementarity
// pair is zero: unknowns (v, y, z, s) with z = (lambda_n, beta+, beta-, gamma) as solver.hpp
// documents. Returns the velocities of the solutions.
std::vector<std::vector<double>> enumerate_lcp(const ContactProblem& p) {
  const std::size_t n = p.num_velocities;
  const std::size_t me = p.num_joint_rows();
  const std::size_t nc = p.num_contacts();
  std::vector<std::size_t> frictional;
  for (std::size_t i = 0; i < nc; ++i) {
    if (p.friction[i] > 0.0) frictional.push_back(i);
  }
  const std::size_t nf = frictional.size();
  const std::size_t pairs = nc + 3 * nf;
  // Inequality rows A (pairs x n), coupling B (pairs x pairs), offset c.
  std::vector<double> a(pairs * n, 0.0), b(pairs * pairs, 0.0), c(pairs, 0.0);
  for (std::size_t i = 0; i < nc; ++i) {
    for (std::size_t j = 0; j < n; ++j) a[i * n + j] = p.normal_jacobian[i * n + j];
    c[i] = p.normal_offset[i];
  }
  for (std::size_t k = 0; k < nf; ++k) {
    const std::size_t i = frictional[k];
    const std::size_t plus = nc + k, minus = nc + nf + k, slip = nc + 2 * nf + k;
    for (std::size_t j = 0; j < n; ++j) {
      a[plus * n + j] = p.tangent_jacobian[i * n + j];
      a[minus * n + j] = -p.tangent_jacobian[i * n + j];
    }
    b[plus * pairs + slip] = 1.0;
    b[minus * pairs + slip] = 1.0;
    b[slip * pairs + i] = p.friction[i];
    b[slip * pairs + plus] = -1.0;
    b[slip * pairs + minus] = -1.0;
  }
  const std::size_t size = n + me + 2 * pairs;
  std::vector<std::vector<double>> solutions;
  for (std::size_t mask = 0; mask < (std::size_t{1} << pairs); ++mask) {
    std::vector<double> k(size * size, 0.0), rhs(size, 0.0);
    std::size_t row = 0;
    const std::size_t yv = n, zv = n + me, sv = n + me + pairs;
    for (std::size_t j = 0; j < n; ++j, ++row) {  // M v - G^T y - A^T z = q
      k[row * size + j] = p.mass[j];
      for (std::size_t r = 0; r < me; ++r) k[row * size + yv + r] = -p.joint_jacobian[r * n + j];
      for (std::size_t i = 0; i < pairs; ++i) k[row * size + zv + i] = -a[i * n + j];
      rhs[row] = p.momentum[j];
    }
    for (std::size_t r = 0; r < me; ++r, ++row) {  // G v = g
      for (std::size_t j = 0; j < n; ++j) k[row * size + j] = p.joint_jacobian[r * n + j];
      rhs[row] = p.joint_target[r];
    }
    for (std::size_t i = 0; i < pairs; ++i, ++row) {  // s - A v - B z = c
      k[row * size + sv + i] = 1.0;
      for (std::size_t j = 0; j < n; ++j) k[row * size + j] = -a[i * n + j];
      for (std::size_t l = 0; l < pairs; ++l) k[row * size + zv + l] = -b[i * pairs + l];
      rhs[row] = c[i];
    }
    for (std::size_t i = 0; i < pairs; ++i, ++row) {  // z_i = 0 or s_i = 0
      k[row * size + ((mask >> i) & 1 ? sv : zv) + i] = 1.0;
    }
    std::vector<double> x;
    if (!gauss_solve(k, rhs, x)) continue;
    bool feasible = true;
    for (std::size_t i = 0; i < pairs; ++i) {
      feasible = feasible && x[zv + i] >= -1e-9 && x[sv + i] >= -1e-9;
    }
    if (feasible) solutions.emplace_back(x.begin(), x.begin() + static_cast<long>(n));
  }
  return solutions;
}

double distance_to_nearest(const std::vector<double>& v,
                           const std::vector<std::vector<double>>& candidates) {
  double best = INFINITY;
  for (const auto& c : candidates) {
    double d = 0.0;
    for (std::size_t j = 0; j < v.size(); ++j) d = std::max(d, std::abs(v[j] - c[j]));
    best = std::min(best, d);
  }
  return best;
}

double loss_of(const ContactProblem& p, const SolverOptions& options,
               const std::vector<double>& weights) {
  const ContactSolution s = maya::contact::solve(p, options);
  double total = 0.0;
  for (std::size_t j = 0; j < weights.size(); ++j) total += weights[j] * s.velocity[j];
  return total;
}

// Every data field of a problem, to perturb one entry at a time.
std::vector<std::vector<double>*> fields(ContactProblem& p) {
  return {
      &p.mass,          &p.momentum,         &p.joint_jacobian, &p.joint_target, &p.normal_jacobian,
      &p.normal_offset, &p.tangent_jacobian, &p.friction};
}
std::vector<const std::vector<double>*> fields(const maya::contact::ProblemGradient& g) {
  return {
      &g.mass,          &g.momentum,         &g.joint_jacobian, &g.joint_target, &g.normal_jacobian,
      &g.normal_offset, &g.tangent_jacobian, &g.friction};
}

}  // namespace

TEST(ContactSolver, FallingBodyStopsOnTheGround) {
  ContactProblem p;
  p.num_velocities = 3;
  p.mass = {2.0, 2.0, 0.2};
  p.momentum = {0.0, 2.0 * (-1.0 - 0.098), 0.0};
  p.normal_jacobian = {0.0, 1.0, 0.0};
  p.normal_offset = {0.0};
  p.tangent_jacobian = {1.0, 0.0, 0.0};
  p.friction = {0.0};
  const auto s = maya::contact::solve(p, {.smoothing = 1e-12});
  EXPECT_NEAR(s.velocity[1], 0.0, 1e-10);
  EXPECT_NEAR(s.normal_impulse[0], 2.196, 1e-9);
  EXPECT_LT(s.iterations, 30);
}

TEST(ContactSolver, ConvergesToTheExactLcpAsSmoothingVanishes) {
  for (const bool friction : {false, true}) {
    for (unsigned seed = 1; seed <= 12; ++seed) {
      const ContactProblem p = random_problem(2, friction ? 2 : 3, seed, friction);
      const auto exact = enumerate_lcp(p);
      ASSERT_FALSE(exact.empty()) << "seed " << seed;
      for (const Reduction reduction : kReductions) {
        double previous = INFINITY;
        for (const double smoothing : {1e-4, 1e-7, 1e-10}) {
          const auto s = maya::contact::solve(p, {.smoothing = smoothing, .reduction = reduction});
          const double distance = distance_to_nearest(s.velocity, exact);
          EXPECT_LE(distance, std::max(100.0 * smoothing, 1e-8))
              << "seed " << seed << " friction " << friction << " smoothing " << smoothing;
          EXPECT_LE(distance, previous + 1e-12);
          previous = distance;
        }
      }
    }
  }
}

TEST(ContactSolver, SlidingFrictionSaturatesTheCone) {
  // A body sliding along the ground: friction removes at most mu lambda_n of tangential momentum.
  ContactProblem p;
  p.num_velocities = 3;
  p.mass = {1.0, 1.0, 0.1};
  p.momentum = {2.0, -0.5, 0.0};
  p.normal_jacobian = {0.0, 1.0, 0.0};
  p.normal_offset = {0.0};
  p.tangent_jacobian = {1.0, 0.0, 0.0};
  p.friction = {0.4};
  const auto s = maya::contact::solve(p, {.smoothing = 1e-12});
  EXPECT_NEAR(s.normal_impulse[0], 0.5, 1e-9);
  EXPECT_NEAR(s.friction_impulse[0], -0.2, 1e-9);
  EXPECT_NEAR(s.velocity[0], 1.8, 1e-9);
  EXPECT_NEAR(s.slip[0], 1.8, 1e-9);
  // Slow enough to stick: the tangential velocity is removed entirely.
  p.momentum = {0.1, -0.5, 0.0};
  const auto stuck = maya::contact::solve(p, {.smoothing = 1e-12});
  EXPECT_NEAR(stuck.velocity[0], 0.0, 1e-9);
  EXPECT_NEAR(stuck.friction_impulse[0], -0.1, 1e-9);
}

TEST(ContactSolver, ImplicitGradientMatchesCentralDifferences) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    ContactProblem p = random_problem(2, 3, 100 + seed, true);
    // A pin joint row on body 1 as well.
    p.joint_jacobian.assign(6, 0.0);
    p.joint_jacobian[3] = 1.0;
    p.joint_jacobian[5] = 0.2;
    p.joint_target = {0.1};
    const SolverOptions options{
        .smoothing = 1e-3,
        .tolerance = 1e-13,
        .reduction = seed % 2 == 0 ? Reduction::kImpulses : Reduction::kVelocities};
    std::vector<double> weights = {0.3, -1.2, 0.7, 0.5, 1.1, -0.4};
    const auto solution = maya::contact::solve(p, options);
    const auto g = maya::contact::differentiate(p, solution, options, weights);
    const auto analytic = fields(g);
    auto perturbed = fields(p);
    constexpr double kStep = 1e-6;
    for (std::size_t f = 0; f < perturbed.size(); ++f) {
      for (std::size_t i = 0; i < perturbed[f]->size(); ++i) {
        double& entry = (*perturbed[f])[i];
        const double x = entry;
        entry = x + kStep;
        const double plus = loss_of(p, options, weights);
        entry = x - kStep;
        const double minus = loss_of(p, options, weights);
        entry = x;
        const double numeric = (plus - minus) / (2.0 * kStep);
        EXPECT_NEAR((*analytic[f])[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
            << "seed " << seed << " field " << f << " entry " << i;
      }
    }
  }
}

TEST(ContactSolver, ImplicitGradientMatchesTheUnrolledSolver) {
  for (const Reduction reduction : kReductions) {
    ContactProblem p = random_problem(2, 2, 7, true);
    p.joint_jacobian = {0.0, 0.0, 0.0, 1.0, 0.3, 0.0};
    p.joint_target = {-0.2};
    const SolverOptions options{.smoothing = 1e-4, .tolerance = 1e-13, .reduction = reduction};
    const std::vector<double> weights = {1.0, 0.5, -0.3, 0.2, -0.7, 0.9};
    const auto solution = maya::contact::solve(p, options);
    const auto implicit = maya::contact::differentiate(p, solution, options, weights);
    const auto unrolled = maya::contact::differentiate_unrolled(p, options, weights);
    const auto a = fields(implicit);
    const auto b = fields(unrolled);
    for (std::size_t f = 0; f < a.size(); ++f) {
      ASSERT_EQ(a[f]->size(), b[f]->size());
      for (std::size_t i = 0; i < a[f]->size(); ++i) {
        EXPECT_NEAR((*a[f])[i], (*b[f])[i], 1e-7 * std::max(1.0, std::abs((*b[f])[i])))
            << "field " << f << " entry " << i;
      }
    }
  }
}

TEST(ContactSolver, BothReductionsGiveTheSameSolutionAndGradient) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    ContactProblem p = random_problem(3, 1 + seed % 4, 40 + seed, seed % 3 != 0);
    p.joint_jacobian.assign(9, 0.0);
    p.joint_jacobian[0] = 1.0;
    p.joint_jacobian[2] = 0.1;
    p.joint_jacobian[3] = -1.0;
    p.joint_jacobian[5] = 0.2;
    p.joint_target = {0.05};
    const std::vector<double> weights = {0.3, -1.2, 0.7, 0.5, 1.1, -0.4, 0.2, 0.9, -0.8};
    maya::contact::ContactSolution s[2];
    maya::contact::ProblemGradient g[2];
    for (int r = 0; r < 2; ++r) {
      const SolverOptions options{
          .smoothing = 1e-6, .tolerance = 1e-12, .reduction = kReductions[r]};
      s[r] = maya::contact::solve(p, options);
      g[r] = maya::contact::differentiate(p, s[r], options, weights);
    }
    for (std::size_t j = 0; j < 9; ++j) {
      EXPECT_NEAR(s[0].velocity[j], s[1].velocity[j], 1e-9) << "seed " << seed;
    }
    const auto a = fields(g[0]);
    const auto b = fields(g[1]);
    for (std::size_t f = 0; f < a.size(); ++f) {
      for (std::size_t i = 0; i < a[f]->size(); ++i) {
        EXPECT_NEAR((*a[f])[i], (*b[f])[i], 1e-6 * std::max(1.0, std::abs((*b[f])[i])))
            << "seed " << seed << " field " << f << " entry " << i;
      }
    }
  }
}

TEST(ContactSolver, RedundantJointsAreASingularSystem) {
  ContactProblem p;
  p.num_velocities = 3;
  p.mass = {1.0, 1.0, 0.1};
  p.momentum = {0.0, -1.0, 0.0};
  p.joint_jacobian = {1.0, 0.0, 0.0, 2.0, 0.0, 0.0};  // the same row twice
  p.joint_target = {0.0, 0.0};
  for (const Reduction reduction : kReductions) {
    EXPECT_THROW((void)maya::contact::solve(p, {.reduction = reduction}), maya::ValueError);
  }
}

TEST(ContactSolver, InfeasibleConstraintsReportConvergenceError) {
  // A joint holds the body still while a contact demands that it separate.
  ContactProblem p;
  p.num_velocities = 3;
  p.mass = {1.0, 1.0, 0.1};
  p.momentum = {0.0, -1.0, 0.0};
  p.joint_jacobian = {0.0, 1.0, 0.0};
  p.joint_target = {0.0};
  p.normal_jacobian = {0.0, 1.0, 0.0};
  p.normal_offset = {-1.0};
  p.tangent_jacobian = {1.0, 0.0, 0.0};
  p.friction = {0.0};
  for (const Reduction reduction : kReductions) {
    EXPECT_THROW((void)maya::contact::solve(p, {.reduction = reduction}), maya::ConvergenceError);
  }
}

TEST(ContactSolver, TooFewIterationsReportConvergenceError) {
  const ContactProblem p = random_problem(2, 3, 3, true);
  EXPECT_THROW((void)maya::contact::solve(p, {.max_iterations = 2}), maya::ConvergenceError);
}

TEST(ContactSolver, BadInputsAreNamed) {
  ContactProblem p = random_problem(1, 1, 1, true);
  p.mass[2] = 0.0;
  EXPECT_THROW((void)maya::contact::solve(p), maya::ValueError);
  p = random_problem(1, 1, 1, true);
  p.normal_offset.push_back(0.0);
  EXPECT_THROW((void)maya::contact::solve(p), maya::ShapeError);
  p = random_problem(1, 1, 1, true);
  p.friction[0] = -0.1;
  EXPECT_THROW((void)maya::contact::solve(p), maya::ValueError);
  p = random_problem(1, 1, 1, true);
  p.momentum[0] = NAN;
  EXPECT_THROW((void)maya::contact::solve(p), maya::ValueError);
  p = random_problem(1, 1, 1, true);
  EXPECT_THROW((void)maya::contact::solve(p, {.smoothing = 0.0}), maya::ValueError);
}
