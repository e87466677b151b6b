// A 7-DOF arm loaded from URDF learns the joint torques that bring its tool to a target: the
// rollout is recorded as one fused node per step, and Adam follows the exact gradient of the
// distance at the end with respect to every torque of every step.
#include <cmath>
#include <cstdio>
#include <maya/multibody/differentiable.hpp>
#include <maya/multibody/loaders.hpp>
#include <maya/tensor/ops.hpp>
#include <maya/tensor/tensor_tape.hpp>
#include <string>
#include <vector>

int main() {
  namespace mb = maya::multibody;
  const mb::Model arm = mb::load_urdf(std::string(MAYA_EXAMPLES_DIR) + "/robots/arm7.urdf");
  const std::size_t steps = 300, nu = arm.nu(), tool = arm.body_index("tool");
  const double dt = 1e-3;
  const std::vector<double> x0 = arm.initial_state();
  const maya::Tensor target = maya::Tensor::from_data({0.35, 0.25, 0.8}, {3});
  std::vector<double> torques(steps * nu, 0.0);
  std::vector<double> m(torques.size(), 0.0), v(torques.size(), 0.0);  // Adam's moments
  maya::TensorTape tape;
  double first = 0.0, loss_value = 0.0;
  for (int iteration = 0; iteration < 80; ++iteration) {
    tape.clear();
    const maya::TensorVar u = tape.var(maya::Tensor::from_data(torques, {steps, nu}));
    const maya::TensorVar params =
        tape.constant(maya::Tensor::from_data(arm.parameters(), {arm.num_parameters()}));
    maya::TensorVar x = tape.constant(maya::Tensor::from_data(x0, {x0.size()}));
    for (std::size_t t = 0; t < steps; ++t) {
      x = mb::step(arm, x, maya::select(u, 0, static_cast<long>(t)), params, dt);
    }
    const maya::TensorVar reach = mb::body_point(arm, x, params, tool, {0.0, 0.0, 0.0});
    const maya::TensorVar loss = maya::sum(maya::square(reach - tape.constant(target)));
    loss_value = loss.item();
    if (iteration == 0) first = loss_value;
    if (iteration % 20 == 0) std::printf("iteration %2d: distance^2 %.5f\n", iteration, loss_value);
    const maya::Tensor g = tape.grad(loss)[u];
    const double lr = 0.05, b1 = 0.9, b2 = 0.999;
    for (std::size_t i = 0; i < torques.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g.data()[i];
      v[i] = b2 * v[i] + (1 - b2) * g.data()[i] * g.data()[i];
      const double k = iteration + 1.0;
      torques[i] -=
          lr * (m[i] / (1 - std::pow(b1, k))) / (std::sqrt(v[i] / (1 - std::pow(b2, k))) + 1e-8);
    }
  }
  std::printf("final distance^2 %.5f (from %.5f)\n", loss_value, first);
  return loss_value < 0.05 * first ? 0 : 1;
}
