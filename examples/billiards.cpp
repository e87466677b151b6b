// Billiards (after DiffTaichi's example): choose the cue ball's initial velocity so that, after the
// cue ball strikes a second ball and that one strikes the target ball, the target stops on a goal
// spot. Top-down table: no gravity, rolling resistance as linear damping, Hunt-Crossley contact
// between balls (its force vanishes smoothly at first touch, which keeps the loss smooth).
// L-BFGS is compared with plain gradient descent at its largest stable learning rate; the program
// reports both iteration counts and exits 1 unless L-BFGS reaches the goal within 1 mm in fewer
// iterations than gradient descent.
#include <cmath>
#include <cstdio>
#include <maya/maya.hpp>
#include <string>
#include <vector>

namespace optim = maya::optim;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

namespace {

constexpr double kRadius = 0.03;
constexpr double kGoal[2] = {1.9, 0.9};
constexpr double kTolerance = 1e-6;  // squared distance: 1 mm
constexpr int kSteps = 15000;        // 1.5 s
constexpr double kDt = 1e-4;

struct Run {
  std::size_t iterations = 0;  // first iterate within tolerance; 0 when none
  std::size_t evaluations = 0;
  double start_loss = 0.0;
  double loss = 0.0;
};

}  // namespace

int main() {
  maya::rigid::RigidWorldOptions options;
  options.grounds.clear();
  options.gravity = {0.0, 0.0};
  options.linear_damping = 0.3;
  options.normal_law = maya::rigid::NormalForceLaw::kHuntCrossley;
  const maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(3, maya::rigid::BodyShape::circle(kRadius)), options);
  // 200 g balls; k pen^(3/2) (1 - c v_n) with c = 0.1 s/m, frictionless.
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses({0.2, 0.2, 0.2}, {2e5, 0.1, 0.0});
  // Cue ball, the ball it strikes, and the target ball.
  const Tensor poses = Tensor::from_data({0.1, 0.5, 0.0, 0.5, 0.52, 0.0, 0.75, 0.6, 0.0}, {3, 3});

  const auto loss = [&](TensorTape& tape, std::span<const TensorVar> p) {
    const maya::rigid::RigidParameters params = values.constants(tape);
    const TensorVar cue = maya::concat({p[0], tape.constant(Tensor::zeros({1}))}, 0);
    const TensorVar velocities =
        maya::concat({maya::reshape(cue, {1, 3}), tape.constant(Tensor::zeros({2, 3}))}, 0);
    TensorVar state = maya::stack({tape.constant(poses), velocities}, 0);
    for (int t = 0; t < kSteps; ++t) state = world.step(state, params, kDt);
    const TensorVar target =
        maya::slice(maya::select(maya::dynamics::positions_of(state), 0, 2), 0, 0, 2);
    return maya::sum(
        maya::square(target - tape.constant(Tensor::from_data({kGoal[0], kGoal[1]}, {2}))));
  };
  const Tensor start = Tensor::from_data({1.2, 0.0}, {2});

  const auto run = [&](auto& optimizer, std::size_t max_iterations) {
    Run out;
    const optim::Result result = optimizer.minimize(
        optim::tape_objective(loss), {.max_iterations = max_iterations,
                                      .tolerance = 1e-12,
                                      .callback = [&](const optim::Progress& p) {
                                        if (p.iteration == 0) out.start_loss = p.loss;
                                        if (out.iterations == 0 && p.loss < kTolerance)
                                          out.iterations = p.iteration;
                                      }});
    out.evaluations = result.evaluations;
    out.loss = result.loss;
    return out;
  };

  optim::ParameterSet lbfgs_params;
  lbfgs_params.add("cue_velocity", start);
  optim::Lbfgs lbfgs(lbfgs_params);
  const Run quasi_newton = run(lbfgs, 40);
  const auto v = lbfgs_params.value(0).data();
  std::printf(
      "L-BFGS: within 1 mm of the goal after %zu iterations (%zu simulations), final "
      "loss %.2e, cue velocity (%.5f, %.5f) m/s\n",
      quasi_newton.iterations, quasi_newton.evaluations, quasi_newton.loss, v[0], v[1]);

  // Plain gradient descent: the largest of these learning rates that does not overshoot
  // (3e-3 sends the cue ball past the second ball, where the gradient vanishes).
  const std::size_t budget = 300;
  Run descent;
  double best_rate = 0.0;
  for (const double rate : {3e-3, 1e-3}) {
    optim::ParameterSet params;
    params.add("cue_velocity", start);
    optim::Sgd sgd(params, {.learning_rate = rate});
    const Run r = run(sgd, budget);
    std::printf("gradient descent, learning rate %.0e: loss %.2e after %zu iterations%s\n", rate,
                r.loss, r.evaluations - 1,
                r.iterations > 0        ? " (reached the goal)"
                : r.loss > r.start_loss ? " (overshot: the cue ball misses, the gradient vanishes)"
                                        : " (not within 1 mm)");
    if (best_rate == 0.0 || r.loss < descent.loss) {
      descent = r;
      best_rate = rate;
    }
  }
  const bool reached = quasi_newton.iterations > 0;
  const bool faster = descent.iterations == 0 || quasi_newton.iterations < descent.iterations;
  std::printf(
      "iterations to reach the goal: L-BFGS %zu, gradient descent %s (learning rate %.0e)\n",
      quasi_newton.iterations,
      descent.iterations > 0 ? std::to_string(descent.iterations).c_str()
                             : ("more than " + std::to_string(budget)).c_str(),
      best_rate);
  std::printf("%s\n", reached && faster ? "converged" : "FAILED");
  return reached && faster ? 0 : 1;
}
