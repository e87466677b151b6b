// The gradient of a long rollout within a memory budget: the forward pass keeps only the states
// that binomial checkpointing (binomial_schedule.hpp) chooses, by value and without a tape; the
// reverse pass records one step at a time on a short tape from the nearest snapshot, sweeps it
// and carries the state's adjoint to the step before. Works for any step recorded on a TensorTape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::dynamics {

// The state is a list of tensors (e.g. one [2, N, D] positions-and-velocities tensor, or a pose
// tensor and a velocity tensor); a step must return tensors of the same count, shapes and device.
// A leading world axis is just part of each tensor's shape.
//
// step(tape, state, parameters, t) -> the state after step t (t = 0 .. T-1). `state` and
// `parameters` are leaves of `tape`; everything the step records there is differentiated. The
// step must compute the same values each time it is called with the same inputs (the reverse
// pass runs it again).
using StepFunction =
    std::function<std::vector<TensorVar>(TensorTape& tape, std::span<const TensorVar> state,
                                         std::span<const TensorVar> parameters, std::size_t step)>;
// loss(tape, state, parameters) on the final state: a one-element TensorVar.
using FinalLoss = std::function<TensorVar(TensorTape& tape, std::span<const TensorVar> state,
                                          std::span<const TensorVar> parameters)>;
// loss(tape, state, parameters, t) on the state after step t: a one-element TensorVar. The
// rollout's loss is the sum over t = 0 .. T-1, plus the final loss where both are given.
using StepLoss = std::function<TensorVar(TensorTape& tape, std::span<const TensorVar> state,
                                         std::span<const TensorVar> parameters, std::size_t step)>;

struct RolloutProblem {
  StepFunction step;
  std::vector<Tensor> initial_state;  // the state tensors at t = 0
  std::vector<Tensor> parameters;     // differentiated; fixed inputs go in the step's closure
  std::size_t steps = 0;              // T >= 1
  FinalLoss final_loss;               // at least one of the two losses
  StepLoss step_loss;
};

// How much the rollout may keep.
struct CheckpointBudget {
  enum class Kind : std::uint8_t {
    kSnapshots,  // at most `amount` states held at once, the initial state's included
    kBytes,      // snapshots, one step's tape and the gradients within `amount` bytes
    kFullTape,   // no checkpointing: every step on one tape (the reference)
  };
  Kind kind = Kind::kBytes;
  std::size_t amount = std::size_t{256} << 20;

  [[nodiscard]] static CheckpointBudget snapshots(std::size_t count) noexcept {
    return {Kind::kSnapshots, count};
  }
  [[nodiscard]] static CheckpointBudget bytes(std::size_t bytes) noexcept {
    return {Kind::kBytes, bytes};
  }
  [[nodiscard]] static CheckpointBudget full_tape() noexcept { return {Kind::kFullTape, 0}; }
};

// What a run did, and what the schedule promised.
struct CheckpointReport {
  std::size_t steps = 0;        // T
  std::size_t snapshots = 0;    // s: states the schedule may hold at once (0 for the full tape)
  std::size_t repetitions = 0;  // r(T, s): no step is run forward-only more than r times
  // Forward-only step evaluations run (the forward pass and the recomputations), and Revolve's
  // bound r T - beta(s + 1, r - 1) for this T and s; the schedule is optimal, so they are equal.
  std::size_t advances = 0;
  std::size_t revolve_bound = 0;
  std::size_t taped_steps = 0;       // steps recorded and swept: T (each exactly once)
  std::size_t validation_steps = 0;  // 1: the step run once up front to check shapes
  std::size_t peak_snapshots = 0;    // the most states held at once
  std::size_t snapshot_bytes = 0;    // bytes of one state
  std::size_t peak_tape_bytes = 0;   // the largest tape recorded (TensorTape::bytes_used)
};

struct RolloutGradient {
  double loss = 0.0;
  std::vector<Tensor> final_state;
  std::vector<Tensor> initial_state_gradient;  // shapes of RolloutProblem::initial_state
  std::vector<Tensor> parameter_gradient;      // shapes of RolloutProblem::parameters
  CheckpointReport report;
};

// Runs the rollout and returns the loss, the final state and the gradients with respect to the
// initial state and the parameters. They equal those of one tape holding every step (the
// full-tape budget); the arithmetic is in the same order, so the gradients agree bit for bit.
//
// Throws, before the rollout runs: maya::ValueError for no step function, no loss, T = 0, a
// snapshot budget below 1 or a byte budget too small for one snapshot beside a step's tape;
// maya::ShapeError for a step (run once up front on the initial state) that returns a different
// number of tensors or changes a shape, and for a loss with more than one element;
// maya::DeviceError for a step that moves a state tensor to another device. A step that changes
// the shapes later throws maya::ShapeError naming the step.
[[nodiscard]] RolloutGradient checkpointed_rollout(const RolloutProblem& problem,
                                                   CheckpointBudget budget);

// The snapshot count a byte budget gives: (bytes - fixed) / state bytes, at most T - 1 useful
// ones (at least 1), where `fixed` is two step tapes of `tape_bytes` and four states. Throws
// maya::ValueError when the budget cannot hold one snapshot.
[[nodiscard]] std::size_t snapshots_for_bytes(std::size_t bytes, std::size_t state_bytes,
                                              std::size_t tape_bytes, std::size_t steps);

}  // namespace maya::dynamics
