#include "maya/contact/solve_op.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "maya/core/error.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::contact::ProblemTensors;

// Two bodies (n = 6): one pinned in x by a joint row, both pressed onto the ground at two lever
// arms, with friction.
std::vector<Tensor> problem_inputs(bool with_joint) {
  const std::size_t me = with_joint ? 1 : 0;
  std::vector<double> joint;
  if (with_joint) joint = {0.0, 0.0, 0.0, 1.0, 0.0, -0.1};
  return {Tensor::from_data({1.0, 1.0, 0.2, 1.5, 1.5, 0.3}, {6}),
          Tensor::from_data({0.4, -1.2, 0.05, -0.3, -0.8, 0.02}, {6}),
          Tensor::from_data(joint, {me, 6}),
          Tensor::from_data(with_joint ? std::vector<double>{0.05} : std::vector<double>{}, {me}),
          Tensor::from_data({0.0, 1.0, -0.2, 0.0, 0.0, 0.0,  //
                             0.0, 1.0, 0.25, 0.0, 0.0, 0.0,  //
                             0.1, 0.99, 0.0, 0.0, 0.0, 0.3},
                            {3, 6}),
          Tensor::from_data({0.02, -0.01, 0.03}, {3}),
          Tensor::from_data({1.0, 0.0, 0.1, 0.0, 0.0, 0.0,  //
                             1.0, 0.0, 0.1, 0.0, 0.0, 0.0,  //
                             0.99, -0.1, 0.0, 0.0, 0.0, -0.2},
                            {3, 6}),
          Tensor::from_data({0.5, 0.6, 0.3}, {3})};
}

TensorVar weighted_velocity(TensorTape& tape, std::span<const TensorVar> x) {
  const ProblemTensors p{x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]};
  const TensorVar v = maya::contact::solve_velocities(p, {.smoothing = 1e-3, .tolerance = 1e-13});
  const Tensor w = Tensor::from_data({0.3, -1.0, 0.5, 0.8, 1.2, -0.6}, {6});
  return maya::sum(v * tape.constant(w) + maya::square(v));
}

}  // namespace

TEST(SolveVelocities, GradientMatchesCentralDifferences) {
  for (const bool joint : {false, true}) {
    const std::vector<Tensor> inputs = problem_inputs(joint);
    const auto report = maya::gradcheck(weighted_velocity, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      EXPECT_LT(report.worst_error[i], 1e-6) << "input " << i << " joint " << joint;
    }
  }
}

TEST(SolveVelocities, MatchesThePlainSolver) {
  const std::vector<Tensor> in = problem_inputs(true);
  TensorTape tape;
  ProblemTensors p{};
  TensorVar* fields[] = {
      &p.mass,          &p.momentum,         &p.joint_jacobian, &p.joint_target, &p.normal_jacobian,
      &p.normal_offset, &p.tangent_jacobian, &p.friction};
  for (std::size_t i = 0; i < 8; ++i) *fields[i] = tape.constant(in[i]);
  const TensorVar v = maya::contact::solve_velocities(p);
  maya::contact::ContactProblem plain;
  plain.num_velocities = 6;
  std::vector<double>* parts[] = {&plain.mass,
                                  &plain.momentum,
                                  &plain.joint_jacobian,
                                  &plain.joint_target,
                                  &plain.normal_jacobian,
                                  &plain.normal_offset,
                                  &plain.tangent_jacobian,
                                  &plain.friction};
  for (std::size_t i = 0; i < 8; ++i) parts[i]->assign(in[i].data().begin(), in[i].data().end());
  const auto solution = maya::contact::solve(plain);
  for (std::size_t j = 0; j < 6; ++j) EXPECT_DOUBLE_EQ(v.view()[j], solution.velocity[j]);
}

TEST(SolveVelocities, InconsistentShapesAreNamed) {
  std::vector<Tensor> in = problem_inputs(false);
  in[5] = Tensor::zeros({2});
  TensorTape tape;
  ProblemTensors p{tape.constant(in[0]), tape.constant(in[1]), tape.constant(in[2]),
                   tape.constant(in[3]), tape.constant(in[4]), tape.constant(in[5]),
                   tape.constant(in[6]), tape.constant(in[7])};
  EXPECT_THROW((void)maya::contact::solve_velocities(p), maya::ShapeError);
}
