// Cart-pole swing-up by trajectory optimization through the differentiable simulator: the pole
// starts hanging, and L-BFGS shapes the cart's force over 3 s (one control per step, |u| <= 20 N) so that the pole ends upright and still over a cart at rest near the centre. Every
// gradient is the exact adjoint of the fused multibody steps; no finite differences, no model
// of the dynamics besides the simulator itself. Asserts the swing-up.
#include <cmath>
#include <cstdio>
#include <maya/multibody/differentiable.hpp>
#include <maya/multibody/dynamics.hpp>
#include <maya/multibody/loaders.hpp>
#include <maya/optim/lbfgs.hpp>
#include <maya/tensor/ops.hpp>
#include <maya/tensor/tensor_tape.hpp>
#include <numbers>
#include <string>
#include <vector>

int main() {
  namespace mb = maya::multibody;
  const mb::Model file = mb::load_mjcf(std::string(MAYA_EXAMPLES_DIR) + "/robots/cartpole.xml");
  // The rail's end stops (a stiff penalty at +-2 m) would make the landscape needlessly stiff:
  // the optimized motion is asked to stay clear of them instead, and checked to.
  std::vector<mb::Body> bodies = file.bodies();
  for (mb::Body& body : bodies) body.limited = false;
  const mb::Model cartpole(bodies, file.actuators(), file.options());
  const std::size_t steps = 300;
  const double dt = 0.01;
  std::vector<double> x0 = cartpole.initial_state();  // [cart x, pole angle, their rates]
  x0[1] = std::numbers::pi;                           // hanging (the pole is upright at 0)

  // A small push to the right breaks the symmetry of the hanging start (where the gradient of
  // any symmetric goal is zero).
  // The force is 20 tanh(w) N: within the motor's range for any w, so the search is unbounded.
  // One force per knot of `hold` steps (0.02 s), piecewise constant.
  const std::size_t hold = 2, knots = steps / hold;
  std::vector<double> initial(knots, 0.0);
  for (std::size_t k = 0; k < 15; ++k) initial[k] = 0.25;
  maya::optim::ParameterSet parameters;
  parameters.add("w", maya::Tensor::from_data(initial, {knots, 1}));

  const maya::Tensor params =
      maya::Tensor::from_data(cartpole.parameters(), {cartpole.num_parameters()});
  const auto loss = [&](maya::TensorTape& tape, std::span<const maya::TensorVar> in) {
    const maya::TensorVar p = tape.constant(params);
    maya::TensorVar x = tape.constant(maya::Tensor::from_data(x0, {x0.size()}));
    const maya::TensorVar force = 20.0 * maya::tanh(in[0]);
    // Along the way: the cart kept off the ends of its rail, and the pole rising (weighted up
    // towards the end), which smooths the landscape that the final cost alone would leave.
    maya::TensorVar along = tape.constant(maya::Tensor::from_data({0.0}, {}));
    for (std::size_t t = 0; t < steps; ++t) {
      x = mb::step(cartpole, x, maya::select(force, 0, static_cast<long>(t / hold)), p, dt);
      const double w = static_cast<double>(t + 1) / static_cast<double>(steps);
      along = along + (0.05 * w * w) * (1.0 - maya::cos(maya::select(x, 0, 1))) +
              0.02 * maya::square(maya::select(x, 0, 0));
    }
    // Upright (cos = 1) and still, the cart back near the centre and at rest; a little effort.
    const maya::TensorVar angle = maya::select(x, 0, 1);
    const maya::TensorVar upright = 100.0 * (1.0 - maya::cos(angle));
    const maya::TensorVar still =
        10.0 * (maya::square(maya::select(x, 0, 3)) + maya::square(maya::select(x, 0, 2)) +
                maya::square(maya::select(x, 0, 0)));
    const maya::TensorVar effort = 1e-5 * maya::sum(maya::square(force));
    return upright + still + effort + along;
  };
  maya::optim::LbfgsOptions lbfgs_options;
  lbfgs_options.line_search = maya::optim::LineSearch::kBacktracking;
  maya::optim::Lbfgs lbfgs(parameters, lbfgs_options);
  maya::optim::MinimizeOptions options;
  options.max_iterations = 1500;
  options.tolerance = 1e-8;
  const maya::optim::Result result = lbfgs.minimize(maya::optim::tape_objective(loss), options);
  std::printf("%s\n", result.message.c_str());
  std::printf("L-BFGS: %zu iterations, %zu simulations, loss %.3g -> %.3g (%s)\n",
              result.iterations, result.evaluations, result.loss_history.front(), result.loss,
              std::string(maya::optim::to_string(result.status)).c_str());

  // Replay the optimized forces on the plain simulator and check the swing-up.
  std::vector<double> force;
  for (std::size_t t = 0; t < steps; ++t) {
    force.push_back(20.0 * std::tanh(parameters.value(0).data()[t / hold]));
  }
  const std::vector<double> states =
      mb::rollout(cartpole, cartpole.parameters(), x0, force, steps, dt);
  const double* end = states.data() + steps * cartpole.nx();
  const double angle = std::remainder(end[1], 2.0 * std::numbers::pi);
  std::printf(
      "after %.1f s: pole %.4f rad from upright, rate %.4f rad/s, cart at %.4f m, "
      "speed %.4f m/s\n",
      steps * dt, angle, end[3], end[0], end[2]);
  double highest = 0.0;  // the cart stays on its 2 m rail
  for (std::size_t t = 0; t <= steps; ++t) {
    highest = std::max(highest, std::abs(states[t * cartpole.nx()]));
  }
  const bool swung_up = std::abs(angle) < 0.05 && std::abs(end[3]) < 0.2 &&
                        std::abs(end[0]) < 0.2 && std::abs(end[2]) < 0.2 && highest < 2.0;
  std::printf(swung_up ? "swung up\n" : "FAILED to swing up\n");
  return swung_up ? 0 : 1;
}
