#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <maya/maya.hpp>
#include <span>
#include <string>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::dynamics::CheckpointBudget;
using maya::dynamics::checkpointed_rollout;
using maya::dynamics::RolloutGradient;
using maya::dynamics::RolloutProblem;

// W2's lattice, small, thrown at the ground so contact switches during the rollout.
struct SpringScene {
  maya::dynamics::SpringLattice lattice;
  Tensor damping;
  double dt = 2e-3;

  SpringScene() : lattice(make()), damping(Tensor::full({lattice.model.num_springs()}, 5.0)) {}

  static maya::dynamics::SpringLattice make() {
    maya::dynamics::LatticeOptions options;
    options.size = 4;
    options.spacing = 0.1;
    options.origin_y = 0.02;
    options.velocity_y = -1.0;
    return maya::dynamics::make_spring_lattice(options);
  }

  [[nodiscard]] Tensor initial_state() const {
    return maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities);
  }
  [[nodiscard]] Tensor stiffness() const {
    return Tensor::uniform({lattice.model.num_springs()}, 800.0, 1200.0, 7);
  }
  [[nodiscard]] maya::dynamics::SpringParameters parameters(TensorTape& tape,
                                                            TensorVar stiffness) const {
    return {tape.constant(lattice.masses), stiffness, tape.constant(damping),
            tape.constant(lattice.rest_length)};
  }

  // state [2, N, 2] -> state; parameters: stiffness [E].
  [[nodiscard]] RolloutProblem problem(std::size_t steps, bool composed = false) const {
    RolloutProblem problem;
    problem.step = [this, composed](TensorTape& tape, std::span<const TensorVar> state,
                                    std::span<const TensorVar> params, std::size_t) {
      const maya::dynamics::SpringParameters p = parameters(tape, params[0]);
      return std::vector<TensorVar>{composed ? lattice.model.step_composed(state[0], p, dt)
                                             : lattice.model.step(state[0], p, dt)};
    };
    problem.initial_state = {initial_state()};
    problem.parameters = {stiffness()};
    problem.steps = steps;
    problem.final_loss = [](TensorTape&, std::span<const TensorVar> state,
                            std::span<const TensorVar>) {
      return maya::mean(maya::square(maya::dynamics::positions_of(state[0]) - 0.1));
    };
    return problem;
  }
};

void expect_same_bits(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected,
                      const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].shape(), expected[i].shape()) << what;
    const auto a = actual[i].data();
    const auto e = expected[i].data();
    for (std::size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(a[k], e[k]) << what << ": tensor " << i << " element " << k;
    }
  }
}

void expect_equal_to_full_tape(const RolloutProblem& problem, CheckpointBudget budget,
                               const std::string& what) {
  const RolloutGradient full = checkpointed_rollout(problem, CheckpointBudget::full_tape());
  const RolloutGradient checkpointed = checkpointed_rollout(problem, budget);
  expect_same_bits(checkpointed.parameter_gradient, full.parameter_gradient, what + " dL/dp");
  expect_same_bits(checkpointed.initial_state_gradient, full.initial_state_gradient,
                   what + " dL/dx0");
  expect_same_bits(checkpointed.final_state, full.final_state, what + " x_T");
  EXPECT_NEAR(checkpointed.loss, full.loss, 1e-15 * std::abs(full.loss)) << what;
  const auto& report = checkpointed.report;
  EXPECT_EQ(report.taped_steps, problem.steps) << what;
  EXPECT_EQ(report.advances, report.revolve_bound) << what;
  EXPECT_LE(report.peak_snapshots, report.snapshots) << what;
}

TEST(CheckpointedRollout, FullTapeModeEqualsAHandWrittenTape) {
  const SpringScene scene;
  const std::size_t steps = 60;
  TensorTape tape;
  const TensorVar k = tape.var(scene.stiffness());
  const TensorVar x0 = tape.var(scene.initial_state());
  const maya::dynamics::SpringParameters p = scene.parameters(tape, k);
  const maya::dynamics::Trajectory trajectory = maya::dynamics::rollout(
      x0, steps,
      [&](TensorVar s, std::size_t) { return scene.lattice.model.step(s, p, scene.dt); });
  const TensorVar loss =
      maya::mean(maya::square(maya::dynamics::positions_of(trajectory.final()) - 0.1));
  const maya::TensorGradients g = tape.grad(loss);

  const RolloutProblem problem = scene.problem(steps);
  for (const CheckpointBudget budget :
       {CheckpointBudget::full_tape(), CheckpointBudget::snapshots(4)}) {
    const RolloutGradient result = checkpointed_rollout(problem, budget);
    expect_same_bits(result.parameter_gradient, {g[k]}, "dL/dk");
    expect_same_bits(result.initial_state_gradient, {g[x0]}, "dL/dx0");
    EXPECT_EQ(result.loss, loss.item());
  }
}

