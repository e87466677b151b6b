// What the GPU tests share: the skip without a usable GPU, and running one program on the CPU
// and on the GPU from the same inputs to compare values and gradients (float64, relative).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <maya/maya.hpp>
#include <maya/tensor/cuda.hpp>
#include <span>
#include <vector>

// Skips (never passes) the test where Device::kCuda is unusable, naming why.
#define MAYA_REQUIRE_GPU()                                                  \
  do {                                                                      \
    if (!maya::cuda_available()) {                                          \
      GTEST_SKIP() << "no usable GPU: " << maya::cuda_unavailable_reason(); \
    }                                                                       \
  } while (false)

namespace maya_gpu_test {

using Program = std::function<maya::TensorVar(std::span<const maya::TensorVar>)>;

struct Run {
  maya::Tensor output;  // on the CPU
  double loss = 0.0;
  std::vector<maya::Tensor> gradients;  // on the CPU
};

// Records program(inputs on `device`), a weighted sum of its output as the loss, and the
// gradients of every input.
inline Run run_on(maya::Device device, const std::vector<maya::Tensor>& inputs,
                  const Program& program) {
  maya::TensorTape tape;
  std::vector<maya::TensorVar> vars;
  for (const maya::Tensor& input : inputs) vars.push_back(tape.var(input.to(device)));
  const maya::TensorVar out = program(vars);
  const maya::Shape shape(out.shape().begin(), out.shape().end());
  const maya::TensorVar weights = tape.constant(maya::Tensor::uniform(shape, 0.5, 1.5, 99, device));
  const maya::TensorVar loss = maya::sum(out * weights);
  Run run;
  run.output = out.value().to(maya::Device::kCpu);
  EXPECT_EQ(out.device(), device);
  run.loss = loss.item();
  const maya::TensorGradients gradients = tape.grad(loss);
  for (const maya::TensorVar v : vars) {
    EXPECT_EQ(gradients[v].device(), device);
    run.gradients.push_back(gradients[v].to(maya::Device::kCpu));
  }
  return run;
}

// ||a - b|| / ||b|| (absolute when b is zero).
inline double relative_error(const maya::Tensor& a, const maya::Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return 1.0;
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const double d = a.data()[i] - b.data()[i];
    if (!std::isfinite(a.data()[i]) || !std::isfinite(b.data()[i])) return 1.0;
    diff += d * d;
    norm += b.data()[i] * b.data()[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// The program's output and every gradient agree between the CPU and the GPU to `tolerance`.
inline void expect_same_on_gpu(const std::vector<maya::Tensor>& inputs, const Program& program,
                               double tolerance = 1e-12) {
  const Run cpu = run_on(maya::Device::kCpu, inputs, program);
  const Run gpu = run_on(maya::Device::kCuda, inputs, program);
  EXPECT_LE(relative_error(gpu.output, cpu.output), tolerance) << "output";
  EXPECT_NEAR(gpu.loss, cpu.loss, tolerance * std::max(1.0, std::abs(cpu.loss)));
  ASSERT_EQ(gpu.gradients.size(), cpu.gradients.size());
  for (std::size_t i = 0; i < cpu.gradients.size(); ++i) {
    EXPECT_LE(relative_error(gpu.gradients[i], cpu.gradients[i]), tolerance)
        << "gradient of input " << i;
  }
}

inline maya::Tensor uniform(maya::Shape shape, double low, double high, std::uint64_t seed) {
  return maya::Tensor::uniform(std::move(shape), low, high, seed);
}

}  // namespace maya_gpu_test
