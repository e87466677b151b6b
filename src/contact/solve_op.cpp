// solve_velocities: the solver recorded as one node; backward() is solver.cpp's differentiate().
#include "maya/contact/solve_op.hpp"

#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::contact {

namespace {

constexpr const char* kOperation = "solve_velocities";

std::vector<double> copy_of(TensorView view) { return {view.values, view.values + view.numel()}; }

// inputs: the eight fields of ProblemTensors, then the bitangent Jacobian when `count` is 9.
ContactProblem problem_of(std::size_t n, TensorView const* inputs, std::size_t count) {
  ContactProblem p;
  p.num_velocities = n;
  p.mass = copy_of(inputs[0]);
  p.momentum = copy_of(inputs[1]);
  p.joint_jacobian = copy_of(inputs[2]);
  p.joint_target = copy_of(inputs[3]);
  p.normal_jacobian = copy_of(inputs[4]);
  p.normal_offset = copy_of(inputs[5]);
  p.tangent_jacobian = copy_of(inputs[6]);
  p.friction = copy_of(inputs[7]);
  if (count == 9) p.bitangent_jacobian = copy_of(inputs[8]);
  return p;
}

// Saved: the options (smoothing, tolerance, max_iterations, reduction), then y [me], z [p], s [p].
constexpr std::size_t kOptions = 4;
class SolveOp final : public TensorOp {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return kOperation; }

  void backward(BackwardContext& context) const override {
    const std::size_t count = context.num_inputs();
    TensorView inputs[9];
    for (std::size_t i = 0; i < count; ++i) inputs[i] = context.input(i);
    const std::size_t n = inputs[0].numel();
    const ContactProblem problem = problem_of(n, inputs, count);
    const std::span<const double> saved = context.saved();
    const SolverOptions options{.smoothing = saved[0],
                                .tolerance = saved[1],
                                .max_iterations = static_cast<int>(saved[2]),
                                .reduction = static_cast<Reduction>(static_cast<int>(saved[3]))};
    const std::size_t me = problem.num_joint_rows();
    const std::size_t pairs = (saved.size() - kOptions - me) / 2;
    ContactSolution solution;
    solution.velocity = copy_of(context.output());
    solution.joint_impulse.assign(saved.begin() + kOptions,
                                  saved.begin() + kOptions + static_cast<long>(me));
    const auto z = saved.begin() + kOptions + static_cast<long>(me);
    solution.multipliers.assign(z, z + static_cast<long>(pairs));
    solution.slacks.assign(z + static_cast<long>(pairs), z + 2 * static_cast<long>(pairs));
    const ProblemGradient g =
        differentiate(problem, solution, options, context.grad_output().data());
    const std::vector<double>* parts[9] = {&g.mass,
                                           &g.momentum,
                                           &g.joint_jacobian,
                                           &g.joint_target,
                                           &g.normal_jacobian,
                                           &g.normal_offset,
                                           &g.tangent_jacobian,
                                           &g.friction,
                                           &g.bitangent_jacobian};
    for (std::size_t i = 0; i < count; ++i) {
      if (!context.needs_grad(i)) continue;
      const MutableTensorView out = context.grad_input(i);
      for (std::size_t k = 0; k < out.numel(); ++k) out[k] += (*parts[i])[k];
    }
  }
};

const SolveOp kSolveOp;

void expect_shape(TensorVar var, std::initializer_list<std::size_t> shape, const char* what) {
  const ShapeView actual = var.shape();
  if (!std::equal(actual.begin(), actual.end(), shape.begin(), shape.end())) {
    throw ShapeError(std::string(kOperation) + ": " + what + " has shape " + shape_string(actual) +
                     ", expected " + shape_string(Shape(shape)));
  }
}

}  // namespace

TensorVar solve_velocities(const ProblemTensors& problem, const SolverOptions& options) {
  const bool three_dimensional = problem.bitangent_jacobian.valid();
  const std::size_t count = three_dimensional ? 9 : 8;
  const TensorVar inputs[9] = {problem.mass,
                               problem.momentum,
                               problem.joint_jacobian,
                               problem.joint_target,
                               problem.normal_jacobian,
                               problem.normal_offset,
                               problem.tangent_jacobian,
                               problem.friction,
                               problem.bitangent_jacobian};
  TensorTape& tape = problem.mass.tape();
  for (std::size_t i = 0; i < count; ++i) tape.check_owned(inputs[i], kOperation);
  if (problem.mass.ndim() != 1) {
    throw ShapeError(std::string(kOperation) + ": mass has shape " +
                     shape_string(problem.mass.shape()) + ", expected [n]");
  }
  const std::size_t n = problem.mass.numel();
  const std::size_t me = problem.joint_target.numel();
  const std::size_t nc = problem.normal_offset.numel();
  expect_shape(problem.momentum, {n}, "momentum");
  expect_shape(problem.joint_jacobian, {me, n}, "joint_jacobian");
  expect_shape(problem.joint_target, {me}, "joint_target");
  expect_shape(problem.normal_jacobian, {nc, n}, "normal_jacobian");
  expect_shape(problem.normal_offset, {nc}, "normal_offset");
  expect_shape(problem.tangent_jacobian, {nc, n}, "tangent_jacobian");
  expect_shape(problem.friction, {nc}, "friction");
  if (three_dimensional) expect_shape(problem.bitangent_jacobian, {nc, n}, "bitangent_jacobian");

  TensorView views[9];
  for (std::size_t i = 0; i < count; ++i) views[i] = tape.view(inputs[i]);
  const ContactSolution solution = solve(problem_of(n, views, count), options);
  std::vector<double> saved = {options.smoothing, options.tolerance,
                               static_cast<double>(options.max_iterations),
                               static_cast<double>(static_cast<int>(options.reduction))};
  saved.insert(saved.end(), solution.joint_impulse.begin(), solution.joint_impulse.end());
  saved.insert(saved.end(), solution.multipliers.begin(), solution.multipliers.end());
  saved.insert(saved.end(), solution.slacks.begin(), solution.slacks.end());
  const Shape shape{n};
  return tape.record(
      kSolveOp, std::span<const TensorVar>(inputs, count), shape,
      [&](MutableTensorView out) {
        for (std::size_t j = 0; j < n; ++j) out[j] = solution.velocity[j];
      },
      SavedData{saved, {}});
}

}  // namespace maya::contact