TEST(CheckpointedRollout, FusedMassSpringEqualsTheFullTapeForEveryBudget) {
  const SpringScene scene;
  for (const std::size_t steps : {1, 2, 3, 7, 40, 150}) {
    const RolloutProblem problem = scene.problem(steps);
    for (const std::size_t snapshots : {1, 2, 3, 5, 200}) {
      expect_equal_to_full_tape(
          problem, CheckpointBudget::snapshots(snapshots),
          "T = " + std::to_string(steps) + ", s = " + std::to_string(snapshots));
    }
  }
}

TEST(CheckpointedRollout, DeepSchedulesEqualTheFullTape) {
  // Many repetitions (r = 19 and r = 7): snapshots are taken, dropped and reused many times.
  const SpringScene scene;
  const RolloutProblem problem = scene.problem(1500);
  for (const std::size_t snapshots : {3, 6}) {
    expect_equal_to_full_tape(problem, CheckpointBudget::snapshots(snapshots),
                              "T = 1500, s = " + std::to_string(snapshots));
  }
}

TEST(CheckpointedRollout, ComposedMassSpringEqualsTheFullTape) {
  const SpringScene scene;
  const RolloutProblem problem = scene.problem(30, true);
  for (const std::size_t snapshots : {1, 3, 40}) {
    expect_equal_to_full_tape(problem, CheckpointBudget::snapshots(snapshots),
                              "composed, s = " + std::to_string(snapshots));
  }
}

// A state of two tensors (positions, velocities), a per-step loss and a final loss, and two
// parameters (a drag coefficient and a per-step force table indexed by t).
RolloutProblem drag_problem(std::size_t steps) {
  RolloutProblem problem;
  problem.step = [](TensorTape& tape, std::span<const TensorVar> state,
                    std::span<const TensorVar> params, std::size_t t) {
    const TensorVar force = maya::select(params[1], 0, static_cast<long>(t));
    const TensorVar drag = params[0] * state[1] * maya::abs(state[1]);
    const TensorVar accel = force - drag + tape.constant(Tensor::from_data({0.0, -9.8}, {2}));
    auto [p1, v1] = maya::dynamics::semi_implicit_euler_step(state[0], state[1], accel, 0.01);
    return std::vector<TensorVar>{p1, v1};
  };
  problem.initial_state = {Tensor::from_data({0.0, 1.0, 0.5, 2.0, -1.0, 1.5}, {3, 2}),
                           Tensor::from_data({1.0, 0.0, 0.5, 0.5, 2.0, 3.0}, {3, 2})};
  problem.parameters = {Tensor::scalar(0.3), Tensor::normal({steps, 2}, 0.0, 1.0, 11)};
  problem.steps = steps;
  problem.step_loss = [](TensorTape&, std::span<const TensorVar> state, std::span<const TensorVar>,
                         std::size_t) { return maya::sum(maya::square(state[0])) * 1e-2; };
  problem.final_loss = [](TensorTape&, std::span<const TensorVar> state,
                          std::span<const TensorVar> params) {
    return maya::sum(maya::square(state[1])) + params[0] * params[0];
  };
  return problem;
}

TEST(CheckpointedRollout, SeveralStateTensorsAndPerStepLossesEqualTheFullTape) {
  for (const std::size_t steps : {1, 5, 64}) {
    const RolloutProblem problem = drag_problem(steps);
    for (const std::size_t snapshots : {1, 2, 4, 100}) {
      expect_equal_to_full_tape(
          problem, CheckpointBudget::snapshots(snapshots),
          "T = " + std::to_string(steps) + ", s = " + std::to_string(snapshots));
    }
  }
}

TEST(CheckpointedRollout, GradientMatchesCentralDifferences) {
  const std::size_t steps = 25;
  RolloutProblem problem = drag_problem(steps);
  const RolloutGradient result = checkpointed_rollout(problem, CheckpointBudget::snapshots(3));
  const double h = 1e-6;
  const auto loss_at = [&](std::size_t which, std::size_t index, double delta, bool state) {
    RolloutProblem shifted = problem;
    Tensor& tensor = state ? shifted.initial_state[which] : shifted.parameters[which];
    tensor.mutable_data()[index] += delta;
    return checkpointed_rollout(shifted, CheckpointBudget::snapshots(3)).loss;
  };
  double worst = 0.0;
  for (std::size_t which = 0; which < 2; ++which) {
    for (const bool state : {false, true}) {
      const Tensor& analytic =
          state ? result.initial_state_gradient[which] : result.parameter_gradient[which];
      for (std::size_t i = 0; i < analytic.numel(); i += 3) {
        const double numeric =
            (loss_at(which, i, h, state) - loss_at(which, i, -h, state)) / (2 * h);
        const double a = analytic.data()[i];
        worst = std::max(worst,
                         maya::gradient_error(a, numeric, std::max(std::abs(a), std::abs(numeric)),
                                              maya::central_difference_floor(result.loss, h)));
      }
    }
  }
  EXPECT_LT(worst, 1e-7);
}

