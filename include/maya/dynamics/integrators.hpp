// Time integrators on the tensor tape: x'' = a(x, v). Each step is composed of tensor ops, so
// gradients flow to the state, the acceleration (any shape that broadcasts) and a TensorVar dt.
#pragma once

#include <concepts>

#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::dynamics {

struct StepResult {
  TensorVar position;
  TensorVar velocity;
};

// Explicit Euler: p1 = p + dt v, v1 = v + dt a.
[[nodiscard]] StepResult euler_step(TensorVar p, TensorVar v, TensorVar a, double dt);
[[nodiscard]] StepResult euler_step(TensorVar p, TensorVar v, TensorVar a, TensorVar dt);

// Semi-implicit (symplectic) Euler: v1 = v + dt a, then p1 = p + dt v1.
[[nodiscard]] StepResult semi_implicit_euler_step(TensorVar p, TensorVar v, TensorVar a, double dt);
[[nodiscard]] StepResult semi_implicit_euler_step(TensorVar p, TensorVar v, TensorVar a,
                                                  TensorVar dt);

// Classical RK4 for a state-independent acceleration (exact for constant a).
[[nodiscard]] StepResult rk4_step(TensorVar p, TensorVar v, TensorVar a, double dt);
[[nodiscard]] StepResult rk4_step(TensorVar p, TensorVar v, TensorVar a, TensorVar dt);

// A force closure: accel(p, v) -> TensorVar, evaluated four times per RK4 step.
template <class F>
concept AccelerationField = std::invocable<F, TensorVar, TensorVar> &&
    std::convertible_to<std::invoke_result_t<F, TensorVar, TensorVar>, TensorVar>;

// Classical RK4 for x'' = accel(x, v) as the first-order system (x, v)' = (v, accel(x, v)).
template <AccelerationField F, class Dt>
requires std::same_as<Dt, double> || std::same_as<Dt, TensorVar>
[[nodiscard]] StepResult rk4_step(TensorVar p, TensorVar v, F&& accel, Dt dt) {
  const auto half = [&](TensorVar x) { return x * dt * 0.5; };
  const auto full = [&](TensorVar x) { return x * dt; };
  const TensorVar k1x = v;
  const TensorVar k1v = accel(p, v);
  const TensorVar k2x = v + half(k1v);
  const TensorVar k2v = accel(p + half(k1x), k2x);
  const TensorVar k3x = v + half(k2v);
  const TensorVar k3v = accel(p + half(k2x), k3x);
  const TensorVar k4x = v + full(k3v);
  const TensorVar k4v = accel(p + full(k3x), k4x);
  // x1 = x + dt/6 (k1 + 2 k2 + 2 k3 + k4), likewise for v.
  const TensorVar dx = k1x + 2.0 * k2x + 2.0 * k3x + k4x;
  const TensorVar dv = k1v + 2.0 * k2v + 2.0 * k3v + k4v;
  return {p + full(dx) / 6.0, v + full(dv) / 6.0};
}

}  // namespace maya::dynamics

// The seed's integrators are maya's vocabulary: users reach them as maya::euler_step.
namespace maya {
using dynamics::euler_step;
using dynamics::rk4_step;
using dynamics::semi_implicit_euler_step;
using dynamics::StepResult;
}  // namespace maya
