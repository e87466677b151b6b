// Codes of the elementwise functions, shared by the CPU ops' dispatch and the CUDA kernels.
#pragma once

namespace maya::tensor::detail {

enum class BinaryCode : int { add, sub, mul, div, pow, maximum, minimum };
enum class UnaryCode : int {
  sin,
  cos,
  tan,
  exp,
  log,
  sqrt,
  tanh,
  sigmoid,
  relu,
  softplus,
  abs,
  square,
  clamp
};

}  // namespace maya::tensor::detail
