#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>

namespace {

using maya::StepResult;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

using Stepper = StepResult (*)(TensorVar, TensorVar, TensorVar, TensorVar);

TensorVar weighted(TensorVar x, std::uint64_t seed) {
  const Tensor w = Tensor::uniform(maya::Shape(x.shape().begin(), x.shape().end()), 0.5, 1.5, seed);
  return maya::sum(x * x.tape().constant(w));
}

}  // namespace

TEST(SemiImplicitEuler, SeedExampleGradientIsStepsTimesDt) {
  TensorTape t;
  TensorVar p = t.var(Tensor::from_data({0.0}, {1}));
  TensorVar v = t.var(Tensor::from_data({1.5}, {1}));
  const TensorVar v0 = v;
  const TensorVar a = t.var(Tensor::from_data({-9.81}, {1}));
  for (int i = 0; i < 10; ++i) {
    auto [np, nv] = maya::semi_implicit_euler_step(p, v, a, 0.05);
    p = np;
    v = nv;
  }
  const auto grads = t.grad(p.sum());
  EXPECT_NEAR(grads[v0.idx()].data()[0], 0.5, 1e-10);
}

TEST(Integrators, GradientsMatchCentralDifferencesForStateDependentAccelerations) {
  // Inputs: p, v (shape [3, 2]), a parameter w (shape [1]) and dt (0-d).
  const Tensor inputs[] = {Tensor::uniform({3, 2}, -1, 1, 1), Tensor::uniform({3, 2}, -1, 1, 2),
                           Tensor::from_data({1.3}, {1}), Tensor::scalar(0.05)};
  const Stepper steppers[] = {maya::euler_step, maya::semi_implicit_euler_step, maya::rk4_step};
  // Constant, position-dependent and velocity-dependent accelerations.
  for (int kind = 0; kind < 3; ++kind) {
    for (const Stepper step : steppers) {
      const auto report = maya::gradcheck(
          [&](TensorTape&, std::span<const TensorVar> x) {
            TensorVar p = x[0];
            TensorVar v = x[1];
            const TensorVar w = x[2];
            for (int i = 0; i < 5; ++i) {
              TensorVar a = w * -9.8;
              if (kind == 1) a = -w * w * p - 0.3 * maya::pow(p, 3.0);
              if (kind == 2) a = -w * v - 0.2 * v * maya::abs(v);
              const StepResult next = step(p, v, a, x[3]);
              p = next.position;
              v = next.velocity;
            }
            return weighted(p, 11) + weighted(v, 12);
          },
          inputs);
      EXPECT_LT(report.max_error(), 1e-7) << "acceleration kind " << kind;
    }
  }
}

TEST(Rk4, ForceClosureGradientsMatchCentralDifferences) {
  const Tensor inputs[] = {Tensor::uniform({4}, -1, 1, 3), Tensor::uniform({4}, -1, 1, 4),
                           Tensor::from_data({2.0}, {1})};
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar w = x[2];
        const auto accel = [w](TensorVar p, TensorVar v) {
          return -w * w * maya::sin(p) - 0.1 * v * v;  // a damped pendulum-like field
        };
        TensorVar p = x[0];
        TensorVar v = x[1];
        for (int i = 0; i < 8; ++i) {
          const StepResult next = maya::rk4_step(p, v, accel, 0.05);
          p = next.position;
          v = next.velocity;
        }
        return weighted(p, 5) + weighted(v, 6);
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-7);
}

namespace {

struct OscillatorEnd {
  double x, dx_dx0, dx_dv0, dx_dw;
};

// x'' = -w^2 x by RK4 for T = 2 at step dt, with d x(T) / d (x0, v0, w) from the tape.
OscillatorEnd rk4_oscillator(double dt) {
  TensorTape t;
  const TensorVar x0 = t.var(Tensor::scalar(0.7));
  const TensorVar v0 = t.var(Tensor::scalar(-0.4));
  const TensorVar w = t.var(Tensor::scalar(1.9));
  const auto accel = [w](TensorVar p, TensorVar) { return -(w * w) * p; };
  TensorVar p = x0;
  TensorVar v = v0;
  const int steps = static_cast<int>(std::lround(2.0 / dt));
  for (int i = 0; i < steps; ++i) {
    const StepResult next = maya::rk4_step(p, v, accel, dt);
    p = next.position;
    v = next.velocity;
  }
  const auto g = t.grad(p);
  return {p.item(), g[x0].item(), g[v0].item(), g[w].item()};
}

}  // namespace

