// The unrolled reference derivative: the interior-point iterations run on forward-mode dual
// numbers (Eigen's AutoDiffScalar), one direction per problem entry, so every iteration, step
// length and factorization is differentiated as executed.
#include <Eigen/Dense>
// AutoDiff needs Eigen/Dense first.
#include <unsupported/Eigen/AutoDiff>

#include "contact/interior_point.hpp"
#include "maya/contact/solver.hpp"

namespace maya::contact {

namespace {

using Dual = Eigen::AutoDiffScalar<Eigen::VectorXd>;
using detail::Index;

// Offsets of each field of a ContactProblem in the flat list of directions.
struct Directions {
  Index mass, momentum, joint_jacobian, joint_target, normal_jacobian, normal_offset,
      tangent_jacobian, friction, bitangent_jacobian, total;
};

Directions directions_of(const ContactProblem& p) {
  Directions d{};
  Index at = 0;
  const auto take = [&at](std::size_t size) {
    const Index start = at;
    at += static_cast<Index>(size);
    return start;
  };
  d.mass = take(p.mass.size());
  d.momentum = take(p.momentum.size());
  d.joint_jacobian = take(p.joint_jacobian.size());
  d.joint_target = take(p.joint_target.size());
  d.normal_jacobian = take(p.normal_jacobian.size());
  d.normal_offset = take(p.normal_offset.size());
  d.tangent_jacobian = take(p.tangent_jacobian.size());
  d.friction = take(p.friction.size());
  d.bitangent_jacobian = take(p.bitangent_jacobian.size());
  d.total = at;
  return d;
}

void seed(Dual& x, Index direction, double sign, Index total) {
  x.derivatives() = Eigen::VectorXd::Zero(total);
  x.derivatives()(direction) = sign;
}

std::vector<double> part(const Eigen::VectorXd& all, Index start, std::size_t size) {
  return {all.data() + start, all.data() + start + static_cast<Index>(size)};
}

}  // namespace

ProblemGradient differentiate_unrolled(const ContactProblem& problem, const SolverOptions& options,
                                       std::span<const double> grad_velocity) {
  detail::validate(problem, options);
  if (grad_velocity.size() != problem.num_velocities) {
    throw ShapeError("contact differentiate_unrolled: grad_velocity has " +
                     std::to_string(grad_velocity.size()) + " entries, expected " +
                     std::to_string(problem.num_velocities));
  }
  const detail::Layout layout = detail::layout_of(problem);
  const Directions dir = directions_of(problem);
  const Index n = layout.velocities;
  const Index total = dir.total;

  detail::Kkt<Dual> kkt;
  detail::assemble(problem, layout, kkt);
  for (Index j = 0; j < n; ++j) {
    seed(kkt.mass(j), dir.mass + j, 1.0, total);
    seed(kkt.momentum(j), dir.momentum + j, 1.0, total);
  }
  for (Index r = 0; r < layout.joints; ++r) {
    for (Index j = 0; j < n; ++j) seed(kkt.joint(r, j), dir.joint_jacobian + r * n + j, 1.0, total);
    seed(kkt.joint_target(r), dir.joint_target + r, 1.0, total);
  }
  for (Index i = 0; i < layout.contacts; ++i) {
    for (Index j = 0; j < n; ++j) {
      seed(kkt.inequality(i, j), dir.normal_jacobian + i * n + j, 1.0, total);
    }
    seed(kkt.offset(i), dir.normal_offset + i, 1.0, total);
  }
  for (Index k = 0; k < layout.slots(); ++k) {
    const Index i = layout.frictional[static_cast<std::size_t>(k)];
    for (Index j = 0; j < n; ++j) {
      seed(kkt.inequality(layout.plus(k), j), dir.tangent_jacobian + i * n + j, 1.0, total);
      seed(kkt.inequality(layout.minus(k), j), dir.tangent_jacobian + i * n + j, -1.0, total);
      if (layout.directions == 4) {
        seed(kkt.inequality(layout.beta(k, 2), j), dir.bitangent_jacobian + i * n + j, 1.0, total);
        seed(kkt.inequality(layout.beta(k, 3), j), dir.bitangent_jacobian + i * n + j, -1.0, total);
      }
    }
    seed(kkt.friction(k), dir.friction + i, 1.0, total);
  }

  detail::Iterate<Dual> w;
  detail::interior_point(layout, kkt, options, w);
  Eigen::VectorXd all = Eigen::VectorXd::Zero(total);
  for (Index j = 0; j < n; ++j) {
    if (w.v(j).derivatives().size() == total) {
      all += grad_velocity[static_cast<std::size_t>(j)] * w.v(j).derivatives();
    }
  }

  ProblemGradient out;
  out.mass = part(all, dir.mass, problem.mass.size());
  out.momentum = part(all, dir.momentum, problem.momentum.size());
  out.joint_jacobian = part(all, dir.joint_jacobian, problem.joint_jacobian.size());
  out.joint_target = part(all, dir.joint_target, problem.joint_target.size());
  out.normal_jacobian = part(all, dir.normal_jacobian, problem.normal_jacobian.size());
  out.normal_offset = part(all, dir.normal_offset, problem.normal_offset.size());
  out.tangent_jacobian = part(all, dir.tangent_jacobian, problem.tangent_jacobian.size());
  out.friction = part(all, dir.friction, problem.friction.size());
  out.bitangent_jacobian = part(all, dir.bitangent_jacobian, problem.bitangent_jacobian.size());
  return out;
}

}  // namespace maya::contact
