// A user-defined tensor op, written outside maya: a fused spring energy
//   E_s = 1/2 k (|d_s| - L_s)^2   for every spring s,
// where d_s = x_j - x_i is the spring's end-to-end vector, k a (differentiable) stiffness and L_s
// fixed rest lengths. One node replaces the ~8 nodes (norm, sub, square, mul, ...) the same
// formula would record op by op, and its backward is the closed form
//   dE_s/dd_s = k (|d_s| - L_s) d_s / |d_s|,   dE_s/dk = 1/2 (|d_s| - L_s)^2.
// The program checks that vector-Jacobian product against central differences with
// maya::gradcheck and exits non-zero when it disagrees.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <maya/maya.hpp>
#include <span>
#include <vector>

namespace {

// Inputs: {delta [S, D], stiffness (one element)}; saved(): the rest lengths L [S].
class SpringEnergyOp final : public maya::TensorOp {
 public:
  std::string_view name() const noexcept override { return "spring_energy"; }

  void backward(maya::BackwardContext& context) const override {
    const maya::TensorView delta = context.input(0);
    const double stiffness = context.input(1)[0];
    const maya::TensorView g = context.grad_output();
    const std::span<const double> rest = context.saved();
    const std::size_t springs = delta.shape[0];
    const std::size_t dim = delta.shape[1];
    // backward() must ADD into grad_input(i), and only for inputs that need a gradient.
    if (context.needs_grad(0)) {
      const maya::MutableTensorView g_delta = context.grad_input(0);
      for (std::size_t s = 0; s < springs; ++s) {
        const double length = length_of(delta, s, dim);
        if (length == 0.0) continue;  // direction undefined: gradient taken as 0
        const double factor = g[s] * stiffness * (length - rest[s]) / length;
        for (std::size_t c = 0; c < dim; ++c) g_delta[s * dim + c] += factor * delta[s * dim + c];
      }
    }
    if (context.needs_grad(1)) {
      double total = 0.0;
      for (std::size_t s = 0; s < springs; ++s) {
        const double stretch = length_of(delta, s, dim) - rest[s];
        total += g[s] * 0.5 * stretch * stretch;
      }
      context.grad_input(1)[0] += total;
    }
  }

  static double length_of(const maya::TensorView& delta, std::size_t s, std::size_t dim) {
    double squared = 0.0;
    for (std::size_t c = 0; c < dim; ++c) squared += delta[s * dim + c] * delta[s * dim + c];
    return std::sqrt(squared);
  }
};

// The op is stateless, so one instance serves every tape; it must outlive their grad() calls.
const SpringEnergyOp kSpringEnergy;

// Validates the operands, then records one node whose forward fills the output in place.
maya::TensorVar spring_energy(maya::TensorVar delta, maya::TensorVar stiffness,
                              std::span<const double> rest_lengths) {
  maya::TensorTape& tape = delta.tape();
  const maya::TensorView d = tape.view(delta);
  const maya::TensorView k = tape.view(stiffness);
  if (d.ndim() != 2 || d.shape[0] != rest_lengths.size() || k.numel() != 1) {
    throw maya::ShapeError(
        "spring_energy: needs delta [S, D], one stiffness and S rest lengths, got " +
        maya::shape_string(d.shape) + ", " + maya::shape_string(k.shape) + " and " +
        std::to_string(rest_lengths.size()));
  }
  const std::size_t springs = d.shape[0];
  const std::size_t shape[] = {springs};
  return tape.record(
      kSpringEnergy, {delta, stiffness}, shape,
      [&](maya::MutableTensorView out) {
        for (std::size_t s = 0; s < springs; ++s) {
          const double stretch = SpringEnergyOp::length_of(d, s, d.shape[1]) - rest_lengths[s];
          out[s] = 0.5 * k[0] * stretch * stretch;
        }
      },
      maya::SavedData{rest_lengths, {}});
}

}  // namespace

int main() {
  // A triangle of three particles in 2-D joined by three springs, slightly stretched.
  const std::vector<std::int64_t> first = {0, 1, 2};
  const std::vector<std::int64_t> second = {1, 2, 0};
  const std::vector<double> rest_lengths = {1.0, 1.0, 1.2};
  const maya::Tensor positions = maya::Tensor::from_data({0.0, 0.0, 1.1, 0.1, 0.4, 0.9}, {3, 2});
  const maya::Tensor stiffness = maya::Tensor::scalar(50.0);

  // Total elastic energy of the triangle, built from maya ops around the custom one.
  const auto energy = [&](maya::TensorTape&, std::span<const maya::TensorVar> leaves) {
    const maya::TensorVar x = leaves[0];
    const maya::TensorVar delta =
        maya::index_select(x, 0, second) - maya::index_select(x, 0, first);
    return maya::sum(spring_energy(delta, leaves[1], rest_lengths));
  };

  const maya::Tensor inputs[] = {positions, stiffness};
  const maya::GradcheckReport report = maya::gradcheck(energy, inputs);
  std::cout << "dE/dx (tape):\n" << report.analytic[0] << "\n";
  std::cout << "dE/dk (tape): " << report.analytic[1] << "\n";
  std::cout << "worst relative error against central differences: " << report.max_error() << "\n";

  // The forces on the particles are -dE/dx: internal forces, so they sum to zero per axis.
  double net_force[2] = {0.0, 0.0};
  for (std::size_t i = 0; i < report.analytic[0].numel(); ++i) {
    net_force[i % 2] += report.analytic[0].data()[i];
  }

  if (!(report.max_error() < 1e-7) || std::abs(net_force[0]) > 1e-12 ||
      std::abs(net_force[1]) > 1e-12) {
    std::cerr << "custom_op: the spring_energy gradient does not match central differences\n";
    return 1;
  }
  std::cout << "spring_energy gradient check passed\n";
  return 0;
}
