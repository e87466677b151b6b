// The solver's 3-D friction cone (a second tangent direction sharing the slip gamma): Coulomb's
// law along each direction, one impulse budget for both, and the implicit gradient against the
// unrolled solver and central differences, in both reductions.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "maya/contact/solve_op.hpp"
#include "maya/contact/solver.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace {

using maya::contact::ContactProblem;
using maya::contact::Reduction;
using maya::contact::SolverOptions;

// A point mass (3 velocities) on the ground z = 0 with tangents x and y.
ContactProblem point_on_ground(double px, double py, double pz, double mu) {
  ContactProblem p;
  p.num_velocities = 3;
  p.mass = {1.0, 1.0, 1.0};
  p.momentum = {px, py, pz};
  p.normal_jacobian = {0.0, 0.0, 1.0};
  p.normal_offset = {0.0};
  p.tangent_jacobian = {1.0, 0.0, 0.0};
  p.bitangent_jacobian = {0.0, 1.0, 0.0};
  p.friction = {mu};
  return p;
}

TEST(ContactSolver3D, SlidingAlongEitherTangentSaturatesTheCone) {
  for (const Reduction reduction : {Reduction::kImpulses, Reduction::kVelocities}) {
    const SolverOptions options{.smoothing = 1e-12, .reduction = reduction};
    // Along -y: the whole budget mu lambda_n on the bitangent, none on the tangent.
    const auto s = maya::contact::solve(point_on_ground(0.0, -2.0, -0.5, 0.4), options);
    EXPECT_NEAR(s.normal_impulse[0], 0.5, 1e-9);
    EXPECT_NEAR(s.bitangent_impulse[0], 0.2, 1e-9);
    EXPECT_NEAR(s.friction_impulse[0], 0.0, 1e-9);
    EXPECT_NEAR(s.velocity[1], -1.8, 1e-9);
    EXPECT_NEAR(s.slip[0], 1.8, 1e-9);
    // Slow enough to stick in both directions.
    const auto stuck = maya::contact::solve(point_on_ground(0.05, 0.08, -0.5, 0.4), options);
    EXPECT_NEAR(stuck.velocity[0], 0.0, 1e-9);
    EXPECT_NEAR(stuck.velocity[1], 0.0, 1e-9);
    EXPECT_NEAR(stuck.friction_impulse[0], -0.05, 1e-9);
    EXPECT_NEAR(stuck.bitangent_impulse[0], -0.08, 1e-9);
  }
}

TEST(ContactSolver3D, BothDirectionsShareOneBudget) {
  // Slipping diagonally: the four directions share gamma, so |lambda_t| + |lambda_b| = mu
  // lambda_n (the pyramid's face), not mu lambda_n on each axis as two 2-D cones would give.
  const auto s = maya::contact::solve(point_on_ground(2.0, 2.0, -1.0, 0.5), {.smoothing = 1e-12});
  EXPECT_NEAR(std::abs(s.friction_impulse[0]) + std::abs(s.bitangent_impulse[0]), 0.5, 1e-9);
  EXPECT_LT(s.friction_impulse[0], 0.0);
  EXPECT_LT(s.bitangent_impulse[0], 0.0);
}

ContactProblem random_problem_3d(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  ContactProblem p;
  const std::size_t n = 6, nc = 3;
  p.num_velocities = n;
  for (std::size_t j = 0; j < n; ++j) {
    p.mass.push_back(1.0 + 0.5 * unit(rng));
    p.momentum.push_back(unit(rng) - (j == 2 ? 1.0 : 0.0));
  }
  for (std::size_t i = 0; i < nc; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      p.normal_jacobian.push_back((j == 2 ? 1.0 : 0.0) + 0.3 * unit(rng));
      p.tangent_jacobian.push_back((j == 0 ? 1.0 : 0.0) + 0.3 * unit(rng));
      p.bitangent_jacobian.push_back((j == 1 ? 1.0 : 0.0) + 0.3 * unit(rng));
    }
    p.normal_offset.push_back(0.05 * unit(rng));
    p.friction.push_back(0.3 + 0.2 * unit(rng));
  }
  return p;
}

std::vector<std::vector<double>*> fields(ContactProblem& p) {
  return {&p.mass,          &p.momentum,         &p.normal_jacobian,
          &p.normal_offset, &p.tangent_jacobian, &p.bitangent_jacobian,
          &p.friction};
}
std::vector<const std::vector<double>*> fields(const maya::contact::ProblemGradient& g) {
  return {&g.mass,          &g.momentum,         &g.normal_jacobian,
          &g.normal_offset, &g.tangent_jacobian, &g.bitangent_jacobian,
          &g.friction};
}

