#include "maya/dynamics/integrators.hpp"

namespace maya::dynamics {
namespace {

template <class Dt>
StepResult euler(TensorVar p, TensorVar v, TensorVar a, Dt dt) {
  return {p + v * dt, v + a * dt};
}

template <class Dt>
StepResult semi_implicit(TensorVar p, TensorVar v, TensorVar a, Dt dt) {
  const TensorVar v1 = v + a * dt;
  return {p + v1 * dt, v1};
}

}  // namespace

StepResult euler_step(TensorVar p, TensorVar v, TensorVar a, double dt) {
  return euler(p, v, a, dt);
}
StepResult euler_step(TensorVar p, TensorVar v, TensorVar a, TensorVar dt) {
  return euler(p, v, a, dt);
}
StepResult semi_implicit_euler_step(TensorVar p, TensorVar v, TensorVar a, double dt) {
  return semi_implicit(p, v, a, dt);
}
StepResult semi_implicit_euler_step(TensorVar p, TensorVar v, TensorVar a, TensorVar dt) {
  return semi_implicit(p, v, a, dt);
}
StepResult rk4_step(TensorVar p, TensorVar v, TensorVar a, double dt) {
  return rk4_step(
      p, v, [a](TensorVar, TensorVar) { return a; }, dt);
}
StepResult rk4_step(TensorVar p, TensorVar v, TensorVar a, TensorVar dt) {
  return rk4_step(
      p, v, [a](TensorVar, TensorVar) { return a; }, dt);
}

}  // namespace maya::dynamics