TEST(Rk4, HarmonicOscillatorMatchesClosedFormWithFourthOrderError) {
  const double x0 = 0.7, v0 = -0.4, w = 1.9, time = 2.0;
  // x(T) = x0 cos wT + v0 / w sin wT and its derivatives.
  const double c = std::cos(w * time), s = std::sin(w * time);
  const double x = x0 * c + v0 / w * s;
  const double dx_dx0 = c;
  const double dx_dv0 = s / w;
  const double dx_dw = -x0 * time * s + v0 * (time * c / w - s / (w * w));
  double previous[4] = {0, 0, 0, 0};
  for (const double dt : {0.02, 0.01}) {
    const OscillatorEnd end = rk4_oscillator(dt);
    const double errors[4] = {std::abs(end.x - x), std::abs(end.dx_dx0 - dx_dx0),
                              std::abs(end.dx_dv0 - dx_dv0), std::abs(end.dx_dw - dx_dw)};
    for (int k = 0; k < 4; ++k) {
      // Global RK4 error is C dt^4 with C of order T w^5 / 120 here.
      EXPECT_LT(errors[k], 10.0 * std::pow(dt, 4)) << "quantity " << k << " dt " << dt;
      if (previous[k] > 0.0) {
        const double order = std::log2(previous[k] / errors[k]);
        EXPECT_NEAR(order, 4.0, 0.3) << "quantity " << k;
      }
      previous[k] = errors[k];
    }
  }
}

namespace {

double oscillator_energy(TensorVar p, TensorVar v) {
  const double x = p.item();
  const double u = v.item();
  return 0.5 * u * u + 0.5 * x * x;
}

}  // namespace

TEST(SemiImplicitEuler, KeepsOscillatorEnergyBoundedWhileExplicitEulerGrows) {
  const double dt = 0.01;
  const int steps = 100000;
  double energies[2] = {0, 0};
  for (int method = 0; method < 2; ++method) {
    TensorTape t;
    TensorVar p = t.constant(Tensor::scalar(1.0));
    TensorVar v = t.constant(Tensor::scalar(0.0));
    double max_energy = 0.0;
    for (int i = 0; i < steps; ++i) {
      const TensorVar a = -p;
      const StepResult next =
          method == 0 ? maya::semi_implicit_euler_step(p, v, a, dt) : maya::euler_step(p, v, a, dt);
      p = next.position;
      v = next.velocity;
      if (i % 1000 == 999) {
        max_energy = std::max(max_energy, oscillator_energy(p, v));
        const Tensor keep_p = p.value(), keep_v = v.value();
        t.clear();
        p = t.constant(keep_p);
        v = t.constant(keep_v);
      }
    }
    energies[method] = max_energy;
  }
  // Symplectic Euler's energy error stays O(dt); explicit Euler multiplies energy by
  // (1 + dt^2) per step: e^(steps dt^2) = e^10 here.
  EXPECT_LT(std::abs(energies[0] - 0.5), 0.01);
  EXPECT_GT(energies[1], 0.5 * std::exp(9.0));
}

TEST(Integrators, FreeFallMatchesClosedForm) {
  const double dt = 0.01, a = -9.8, p0 = 2.0, v0 = 1.5;
  const int n = 50;
  // After n steps: semi-implicit p = p0 + n dt v0 + a dt^2 n (n + 1) / 2, explicit
  // p = p0 + n dt v0 + a dt^2 n (n - 1) / 2, RK4 exact p = p0 + v0 T + a T^2 / 2.
  const double T = n * dt;
  const double expected[3] = {p0 + T * v0 + a * dt * dt * n * (n + 1) / 2.0,
                              p0 + T * v0 + a * dt * dt * n * (n - 1) / 2.0,
                              p0 + v0 * T + 0.5 * a * T * T};
  const double d_da[3] = {dt * dt * n * (n + 1) / 2.0, dt * dt * n * (n - 1) / 2.0, 0.5 * T * T};
  const Stepper steppers[3] = {maya::semi_implicit_euler_step, maya::euler_step, maya::rk4_step};
  for (int k = 0; k < 3; ++k) {
    TensorTape t;
    TensorVar p = t.var(Tensor::scalar(p0));
    TensorVar v = t.var(Tensor::scalar(v0));
    const TensorVar p_start = p, v_start = v;
    const TensorVar acc = t.var(Tensor::scalar(a));
    const TensorVar step = t.constant(Tensor::scalar(dt));
    for (int i = 0; i < n; ++i) {
      const StepResult next = steppers[k](p, v, acc, step);
      p = next.position;
      v = next.velocity;
    }
    EXPECT_NEAR(p.item(), expected[k], 1e-12) << k;
    EXPECT_NEAR(v.item(), v0 + a * T, 1e-12) << k;
    const auto g = t.grad(p);
    EXPECT_NEAR(g[p_start].item(), 1.0, 1e-12);
    EXPECT_NEAR(g[v_start].item(), T, 1e-12);
    EXPECT_NEAR(g[acc].item(), d_da[k], 1e-12) << k;
  }
}