TEST(CheckpointedRollout, ByteBudgetPicksSnapshotsThatFit) {
  const SpringScene scene;
  const RolloutProblem problem = scene.problem(200);
  const std::size_t state_bytes = problem.initial_state[0].numel() * sizeof(double);
  const RolloutGradient roomy = checkpointed_rollout(problem, CheckpointBudget::bytes(64 << 20));
  EXPECT_EQ(roomy.report.snapshots, 199u);  // one forward sweep is all it needs
  EXPECT_EQ(roomy.report.advances, 199u);
  const RolloutGradient tight = checkpointed_rollout(
      problem, CheckpointBudget::bytes(2 * roomy.report.peak_tape_bytes + 10 * state_bytes));
  EXPECT_GE(tight.report.snapshots, 1u);
  EXPECT_LE(tight.report.snapshots, 10u);
  EXPECT_GT(tight.report.repetitions, 1u);
  expect_same_bits(tight.parameter_gradient, roomy.parameter_gradient, "tight vs roomy");
  EXPECT_THROW((void)checkpointed_rollout(problem, CheckpointBudget::bytes(state_bytes)),
               maya::ValueError);
}

// A step that counts its calls, so the tests can see nothing ran before the error.
struct CountingProblem {
  std::size_t calls = 0;
  RolloutProblem problem;
  explicit CountingProblem(std::size_t steps) {
    problem.step = [this](TensorTape&, std::span<const TensorVar> state,
                          std::span<const TensorVar> params, std::size_t) {
      ++calls;
      return std::vector<TensorVar>{state[0] * params[0]};
    };
    problem.initial_state = {Tensor::ones({3})};
    problem.parameters = {Tensor::scalar(0.5)};
    problem.steps = steps;
    problem.final_loss = [](TensorTape&, std::span<const TensorVar> state,
                            std::span<const TensorVar>) { return maya::sum(state[0]); };
  }
};

template <class Error>
void expect_error(const RolloutProblem& problem, CheckpointBudget budget,
                  const std::string& words) {
  try {
    (void)checkpointed_rollout(problem, budget);
    FAIL() << "no error; expected one saying '" << words << "'";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
  }
}

TEST(CheckpointedRollout, ABudgetBelowOneSnapshotIsRejectedBeforeAnyStep) {
  CountingProblem counting(100);
  expect_error<maya::ValueError>(counting.problem, CheckpointBudget::snapshots(0),
                                 "a budget of 0 snapshots cannot run");
  EXPECT_EQ(counting.calls, 0u);
  expect_error<maya::ValueError>(counting.problem, CheckpointBudget::bytes(16),
                                 "a budget of 16 bytes cannot hold one snapshot");
  EXPECT_EQ(counting.calls, 1u);  // the one validation step that measures a step's tape
}

TEST(CheckpointedRollout, AStepThatChangesTheStateIsRejectedAfterOneStep) {
  CountingProblem counting(100);
  counting.problem.step = [&](TensorTape&, std::span<const TensorVar> state,
                              std::span<const TensorVar>, std::size_t) {
    ++counting.calls;
    return std::vector<TensorVar>{maya::concat({state[0], state[0]}, 0)};
  };
  for (const CheckpointBudget budget :
       {CheckpointBudget::snapshots(5), CheckpointBudget::full_tape()}) {
    counting.calls = 0;
    expect_error<maya::ShapeError>(counting.problem, budget,
                                   "step 0 changed the shape of state tensor 0 from [3] to [6]");
    EXPECT_EQ(counting.calls, 1u);
  }
  counting.problem.step = [&](TensorTape&, std::span<const TensorVar> state,
                              std::span<const TensorVar>, std::size_t) {
    return std::vector<TensorVar>{state[0], state[0]};
  };
  expect_error<maya::ShapeError>(counting.problem, CheckpointBudget::snapshots(5),
                                 "step 0 returned 2 state tensors, the state has 1");
}

TEST(CheckpointedRollout, ANonScalarLossIsRejectedAfterOneStep) {
  CountingProblem counting(100);
  counting.problem.final_loss = [](TensorTape&, std::span<const TensorVar> state,
                                   std::span<const TensorVar>) { return state[0]; };
  expect_error<maya::ShapeError>(
      counting.problem, CheckpointBudget::snapshots(5),
      "the final-state loss must be a scalar (one element), got shape [3]");
  EXPECT_EQ(counting.calls, 1u);
  counting.problem.final_loss = nullptr;
  counting.problem.step_loss = [](TensorTape&, std::span<const TensorVar> state,
                                  std::span<const TensorVar>, std::size_t) { return state[0]; };
  expect_error<maya::ShapeError>(counting.problem, CheckpointBudget::snapshots(5),
                                 "the per-step loss must be a scalar");
}

TEST(CheckpointedRollout, MissingPiecesAreNamed) {
  CountingProblem counting(0);
  expect_error<maya::ValueError>(counting.problem, CheckpointBudget::snapshots(5),
                                 "needs at least 1 step, got T = 0");
  counting.problem.steps = 10;
  counting.problem.final_loss = nullptr;
  expect_error<maya::ValueError>(counting.problem, CheckpointBudget::snapshots(5), "no loss");
  counting.problem.step = nullptr;
  expect_error<maya::ValueError>(counting.problem, CheckpointBudget::snapshots(5),
                                 "no step function");
  EXPECT_EQ(counting.calls, 0u);
}

}  // namespace
