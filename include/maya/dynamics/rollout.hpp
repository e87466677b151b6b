// Runs a step function T times from an initial state and keeps every state, so a loss can read
// any of them (a final target, a whole observed trajectory).
#pragma once

#include <concepts>
#include <cstddef>
#include <vector>

#include "maya/tensor/tensor_var.hpp"

namespace maya::dynamics {

struct Trajectory {
  std::vector<TensorVar> states;  // states[0] is the initial state, states[t] after t steps

  [[nodiscard]] TensorVar initial() const { return states.front(); }
  [[nodiscard]] TensorVar final() const { return states.back(); }
  [[nodiscard]] std::size_t steps() const noexcept {
    return states.empty() ? 0 : states.size() - 1;
  }
};

// step(state, t) -> next state.
template <class Step>
requires std::convertible_to<std::invoke_result_t<Step, TensorVar, std::size_t>, TensorVar>
[[nodiscard]] Trajectory rollout(TensorVar initial, std::size_t steps, Step&& step) {
  Trajectory trajectory;
  trajectory.states.reserve(steps + 1);
  trajectory.states.push_back(initial);
  for (std::size_t t = 0; t < steps; ++t) {
    trajectory.states.push_back(step(trajectory.states.back(), t));
  }
  return trajectory;
}

}  // namespace maya::dynamics
