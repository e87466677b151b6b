// Box toss: find the initial velocity and spin that make a box, thrown from 30 cm up, flip over
// once and come to rest upside down at x = 0.5 m. The simulator is maya's rigid world (penalty
// contact with friction); L-BFGS fits the three initial velocities through 2000 steps of contact.
// Exits 1 unless the box ends at rest within 1 mm and 1 mrad of the target.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>
#include <numbers>

namespace optim = maya::optim;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

int main() {
  const maya::rigid::RigidWorld2D world({maya::rigid::BodyShape::box(0.2, 0.1)});
  // 1 kg; restitution of a corner impact exp(-0.3 pi / sqrt(0.91)) = 0.37 (zeta 0.3).
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses({1.0}, {1e4, 60.0, 0.5});
  const double target_x = 0.5;
  const double target_angle = std::numbers::pi;
  const int steps = 2000;  // 2 s
  const double dt = 1e-3;

  // The final state from the initial velocity (vx, vy, omega), thrown from (0, 0.3) level.
  const auto final_state = [&](TensorTape& tape, TensorVar velocity) {
    const maya::rigid::RigidParameters params = values.constants(tape);
    const TensorVar pose = tape.constant(Tensor::from_data({0.0, 0.3, 0.0}, {1, 3}));
    TensorVar state = maya::stack({pose, maya::reshape(velocity, {1, 3})}, 0);
    for (int t = 0; t < steps; ++t) state = world.step(state, params, dt);
    return state;
  };
  // At the target (x and angle) and at rest: every velocity component squared.
  const auto loss = [&](TensorTape& tape, std::span<const TensorVar> p) {
    const TensorVar state = final_state(tape, p[0]);
    const TensorVar pose = maya::select(maya::dynamics::positions_of(state), 0, 0);
    const TensorVar target = tape.constant(Tensor::from_data({target_x, 0.0, target_angle}, {3}));
    const TensorVar weight = tape.constant(Tensor::from_data({1.0, 0.0, 1.0}, {3}));
    return maya::sum(maya::square((pose - target) * weight)) +
           maya::sum(maya::square(maya::dynamics::velocities_of(state)));
  };

  optim::ParameterSet params;
  params.add("initial_velocity", Tensor::from_data({0.5, 1.5, 6.0}, {3}));  // lands at x = 0.1
  optim::Lbfgs lbfgs(params);
  const optim::Result result = lbfgs.minimize(
      optim::tape_objective(loss),
      {.max_iterations = 40, .tolerance = 1e-5, .callback = [](const optim::Progress& p) {
         std::printf("%3zu  loss %.3e  |g| %.2e  (%zu simulations)\n", p.iteration, p.loss,
                     p.gradient_norm, p.evaluations);
       }});
  std::printf("%s\n", result.message.c_str());

  const auto v = params.value(0).data();
  TensorTape tape;
  const TensorVar state = final_state(tape, tape.constant(params.value(0)));
  const auto s = state.view();
  const double speed = std::sqrt(s[3] * s[3] + s[4] * s[4] + s[5] * s[5]);
  std::printf("throw at v = (%.4f, %.4f) m/s, omega = %.4f rad/s\n", v[0], v[1], v[2]);
  const double x_error = std::abs(s[0] - target_x);
  const double angle_error = std::abs(s[2] - target_angle);
  std::printf(
      "rests at x = %.5f m (target %.2f, error %.1e m), angle = %.5f rad (target pi, "
      "error %.1e rad), speed %.1e\n",
      s[0], target_x, x_error, s[2], angle_error, speed);
  // docs/rigid.md: the final error is below 1e-10 (metres, radians, metres per second).
  constexpr double kTolerance = 1e-10;
  const bool ok = x_error < kTolerance && angle_error < kTolerance && speed < kTolerance;
  std::printf("%s\n", ok ? "converged" : "FAILED to reach the target");
  return ok ? 0 : 1;
}
