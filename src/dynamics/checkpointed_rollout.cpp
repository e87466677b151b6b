#include "maya/dynamics/checkpointed_rollout.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "maya/core/error.hpp"
#include "maya/dynamics/binomial_schedule.hpp"

namespace maya::dynamics {

namespace {

constexpr const char* kOperation = "checkpointed_rollout";

// The loss of one recorded segment: sum of its loss inputs, plus the pairing of its last state
// with the adjoint carried from the steps after it and of the parameters with the gradient those
// steps gave them. Its backward pass hands each input that adjoint (or 1 for a loss), so the
// sweep of a short tape continues the sweep of the steps after it in the same order of additions
// as one long tape: the carried parameter gradient arrives first, then each step adds its share.
// inputs: [state..., parameters..., losses...]; saved ints: [#state, #parameters];
// saved values: the state adjoints, then the parameter gradients, flattened.
class SegmentSeedOp final : public TensorOp {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "checkpoint_seed"; }

  void backward(BackwardContext& context) const override {
    const double g = context.grad_output()[0];
    const auto counts = context.saved_ints();
    const auto carried_inputs = static_cast<std::size_t>(counts[0] + counts[1]);
    const std::span<const double> carried = context.saved();
    std::size_t offset = 0;
    for (std::size_t i = 0; i < carried_inputs; ++i) {
      const std::size_t count = context.input(i).numel();
      if (context.needs_grad(i)) {
        const MutableTensorView target = context.grad_input(i);
        for (std::size_t k = 0; k < count; ++k) target[k] += g * carried[offset + k];
      }
      offset += count;
    }
    for (std::size_t i = carried_inputs; i < context.num_inputs(); ++i) {
      if (context.needs_grad(i)) context.grad_input(i)[0] += g;
    }
  }
};

const SegmentSeedOp kSegmentSeed;

// Sum with Neumaier's compensation: the loss of a reverse pass (summed backwards) and of the full
// tape (summed forwards) then agree to rounding.
class CompensatedSum {
 public:
  void add(double value) noexcept {
    const double total = sum_ + value;
    compensation_ +=
        std::abs(sum_) >= std::abs(value) ? (sum_ - total) + value : (value - total) + sum_;
    sum_ = total;
  }
  [[nodiscard]] double value() const noexcept { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

std::size_t bytes_of(const std::vector<Tensor>& tensors) {
  std::size_t bytes = 0;
  for (const Tensor& tensor : tensors) bytes += tensor.numel() * sizeof(double);
  return bytes;
}

void copy_values(TensorView from, Tensor& to) {
  std::copy(from.values, from.values + from.numel(), to.mutable_data().begin());
}

void check_problem(const RolloutProblem& problem, const CheckpointBudget& budget) {
  const std::string op(kOperation);
  if (!problem.step) throw ValueError(op + ": no step function");
  if (!problem.final_loss && !problem.step_loss) {
    throw ValueError(op + ": no loss (give a final-state loss, a per-step loss or both)");
  }
  if (problem.steps == 0) throw ValueError(op + ": needs at least 1 step, got T = 0");
  if (problem.initial_state.empty()) throw ValueError(op + ": the initial state has no tensors");
  if (budget.kind == CheckpointBudget::Kind::kSnapshots && budget.amount < 1) {
    throw ValueError(op + ": a budget of " + std::to_string(budget.amount) +
                     " snapshots cannot run; at least 1 (the initial state) is needed");
  }
  for (std::size_t i = 0; i < problem.initial_state.size(); ++i) {
    if (problem.initial_state[i].device() != Device::kCpu) {
      throw DeviceError(op + ": initial state tensor " + std::to_string(i) + " is on " +
                        std::string(to_string(problem.initial_state[i].device())) +
                        "; the tape records CPU tensors");
    }
  }
}

class Runner {
 public:
  explicit Runner(const RolloutProblem& problem) : problem_(problem) {
    for (const Tensor& state : problem.initial_state) working_.push_back(state);
    for (const Tensor& state : problem.initial_state) {
      carried_.resize(carried_.size() + state.numel(), 0.0);
    }
    for (const Tensor& parameter : problem.parameters) {
      carried_.resize(carried_.size() + parameter.numel(), 0.0);
    }
    report_.steps = problem.steps;
    report_.snapshot_bytes = bytes_of(problem.initial_state);
  }

  // Runs step 0 and the losses on its output once on a throwaway tape: wrong shapes, devices or
  // losses are reported before the rollout starts. Returns the bytes of that tape.
  std::size_t validate() {
    tape_.clear();
    load_leaves(problem_.initial_state, true);
    const std::vector<TensorVar> next = run_step(0);
    for (std::size_t i = 0; i < next.size(); ++i) {
      const Tensor value = next[i].value();
      if (value.device() != problem_.initial_state[i].device()) {
        throw DeviceError(std::string(kOperation) + ": step 0 moved state tensor " +
                          std::to_string(i) + " from " +
                          std::string(to_string(problem_.initial_state[i].device())) + " to " +
                          std::string(to_string(value.device())));
      }
    }
    if (problem_.step_loss) {
      check_loss(problem_.step_loss(tape_, next, parameters_, 0), "per-step loss");
    }
    if (problem_.final_loss) {
      check_loss(problem_.final_loss(tape_, next, parameters_), "final-state loss");
    }
    report_.validation_steps = 1;
    const std::size_t bytes = tape_.bytes_used();
    report_.peak_tape_bytes = std::max(report_.peak_tape_bytes, bytes);
    return bytes;
  }

  // Binomial checkpointing: reverse [begin, end) from a snapshot of x_begin with `snapshots`
  // states (that one included); see binomial_split.
  void run_checkpointed(std::size_t snapshots) {
    report_.snapshots = snapshots;
    report_.repetitions = repetition_number(problem_.steps, snapshots);
    report_.revolve_bound = revolve_advances(problem_.steps, snapshots);
    push_snapshot(problem_.initial_state);

    struct Task {
      std::size_t begin;
      std::size_t end;
      std::size_t snapshots;  // 0: drop the top snapshot
    };
    std::vector<Task> tasks{{0, problem_.steps, snapshots}};
    while (!tasks.empty()) {
      Task task = tasks.back();
      tasks.pop_back();
      if (task.snapshots == 0) {
        --held_;
        continue;
      }
      // The top snapshot holds x_begin.
      bool split = false;
      while (task.end - task.begin > 1) {
        const std::size_t length = task.end - task.begin;
        const std::size_t m = binomial_split(length, task.snapshots);
        advance_from_snapshot(task.begin, m);
        if (length - m == 1) {
          // The last step is reversed from the state just reached; no snapshot needed.
          record_and_sweep(working_, task.begin + m);
          task.end = task.begin + m;
          continue;
        }
        push_snapshot(working_);
        tasks.push_back({task.begin, task.begin + m, task.snapshots});
        tasks.push_back({0, 0, 0});
        tasks.push_back({task.begin + m, task.end, task.snapshots - 1});
        split = true;
        break;
      }
      if (!split) record_and_sweep(snapshots_[held_ - 1], task.begin);
    }
  }

  // Every step on one tape, then one sweep: the reference the checkpointed pass must equal.
  void run_full_tape() {
    tape_.clear();
    load_leaves(problem_.initial_state, true);
    std::vector<TensorVar> losses;
    for (std::size_t t = 0; t < problem_.steps; ++t) {
      state_ = run_step(t);
      if (problem_.step_loss) {
        losses.push_back(checked_loss(problem_.step_loss(tape_, state_, parameters_, t), t));
      }
    }
    if (problem_.final_loss) {
      losses.push_back(
          checked_loss(problem_.final_loss(tape_, state_, parameters_), problem_.steps - 1));
    }
    for (const TensorVar loss : losses) loss_.add(tape_.view(loss)[0]);
    for (std::size_t i = 0; i < state_.size(); ++i) {
      final_state_.push_back(problem_.initial_state[i]);
      copy_values(tape_.view(state_[i]), final_state_.back());
    }
    sweep(losses);
    report_.taped_steps = problem_.steps;
  }

  RolloutGradient result() && {
    RolloutGradient out;
    out.loss = loss_.value();
    out.final_state = std::move(final_state_);
    std::size_t offset = 0;
    const auto unpack = [&](const std::vector<Tensor>& like, std::vector<Tensor>& to) {
      for (const Tensor& tensor : like) {
        to.push_back(Tensor::zeros(tensor.shape()));
        copy_values({carried_.data() + offset, tensor.shape()}, to.back());
        offset += tensor.numel();
      }
    };
    unpack(problem_.initial_state, out.initial_state_gradient);
    unpack(problem_.parameters, out.parameter_gradient);
    out.report = report_;
    return out;
  }

 private:
  void load_leaves(const std::vector<Tensor>& state, bool differentiable) {
    parameters_.clear();
    leaves_.clear();
    for (const Tensor& parameter : problem_.parameters) {
      parameters_.push_back(differentiable ? tape_.var(parameter) : tape_.constant(parameter));
    }
    for (const Tensor& tensor : state) {
      leaves_.push_back(differentiable ? tape_.var(tensor) : tape_.constant(tensor));
    }
    state_ = leaves_;
  }

  // Records step t from state_ and checks what it returns.
  std::vector<TensorVar> run_step(std::size_t t) {
    std::vector<TensorVar> next = problem_.step(tape_, state_, parameters_, t);
    const std::vector<Tensor>& initial = problem_.initial_state;
    if (next.size() != initial.size()) {
      throw ShapeError(std::string(kOperation) + ": step " + std::to_string(t) + " returned " +
                       std::to_string(next.size()) + " state tensors, the state has " +
                       std::to_string(initial.size()));
    }
    for (std::size_t i = 0; i < next.size(); ++i) {
      const ShapeView shape = next[i].shape();
      if (!std::equal(shape.begin(), shape.end(), initial[i].shape().begin(),
                      initial[i].shape().end())) {
        throw ShapeError(std::string(kOperation) + ": step " + std::to_string(t) +
                         " changed the shape of state tensor " + std::to_string(i) + " from " +
                         shape_string(initial[i].shape()) + " to " + shape_string(shape));
      }
    }
    return next;
  }

  void check_loss(TensorVar loss, const char* which) const {
    if (loss.numel() != 1) {
      throw ShapeError(std::string(kOperation) + ": the " + which +
                       " must be a scalar (one element), got shape " + shape_string(loss.shape()));
    }
  }

  TensorVar checked_loss(TensorVar loss, std::size_t t) const {
    if (loss.numel() != 1) {
      throw ShapeError(std::string(kOperation) + ": the loss after step " + std::to_string(t) +
                       " must be a scalar (one element), got shape " + shape_string(loss.shape()));
    }
    return loss;
  }

  void push_snapshot(const std::vector<Tensor>& state) {
    if (held_ == snapshots_.size()) {
      snapshots_.push_back(state);
    } else {
      for (std::size_t i = 0; i < state.size(); ++i)
        copy_values(state[i].view(), snapshots_[held_][i]);
    }
    ++held_;
    report_.peak_snapshots = std::max(report_.peak_snapshots, held_);
  }

  // x_{begin + count} into working_, from the top snapshot x_begin, without keeping a tape.
  void advance_from_snapshot(std::size_t begin, std::size_t count) {
    const std::vector<Tensor>* from = &snapshots_[held_ - 1];
    for (std::size_t t = begin; t < begin + count; ++t) {
      tape_.clear();
      load_leaves(*from, false);
      const std::vector<TensorVar> next = run_step(t);
      for (std::size_t i = 0; i < next.size(); ++i) copy_values(tape_.view(next[i]), working_[i]);
      from = &working_;
      ++report_.advances;
    }
  }

  // Records step t from x_t, its losses and the seed carrying the adjoint of x_{t+1}; sweeps;
  // leaves the adjoint of x_t and the parameters' gradient so far in carried_.
  void record_and_sweep(const std::vector<Tensor>& state, std::size_t t) {
    tape_.clear();
    load_leaves(state, true);
    state_ = run_step(t);
    std::vector<TensorVar>& losses = losses_;
    losses.clear();
    if (problem_.step_loss) {
      losses.push_back(checked_loss(problem_.step_loss(tape_, state_, parameters_, t), t));
    }
    if (t + 1 == problem_.steps) {
      if (problem_.final_loss) {
        losses.push_back(checked_loss(problem_.final_loss(tape_, state_, parameters_), t));
      }
      for (std::size_t i = 0; i < state_.size(); ++i) {
        final_state_.push_back(problem_.initial_state[i]);
        copy_values(tape_.view(state_[i]), final_state_.back());
      }
    }
    for (auto it = losses.rbegin(); it != losses.rend(); ++it) loss_.add(tape_.view(*it)[0]);
    sweep(losses);
    ++report_.taped_steps;
  }

  // Records the seed over state_ (the segment's last state), the parameters and `losses`, sweeps
  // the tape from it and reads the adjoint of the segment's first state and the parameters.
  void sweep(const std::vector<TensorVar>& losses) {
    inputs_.clear();
    inputs_.insert(inputs_.end(), state_.begin(), state_.end());
    inputs_.insert(inputs_.end(), parameters_.begin(), parameters_.end());
    inputs_.insert(inputs_.end(), losses.begin(), losses.end());
    const std::int64_t counts[2] = {static_cast<std::int64_t>(state_.size()),
                                    static_cast<std::int64_t>(parameters_.size())};
    double value = 0.0;
    for (const TensorVar loss : losses) value += tape_.view(loss)[0];
    const Shape scalar{};
    const TensorVar seed = tape_.record(
        kSegmentSeed, inputs_, scalar, [&](MutableTensorView out) { out[0] = value; },
        SavedData{carried_, counts});
    report_.peak_tape_bytes = std::max(report_.peak_tape_bytes, tape_.bytes_used());
    tape_.grad(seed, gradients_);
    double* to = carried_.data();
    for (const TensorVar leaf : leaves_) {
      const auto g = gradients_[leaf].data();
      to = std::copy(g.begin(), g.end(), to);
    }
    for (const TensorVar parameter : parameters_) {
      const auto g = gradients_[parameter].data();
      to = std::copy(g.begin(), g.end(), to);
    }
  }

  const RolloutProblem& problem_;
  TensorTape tape_;
  TensorGradients gradients_;
  std::vector<TensorVar> parameters_;  // leaves of tape_
  std::vector<TensorVar> leaves_;      // the state leaves of tape_
  std::vector<TensorVar> state_;       // the latest state recorded on tape_
  std::vector<TensorVar> losses_;
  std::vector<TensorVar> inputs_;
  // d loss / d (the state the sweep reached), then d loss / d parameters over the steps swept,
  // flattened: what the next short tape's seed carries.
  std::vector<double> carried_;
  std::vector<Tensor> working_;                 // the state the last advance reached
  std::vector<std::vector<Tensor>> snapshots_;  // slots, reused; the first held_ are live
  std::size_t held_ = 0;
  std::vector<Tensor> final_state_;
  CompensatedSum loss_;
  CheckpointReport report_;
};

}  // namespace

std::size_t snapshots_for_bytes(std::size_t bytes, std::size_t state_bytes, std::size_t tape_bytes,
                                std::size_t steps) {
  const std::size_t fixed = 2 * tape_bytes + 4 * state_bytes;
  if (state_bytes == 0 || bytes < fixed + state_bytes) {
    throw ValueError(std::string(kOperation) + ": a budget of " + std::to_string(bytes) +
                     " bytes cannot hold one snapshot of " + std::to_string(state_bytes) +
                     " bytes beside a step's tape and gradients (" + std::to_string(fixed) +
                     " bytes); at least " + std::to_string(fixed + state_bytes) + " are needed");
  }
  const std::size_t useful = std::max<std::size_t>(1, steps - 1);
  return std::min((bytes - fixed) / state_bytes, useful);
}

RolloutGradient checkpointed_rollout(const RolloutProblem& problem, CheckpointBudget budget) {
  check_problem(problem, budget);
  Runner runner(problem);
  const std::size_t tape_bytes = runner.validate();
  if (budget.kind == CheckpointBudget::Kind::kFullTape) {
    runner.run_full_tape();
    return std::move(runner).result();
  }
  std::size_t snapshots = budget.amount;
  if (budget.kind == CheckpointBudget::Kind::kBytes) {
    snapshots = snapshots_for_bytes(budget.amount, bytes_of(problem.initial_state), tape_bytes,
                                    problem.steps);
  }
  runner.run_checkpointed(snapshots);
  return std::move(runner).result();
}

}  // namespace maya::dynamics