TEST(ContactSolver3D, ImplicitGradientMatchesUnrolledAndCentralDifferences) {
  const std::vector<double> weights = {0.3, -1.2, 0.7, 0.5, 1.1, -0.4};
  for (unsigned seed = 1; seed <= 3; ++seed) {
    for (const Reduction reduction : {Reduction::kImpulses, Reduction::kVelocities}) {
      ContactProblem p = random_problem_3d(seed);
      const SolverOptions options{.smoothing = 1e-4, .tolerance = 1e-13, .reduction = reduction};
      const auto solution = maya::contact::solve(p, options);
      const auto implicit = maya::contact::differentiate(p, solution, options, weights);
      const auto unrolled = maya::contact::differentiate_unrolled(p, options, weights);
      const auto a = fields(implicit);
      const auto b = fields(unrolled);
      auto perturbed = fields(p);
      const auto loss = [&] {
        const auto s = maya::contact::solve(p, options);
        double total = 0.0;
        for (std::size_t j = 0; j < weights.size(); ++j) total += weights[j] * s.velocity[j];
        return total;
      };
      for (std::size_t f = 0; f < a.size(); ++f) {
        ASSERT_EQ(a[f]->size(), b[f]->size());
        for (std::size_t i = 0; i < a[f]->size(); ++i) {
          const double reference = (*b[f])[i];
          EXPECT_NEAR((*a[f])[i], reference, 1e-7 * std::max(1.0, std::abs(reference)))
              << "seed " << seed << " field " << f << " entry " << i;
          double& entry = (*perturbed[f])[i];
          const double x = entry;
          entry = x + 1e-6;
          const double plus = loss();
          entry = x - 1e-6;
          const double minus = loss();
          entry = x;
          const double numeric = (plus - minus) / 2e-6;
          EXPECT_NEAR((*a[f])[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
              << "seed " << seed << " field " << f << " entry " << i;
        }
      }
    }
  }
}

TEST(ContactSolver3D, ImpulseGradientsReachTheData) {
  // d (lambda_b) / d momentum_y of a sliding contact is -0 (on the cone, lambda_b is mu lambda_n
  // along the slip); d (lambda_b) / d momentum_z = -mu (the normal impulse's share).
  const ContactProblem p = point_on_ground(0.0, -2.0, -0.5, 0.4);
  const SolverOptions options{.smoothing = 1e-12, .tolerance = 1e-12};
  const auto s = maya::contact::solve(p, options);
  const std::vector<double> zero_v(3, 0.0), zero(1, 0.0), one(1, 1.0);
  const auto g = maya::contact::differentiate(p, s, options, zero_v, zero, zero, one);
  EXPECT_NEAR(g.momentum[1], 0.0, 1e-6);
  EXPECT_NEAR(g.momentum[2], -0.4, 1e-6);
  // A 2-D problem has no bitangent impulse to differentiate.
  ContactProblem flat = p;
  flat.bitangent_jacobian.clear();
  const auto s2 = maya::contact::solve(flat, options);
  EXPECT_THROW((void)maya::contact::differentiate(flat, s2, options, zero_v, zero, zero, one),
               maya::ShapeError);
}

TEST(ContactSolver3D, TapeNodeTakesTheBitangentAndMatchesCentralDifferences) {
  const ContactProblem p = random_problem_3d(5);
  const std::size_t n = p.num_velocities, nc = p.num_contacts();
  const std::vector<maya::Tensor> inputs = {maya::Tensor::from_data(p.mass, {n}),
                                            maya::Tensor::from_data(p.momentum, {n}),
                                            maya::Tensor::from_data(p.normal_jacobian, {nc, n}),
                                            maya::Tensor::from_data(p.normal_offset, {nc}),
                                            maya::Tensor::from_data(p.tangent_jacobian, {nc, n}),
                                            maya::Tensor::from_data(p.bitangent_jacobian, {nc, n}),
                                            maya::Tensor::from_data(p.friction, {nc})};
  const auto loss = [n](maya::TensorTape& tape, std::span<const maya::TensorVar> x) {
    maya::contact::ProblemTensors problem;
    problem.mass = x[0];
    problem.momentum = x[1];
    problem.joint_jacobian = tape.constant(maya::Tensor::zeros({0, n}));
    problem.joint_target = tape.constant(maya::Tensor::zeros({0}));
    problem.normal_jacobian = x[2];
    problem.normal_offset = x[3];
    problem.tangent_jacobian = x[4];
    problem.bitangent_jacobian = x[5];
    problem.friction = x[6];
    const maya::TensorVar v =
        maya::contact::solve_velocities(problem, {.smoothing = 1e-4, .tolerance = 1e-13});
    const maya::Tensor w = maya::Tensor::from_data({0.3, -1.0, 0.5, 0.8, 1.2, -0.6}, {6});
    return maya::sum(v * tape.constant(w) + maya::square(v));
  };
  const auto report = maya::gradcheck(loss, inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(report.worst_error[i], 1e-6) << "input " << i;
  }
  // The node's value is the plain solver's.
  maya::TensorTape tape;
  maya::contact::ProblemTensors problem;
  problem.mass = tape.constant(inputs[0]);
  problem.momentum = tape.constant(inputs[1]);
  problem.joint_jacobian = tape.constant(maya::Tensor::zeros({0, n}));
  problem.joint_target = tape.constant(maya::Tensor::zeros({0}));
  problem.normal_jacobian = tape.constant(inputs[2]);
  problem.normal_offset = tape.constant(inputs[3]);
  problem.tangent_jacobian = tape.constant(inputs[4]);
  problem.bitangent_jacobian = tape.constant(inputs[5]);
  problem.friction = tape.constant(inputs[6]);
  const SolverOptions options{.smoothing = 1e-4, .tolerance = 1e-13};
  const maya::TensorVar v = maya::contact::solve_velocities(problem, options);
  const auto plain = maya::contact::solve(p, options);
  for (std::size_t j = 0; j < n; ++j) EXPECT_EQ(tape.view(v).values[j], plain.velocity[j]);
}

}  // namespace

namespace {

// A box on four corners (redundant normal rows: the split of the load is the barrier's), sliding
// and spinning: v = (vx vy vz wx wy wz), corners at (+-a, +-a, -h) from the centre.
ContactProblem box_on_corners() {
  ContactProblem p;
  p.num_velocities = 6;
  p.mass = {1.0, 1.0, 1.0, 0.0042, 0.0042, 0.0067};
  p.momentum = {0.3, -0.2, -0.0098, 0.0001, -0.0002, 0.00005};
  const double a = 0.1, h = 0.05;
  const double corners[4][2] = {{a, a}, {a, -a}, {-a, a}, {-a, -a}};
  for (const auto& c : corners) {
    const double r[3] = {c[0], c[1], -h};
    // velocity of the corner = v + w x r; rows for the directions z, x, y.
    const auto row = [&](int axis) {
      std::vector<double> out(6, 0.0);
      out[static_cast<std::size_t>(axis)] = 1.0;
      // (w x r)_axis = sum_k w_k (e_k x r)_axis
      const double cross[3][3] = {{0.0, -r[2], r[1]}, {r[2], 0.0, -r[0]}, {-r[1], r[0], 0.0}};
      for (int k = 0; k < 3; ++k) out[static_cast<std::size_t>(3 + k)] = cross[axis][k];
      return out;
    };
    const auto z = row(2), x = row(0), y = row(1);
    p.normal_jacobian.insert(p.normal_jacobian.end(), z.begin(), z.end());
    p.tangent_jacobian.insert(p.tangent_jacobian.end(), x.begin(), x.end());
    p.bitangent_jacobian.insert(p.bitangent_jacobian.end(), y.begin(), y.end());
    p.normal_offset.push_back(1e-9);
    p.friction.push_back(0.3);
  }
  return p;
}

}  // namespace

TEST(ContactSolver3D, RedundantCornersGradientMatchesCentralDifferences) {
  ContactProblem p = box_on_corners();
  const SolverOptions options{.smoothing = 1e-8, .tolerance = 1e-12};
  const std::vector<double> weights = {0.3, -1.2, 0.7, 0.5, 1.1, -0.4};
  const auto solution = maya::contact::solve(p, options);
  const auto g = maya::contact::differentiate(p, solution, options, weights);
  const auto unrolled = maya::contact::differentiate_unrolled(p, options, weights);
  const auto loss = [&] {
    const auto s = maya::contact::solve(p, options);
    double total = 0.0;
    for (std::size_t j = 0; j < weights.size(); ++j) total += weights[j] * s.velocity[j];
    return total;
  };
  for (std::size_t i = 0; i < 4; ++i) {
    double& entry = p.normal_offset[i];
    const double x = entry;
    // A step well below the barrier's scale smoothing / lambda (~4e-6 m/s): the load's split
    // between redundant corners is curved on that scale.
    entry = x + 1e-9;
    const double plus = loss();
    entry = x - 1e-9;
    const double minus = loss();
    entry = x;
    const double numeric = (plus - minus) / 2e-9;
    EXPECT_NEAR(g.normal_offset[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << i;
    EXPECT_NEAR(g.normal_offset[i], unrolled.normal_offset[i], 1e-9 * std::abs(numeric)) << i;
  }
}
