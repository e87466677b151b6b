// maya demo robot and arm. robot: the cart-pole of examples/robots/cartpole.xml (compiled in) swung up from
// hanging by trajectory optimization through the differentiable multibody steps: L-BFGS on the
// cart's force, every gradient the exact adjoint of the fused steps. Asserts, on a replay by the
// plain simulator, that the pole ends upright and still over a cart at rest near the centre.
// arm: the 7-DOF arm of examples/robots/arm7.urdf learns 0.3 s of joint torques (Adam) that
// bring its tool to a target; asserts the replay ends within 1 cm of it.
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/viz/viewer3d.hpp"
#include "physics_demos.hpp"
#include "progress.hpp"

namespace maya::cli {

extern const std::string_view kCartpoleMjcf;  // generated from examples/robots/cartpole.xml
extern const std::string_view kArm7Urdf;      // generated from examples/robots/arm7.urdf

bool robot_demo(const DemoContext& context) {
  namespace mb = multibody;
  if (!mb::mjcf_available()) {
    std::printf("robot: skipped, this maya was built without tinyxml2 (MJCF)\n");
    return true;
  }
  const mb::Model file = mb::parse_mjcf(std::string(kCartpoleMjcf), "cartpole.xml");
  // The rail's end stops (a stiff penalty at +-2 m) would make the landscape needlessly stiff:
  // the motion is asked to stay clear of them instead, and checked to.
  std::vector<mb::Body> bodies = file.bodies();
  for (mb::Body& body : bodies) body.limited = false;
  const mb::Model cartpole(bodies, file.actuators(), file.options());
  const std::size_t steps = 300, hold = 2, knots = steps / hold;
  const double dt = 0.01;
  std::vector<double> x0 = cartpole.initial_state();
  x0[1] = std::numbers::pi;  // hanging; the pole is upright at 0

  // The force is 20 tanh(w) N (the motor's range), one w per knot of `hold` steps; a small push
  // breaks the symmetry of the hanging start.
  std::vector<double> initial(knots, 0.0);
  for (std::size_t k = 0; k < 15; ++k) initial[k] = 0.25;
  optim::ParameterSet parameters;
  parameters.add("w", Tensor::from_data(initial, {knots, 1}));
  const Tensor params = Tensor::from_data(cartpole.parameters(), {cartpole.num_parameters()});
  const LossFunction loss = [&](TensorTape& tape, std::span<const TensorVar> in) {
    const TensorVar p = tape.constant(params);
    TensorVar x = tape.constant(Tensor::from_data(x0, {x0.size()}));
    const TensorVar force = 20.0 * tanh(in[0]);
    TensorVar along = tape.constant(Tensor::from_data({0.0}, {}));
    for (std::size_t t = 0; t < steps; ++t) {
      x = mb::step(cartpole, x, select(force, 0, static_cast<long>(t / hold)), p, dt);
      const double w = static_cast<double>(t + 1) / static_cast<double>(steps);
      along =
          along + (0.05 * w * w) * (1.0 - cos(select(x, 0, 1))) + 0.02 * square(select(x, 0, 0));
    }
    const TensorVar upright = 100.0 * (1.0 - cos(select(x, 0, 1)));
    const TensorVar still =
        10.0 * (square(select(x, 0, 3)) + square(select(x, 0, 2)) + square(select(x, 0, 0)));
    return upright + still + 1e-5 * sum(square(force)) + along;
  };
  optim::MinimizeOptions options;
  options.max_iterations = 1500;
  options.tolerance = 1e-8;
  ProgressReporter reporter("robot", options.max_iterations, context.quiet);
  options.callback = [&](const optim::Progress& progress) { reporter.update(progress); };
  optim::LbfgsOptions lbfgs_options;
  lbfgs_options.line_search = optim::LineSearch::kBacktracking;
  optim::Lbfgs lbfgs(parameters, lbfgs_options);
  const optim::Result result = lbfgs.minimize(optim::tape_objective(loss), options);
  reporter.finish();

  std::vector<double> force;
  for (std::size_t t = 0; t < steps; ++t) {
    force.push_back(20.0 * std::tanh(parameters.value(0).data()[t / hold]));
  }
  const std::vector<double> states =
      mb::rollout(cartpole, cartpole.parameters(), x0, force, steps, dt);
  const double* end = states.data() + steps * cartpole.nx();
  const double angle = std::remainder(end[1], 2.0 * std::numbers::pi);
  double farthest = 0.0;
  for (std::size_t t = 0; t <= steps; ++t) {
    farthest = std::max(farthest, std::abs(states[t * cartpole.nx()]));
  }
  const bool ok = std::abs(angle) < 0.05 && std::abs(end[3]) < 0.2 && std::abs(end[0]) < 0.2 &&
                  std::abs(end[2]) < 0.2 && farthest < 2.0;
  std::printf("robot: cart-pole swing-up by trajectory optimization (%zu forces over %.1f s)\n",
              knots, static_cast<double>(steps) * dt);
  print_loss_line(result);
  std::printf(
      "  pole %.4f rad from upright at %.4f rad/s, cart at %.4f m moving %.4f m/s, "
      "farthest %.2f m of the 2 m rail: %s\n",
      angle, end[3], end[0], end[2], farthest, ok ? "swung up" : "NOT swung up");
  if (context.out) {
    io::OutputFiles files(*context.out / "robot");
    const std::size_t q_shape[] = {steps + 1, cartpole.nq()}, u_shape[] = {steps, 1};
    std::vector<double> q;
    for (std::size_t t = 0; t <= steps; ++t) {
      q.insert(q.end(), states.begin() + t * cartpole.nx(),
               states.begin() + t * cartpole.nx() + cartpole.nq());
    }
    files.add("joint_positions.npy", io::npy_bytes(q, q_shape));
    files.add("forces.npy", io::npy_bytes(force, u_shape));
    files.add("viewer.html",
              viz::viewer3d_html(robot_view(cartpole, "cart-pole swing-up", states, steps, dt)));
    files.commit();
  }
  return ok;
}

bool arm_demo(const DemoContext& context) {
  namespace mb = multibody;
  if (!mb::urdf_available()) {
    std::printf("arm: skipped, this maya was built without urdfdom (URDF)\n");
    return true;
  }
  const mb::Model arm = mb::parse_urdf(std::string(kArm7Urdf), "arm7.urdf");
  const std::size_t steps = 300, nu = arm.nu(), tool = arm.body_index("tool");
  const double dt = 1e-3;
  const std::vector<double> x0 = arm.initial_state();
  const std::array<double, 3> goal{0.35, 0.25, 0.8};
  const Tensor target = Tensor::from_data({goal[0], goal[1], goal[2]}, {3});
  const Tensor params = Tensor::from_data(arm.parameters(), {arm.num_parameters()});
  // The tool's squared distance to the target after 0.3 s, and a little effort.
  const LossFunction loss = [&](TensorTape& tape, std::span<const TensorVar> in) {
    const TensorVar p = tape.constant(params);
    TensorVar x = tape.constant(Tensor::from_data(x0, {x0.size()}));
    for (std::size_t t = 0; t < steps; ++t) {
      x = mb::step(arm, x, select(in[0], 0, static_cast<long>(t)), p, dt);
    }
    const TensorVar reach = mb::body_point(arm, x, p, tool, {0.0, 0.0, 0.0});
    return sum(square(reach - tape.constant(target))) + 1e-8 * sum(square(in[0]));
  };
  optim::ParameterSet parameters;
  parameters.add("torques", Tensor::zeros({steps, nu}));
  // Adam: per-entry steps of about its learning rate (N m) however flat the start is, where a
  // quasi-Newton step scaled by the flat start's curvature throws the arm.
  optim::MinimizeOptions options;
  options.max_iterations = 300;
  options.tolerance = 1e-9;
  ProgressReporter reporter("arm", options.max_iterations, context.quiet);
  options.callback = [&](const optim::Progress& progress) { reporter.update(progress); };
  optim::AdamOptions adam_options;
  adam_options.learning_rate = 0.05;
  optim::Adam adam(parameters, adam_options);
  const optim::Result result = adam.minimize(optim::tape_objective(loss), options);
  reporter.finish();

  const std::vector<double> torques(parameters.value(0).data().begin(),
                                    parameters.value(0).data().end());
  const std::vector<double> states = mb::rollout(arm, arm.parameters(), x0, torques, steps, dt);
  const std::vector<double> poses = mb::body_poses(
      arm, arm.parameters(), std::span<const double>(states.data() + steps * arm.nx(), arm.nq()));
  const std::vector<double> start =
      mb::body_poses(arm, arm.parameters(), std::span<const double>(x0.data(), arm.nq()));
  const auto distance = [&](const std::vector<double>& pose) {
    double d = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double e = pose[7 * tool + static_cast<std::size_t>(k)] - goal[k];
      d += e * e;
    }
    return std::sqrt(d);
  };
  const double missed = distance(poses), from = distance(start);
  const bool ok = missed < 0.01;
  std::printf("arm: a 7-DOF arm (URDF) reaches a target by learning %zu steps of joint torques\n",
              steps);
  print_loss_line(result);
  std::printf("  the tool ends %.4f m from the target (started %.3f m away): %s\n", missed, from,
              ok ? "reached" : "NOT reached");
  if (context.out) {
    io::OutputFiles files(*context.out / "arm");
    const std::size_t u_shape[] = {steps, nu};
    files.add("torques.npy", io::npy_bytes(torques, u_shape));
    viz::Viewer3DScene view = robot_view(arm, "7-DOF arm reach", states, steps, dt);
    view.targets.push_back(goal);
    files.add("viewer.html", viz::viewer3d_html(view));
    files.commit();
  }
  return ok;
}

}  // namespace maya::cli
