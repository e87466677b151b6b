// A quadruped from URDF stands up from a crouch: each joint follows a PD servo (80 N m/rad,
// 3 N m s/rad, clamped at the joints' 30 N m effort) towards a target posture, and L-BFGS learns
// the twelve target angles through 0.6 s of simulation with the feet in penalty contact with the
// ground, so that the trunk ends 0.36 m high, level and still. The gradient is exact through the
// contacts, the servo law (recorded on the tape) and the fused multibody steps. Asserts, on a
// replay by the plain simulator, that the trunk has risen from 0.21 m to within 1 cm of 0.36 m
// and is level within 0.03 (the quaternion's vector part); the trunk is still settling then
// (about 0.2 m/s), which is printed, not asserted.
#include <array>
#include <cmath>
#include <cstdio>
#include <maya/multibody/differentiable.hpp>
#include <maya/multibody/dynamics.hpp>
#include <maya/multibody/loaders.hpp>
#include <maya/optim/lbfgs.hpp>
#include <maya/tensor/ops.hpp>
#include <maya/tensor/tensor_tape.hpp>
#include <string>
#include <vector>

int main() {
  namespace mb = maya::multibody;
  mb::UrdfOptions options;
  options.floating_base = true;
  options.ground_plane = true;
  const mb::Model file =
      mb::load_urdf(std::string(MAYA_EXAMPLES_DIR) + "/robots/quadruped.urdf", options);
  // Smoothed Coulomb friction acts as a viscous damper below `friction_smoothing`; an explicit
  // step linearizes stably while dt mu f_n / (friction_smoothing m) < 2 (docs/multibody.md). A
  // 0.4 kg foot carrying a quarter of the weight needs 5 cm/s at dt = 0.5 ms: below that the
  // trajectory stays bounded (friction saturates) but its adjoint grows without bound.
  mb::ModelOptions model_options = file.options();
  model_options.friction_smoothing = 0.2;
  const mb::Model dog(file.bodies(), file.actuators(), model_options);
  const std::size_t nq = dog.nq(), joints = dog.nu();  // a torque actuator per joint
  const std::size_t steps = 1200;
  const double dt = 5e-4, kp = 80.0, kd = 3.0, height = 0.36;

  // The crouch: thighs forward by 1.1 rad, knees folded by 2.2, feet under the hips, the trunk
  // 0.21 m high. Joint order per leg: hip abduction, hip flexion, knee.
  std::vector<double> x0 = dog.zero_state();
  x0[2] = 0.21;
  std::vector<double> crouch(joints);
  for (std::size_t leg = 0; leg < 4; ++leg) {
    crouch[3 * leg] = 0.0, crouch[3 * leg + 1] = 1.1, crouch[3 * leg + 2] = -2.2;
  }
  for (std::size_t j = 0; j < joints; ++j) x0[7 + j] = crouch[j];

  std::vector<std::int64_t> angle_at(joints), rate_at(joints);
  for (std::size_t j = 0; j < joints; ++j) {
    angle_at[j] = static_cast<std::int64_t>(7 + j);
    rate_at[j] = static_cast<std::int64_t>(nq + 6 + j);
  }
  const maya::Tensor params = maya::Tensor::from_data(dog.parameters(), {dog.num_parameters()});
  const auto rollout = [&](maya::TensorTape& tape, maya::TensorVar target) {
    const maya::TensorVar p = tape.constant(params);
    maya::TensorVar x = tape.constant(maya::Tensor::from_data(x0, {x0.size()}));
    for (std::size_t t = 0; t < steps; ++t) {
      const maya::TensorVar q = maya::index_select(x, 0, angle_at);
      const maya::TensorVar qd = maya::index_select(x, 0, rate_at);
      x = mb::step(dog, x, kp * (target - q) - kd * qd, p, dt);
    }
    return x;
  };
  const auto loss = [&](maya::TensorTape& tape, std::span<const maya::TensorVar> in) {
    const maya::TensorVar x = rollout(tape, in[0]);
    const maya::TensorVar trunk_height = maya::select(x, 0, 2);
    const std::int64_t tilt_at[] = {4, 5, 6};  // the quaternion's vector part
    std::vector<std::int64_t> trunk_rate_at;
    for (std::size_t k = 0; k < 6; ++k) trunk_rate_at.push_back(static_cast<std::int64_t>(nq + k));
    return 100.0 * maya::square(trunk_height - height) +
           10.0 * maya::sum(maya::square(maya::index_select(x, 0, tilt_at))) +
           0.1 * maya::sum(maya::square(maya::index_select(x, 0, trunk_rate_at)));
  };
  maya::optim::ParameterSet parameters;
  parameters.add("target", maya::Tensor::from_data(crouch, {joints}));
  maya::optim::LbfgsOptions lbfgs_options;
  lbfgs_options.line_search = maya::optim::LineSearch::kBacktracking;
  maya::optim::Lbfgs lbfgs(parameters, lbfgs_options);
  maya::optim::MinimizeOptions minimize;
  minimize.max_iterations = 40;
  minimize.tolerance = 1e-6;
  const maya::optim::Result result = lbfgs.minimize(maya::optim::tape_objective(loss), minimize);
  std::printf("%s\n", result.message.c_str());
  std::printf("L-BFGS: %zu iterations, %zu simulations, loss %.3g -> %.3g\n", result.iterations,
              result.evaluations, result.loss_history.front(), result.loss);

  // Replay the learned posture servo on the plain simulator.
  const std::vector<double> p = dog.parameters();
  const std::vector<double> target(parameters.value(0).data().begin(),
                                   parameters.value(0).data().end());
  std::vector<double> x = x0, u(joints);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t j = 0; j < joints; ++j) {
      u[j] = kp * (target[j] - x[7 + j]) - kd * x[nq + 6 + j];
    }
    x = mb::step(dog, p, x, u, dt);
  }
  const double tilt = std::sqrt(x[4] * x[4] + x[5] * x[5] + x[6] * x[6]);
  double speed = 0.0;
  for (std::size_t k = 0; k < 6; ++k) speed += x[nq + k] * x[nq + k];
  speed = std::sqrt(speed);
  std::printf("trunk from %.3f m to %.4f m (target %.2f), tilt %.4f, trunk speed %.4f\n", x0[2],
              x[2], height, tilt, speed);
  std::printf("learned posture (abduction, flexion, knee) of the front left leg: %.3f %.3f %.3f\n",
              target[0], target[1], target[2]);
  const bool stood = std::abs(x[2] - height) < 0.01 && tilt < 0.03;
  std::printf(stood ? "stood up\n" : "FAILED to stand up\n");
  return stood ? 0 : 1;
}
