// One-element losses that weigh every entry of a tensor differently, so a gradient check tests
// each entry's gradient and not just their sum. Shared by every layer's tests.
#pragma once

#include <cstdint>
#include <maya/maya.hpp>

namespace maya_test {

// sum(out * w), w fixed pseudo-random in [0.5, 1.5).
inline maya::TensorVar weighted_sum(maya::TensorVar out, std::uint64_t seed = 99) {
  const maya::Shape shape(out.shape().begin(), out.shape().end());
  return maya::sum(out * out.tape().constant(maya::Tensor::uniform(shape, 0.5, 1.5, seed)));
}

// sum(w * state^2 + u * state), w in [0.5, 1.5) and u in [-1, 1) fixed pseudo-random: the
// gradient 2 w state + u depends on every component.
inline maya::TensorVar weighted_quadratic(maya::TensorVar state) {
  const maya::Shape shape(state.shape().begin(), state.shape().end());
  maya::TensorTape& tape = state.tape();
  const maya::TensorVar w = tape.constant(maya::Tensor::uniform(shape, 0.5, 1.5, 17));
  const maya::TensorVar u = tape.constant(maya::Tensor::uniform(shape, -1.0, 1.0, 18));
  return maya::sum(w * state * state + u * state);
}

}  // namespace maya_test
