// Fused elementwise nodes on the GPU against the same node on the CPU and against the composed
// twin on the GPU (values and gradients, 1e-12 relative), a short W3 rollout recorded both ways,
// and the ops whose GPU path is a fused node or an axis kernel: where, max, min, norm.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <maya/maya.hpp>
#include <maya/tensor/cuda.hpp>
#include <string>
#include <vector>

#include "gpu_harness.hpp"

namespace {

using maya::ElementwiseProgram;
using maya::Shape;
using maya::Tensor;
using maya::TensorVar;
using maya_gpu_test::expect_same_on_gpu;
using maya_gpu_test::relative_error;
using maya_gpu_test::run_on;
using maya_gpu_test::uniform;
using Inputs = std::span<const TensorVar>;

constexpr auto kPosition = [](auto x, auto v, auto a) {
  return x + 0.01 * (v + 0.01 * (5.0 * a - 0.5 * v));
};
constexpr auto kFunctions = [](auto x, auto y) {
  using maya::abs, maya::clamp, maya::cos, maya::exp, maya::log, maya::relu, maya::sigmoid,
      maya::sin, maya::softplus, maya::sqrt, maya::square, maya::tan;
  auto s = sin(x) * cos(y) + tan(0.3 * x);
  auto t = exp(0.5 * y) / (2.0 + sigmoid(x)) - log(1.5 + square(y));
  auto u = sqrt(1.0 + abs(x)) + softplus(y) + relu(x - 0.1) + clamp(y, -0.4, 0.4);
  return s + t + u;
};
constexpr auto kSelect = [](auto x, auto y, auto m) {
  using maya::maximum, maya::minimum, maya::pow, maya::square, maya::tanh, maya::where;
  auto v = maximum(x, y) - minimum(x, 0.7) + maximum(y, 0.2);
  auto w = pow(1.2 + square(x), y) + pow(1.0 + square(y), 1.5) - 3.0 / (4.0 + tanh(x));
  return where(m, v, w);
};

Tensor mask(Shape shape, std::uint64_t seed) {
  Tensor m = uniform(std::move(shape), -1.0, 1.0, seed);
  for (double& v : m.mutable_data()) v = v > 0.0 ? 1.0 : 0.0;
  return m;
}

// The fused program equals its composed twin on the GPU.
void expect_fused_equals_composed(const std::vector<Tensor>& inputs,
                                  const maya_gpu_test::Program& fused,
                                  const maya_gpu_test::Program& composed) {
  const maya_gpu_test::Run a = run_on(maya::Device::kCuda, inputs, fused);
  const maya_gpu_test::Run b = run_on(maya::Device::kCuda, inputs, composed);
  EXPECT_LE(relative_error(a.output, b.output), 1e-12);
  for (std::size_t i = 0; i < a.gradients.size(); ++i) {
    EXPECT_LE(relative_error(a.gradients[i], b.gradients[i]), 1e-12) << "input " << i;
  }
}

}  // namespace

TEST(GpuFused, IntegratorStepLikeTheCpuAndTheComposedChain) {
  MAYA_REQUIRE_GPU();
  const ElementwiseProgram position = ElementwiseProgram::build<3>("position", kPosition);
  const std::vector<std::vector<Shape>> cases = {
      {{300, 2}, {300, 2}, {300, 2}}, {{5, 2}, {2}, {5, 1}}, {{}, {3, 4}, {1}},
      {{2, 1, 3}, {4, 1}, {3}},       {{1}, {1}, {1}},
  };
  std::uint64_t seed = 40;
  for (const auto& shapes : cases) {
    std::vector<Tensor> inputs;
    for (const Shape& s : shapes) inputs.push_back(uniform(s, -1.0, 1.0, seed++));
    const auto fused = [&](Inputs v) { return maya::fused(position, {v[0], v[1], v[2]}); };
    expect_same_on_gpu(inputs, fused);
    expect_fused_equals_composed(inputs, fused,
                                 [](Inputs v) { return kPosition(v[0], v[1], v[2]); });
  }
}

TEST(GpuFused, EveryFunctionLikeTheCpuAndTheComposedChain) {
  MAYA_REQUIRE_GPU();
  const ElementwiseProgram functions = ElementwiseProgram::build<2>("functions", kFunctions);
  const ElementwiseProgram select = ElementwiseProgram::build<3>("select", kSelect);
  const std::vector<Tensor> inputs = {uniform({40, 6}, -1.0, 1.0, 3), uniform({6}, -1.0, 1.0, 4),
                                      mask({40, 1}, 5)};
  const auto fused = [&](Inputs v) {
    return maya::fused(functions, {v[0], v[1]}) * maya::fused(select, {v[0], v[1], v[2]});
  };
  expect_same_on_gpu(inputs, fused);
  expect_fused_equals_composed(
      inputs, fused, [](Inputs v) { return kFunctions(v[0], v[1]) * kSelect(v[0], v[1], v[2]); });
}

// W3's step (dense layers, fused effort, velocity and position nodes) for 12 steps against the
// same rollout recorded op by op.
TEST(GpuFused, PolicyRolloutLikeTheComposedRollout) {
  MAYA_REQUIRE_GPU();
  const ElementwiseProgram effort_program =
      ElementwiseProgram::build<2>("effort", [](auto effort, auto a) { return effort + a * a; });
  const ElementwiseProgram velocity_program = ElementwiseProgram::build<2>(
      "velocity", [](auto v, auto a) { return v + 0.01 * (5.0 * a - 0.5 * v); });
  const ElementwiseProgram position_program =
      ElementwiseProgram::build<2>("position", [](auto x, auto v) { return x + 0.01 * v; });
  const std::vector<Tensor> inputs = {uniform({4, 16}, -0.5, 0.5, 2), uniform({16}, -0.1, 0.1, 3),
                                      uniform({16, 2}, -0.5, 0.5, 4), uniform({2}, -0.1, 0.1, 5),
                                      uniform({33, 4}, -1.0, 1.0, 1)};
  constexpr int kSteps = 12;
  const auto rollout = [&](Inputs p, bool fused) {
    TensorVar x = maya::slice(p[4], 1, 0, 2);
    TensorVar v = maya::slice(p[4], 1, 2, 4);
    TensorVar effort =
        fused ? p[4].tape().constant(Tensor::zeros({33, 2}, p[4].device())) : TensorVar{};
    TensorVar total;
    for (int t = 0; t < kSteps; ++t) {
      const TensorVar state = maya::concat({x, v}, 1);
      const TensorVar a = maya::dense(maya::dense(state, p[0], p[1], maya::Activation::tanh), p[2],
                                      p[3], maya::Activation::tanh);
      if (fused) {
        effort = maya::fused(effort_program, {effort, a});
        v = maya::fused(velocity_program, {v, a});
        x = maya::fused(position_program, {x, v});
      } else {
        const TensorVar e = maya::sum(a * a);
        total = t == 0 ? e : total + e;
        v = v + 0.01 * (5.0 * a - 0.5 * v);
        x = x + 0.01 * v;
      }
    }
    return maya::sum(x * x, 1) + 1e-3 * (fused ? maya::sum(effort) : total);
  };
  const auto fused = [&](Inputs p) { return rollout(p, true); };
  expect_same_on_gpu(inputs, fused);
  expect_fused_equals_composed(inputs, fused, [&](Inputs p) { return rollout(p, false); });
}

// The GPU runs each program as a kernel compiled for it (unless MAYA_CUDA_FUSED_JIT=0 asks for
// the interpreter, which the tests above then check instead).
TEST(GpuFused, ProgramsRunAsCompiledKernels) {
  MAYA_REQUIRE_GPU();
  const ElementwiseProgram position = ElementwiseProgram::build<3>("position", kPosition);
  const std::vector<Tensor> inputs = {uniform({7, 3}, -1.0, 1.0, 1), uniform({3}, -1.0, 1.0, 2),
                                      uniform({7, 1}, -1.0, 1.0, 3)};
  expect_same_on_gpu(inputs, [&](Inputs v) { return maya::fused(position, {v[0], v[1], v[2]}); });
  const char* setting = std::getenv("MAYA_CUDA_FUSED_JIT");
  if (setting != nullptr && std::string(setting) == "0") {
    EXPECT_EQ(maya::cuda_fused_jit_fallback_reason(), "MAYA_CUDA_FUSED_JIT=0");
    GTEST_SKIP() << "MAYA_CUDA_FUSED_JIT=0: fused programs run through the interpreter";
  }
  EXPECT_EQ(maya::cuda_fused_jit_fallback_reason(), "");
}

// A program first used while a CUDA graph is captured is compiled then, and the replayed graph
// computes what the composed chain does on the CPU.
TEST(GpuFused, ProgramFirstCompiledInsideAGraphCapture) {
  MAYA_REQUIRE_GPU();
  const auto warm_body = [](auto x, auto y) { return maya::sin(0.217 * x) * (y - 0.551); };
  const auto body = [](auto x, auto y) {
    return maya::tanh(0.123 * x - y * 0.917) + 0.311 * x * y;  // constants no other test uses
  };
  const ElementwiseProgram warm = ElementwiseProgram::build<2>("warm", warm_body);
  const ElementwiseProgram fresh = ElementwiseProgram::build<2>("fresh", body);
  const Tensor x0 = uniform({50, 3}, -1.0, 1.0, 7);
  const Tensor y0 = uniform({50, 3}, -1.0, 1.0, 8);
  const Tensor x0_gpu = x0.to(maya::Device::kCuda);
  const Tensor y0_gpu = y0.to(maya::Device::kCuda);
  maya::TensorTape tape;
  maya::TensorGradients grads;
  TensorVar x;
  TensorVar y;
  TensorVar loss;
  const ElementwiseProgram* program = &warm;
  const auto step = [&] {
    tape.clear();
    x = tape.var(x0_gpu);
    y = tape.var(y0_gpu);
    loss = maya::sum(maya::fused(*program, {x, y}));
    tape.grad(loss, grads);
  };
  step();  // the tape's device memory and the gradients, with another program
  maya::cuda_synchronize();
  program = &fresh;
  maya::CudaGraph graph = maya::CudaGraph::capture(step);
  graph.replay();
  maya::cuda_synchronize();

  maya::TensorTape cpu;
  const TensorVar xc = cpu.var(x0);
  const TensorVar yc = cpu.var(y0);
  const TensorVar loss_cpu = maya::sum(body(xc, yc));
  const maya::TensorGradients expected = cpu.grad(loss_cpu);
  EXPECT_NEAR(loss.item(), loss_cpu.item(), 1e-12 * std::abs(loss_cpu.item()));
  EXPECT_LE(relative_error(grads[x].to(maya::Device::kCpu), expected[xc]), 1e-12);
  EXPECT_LE(relative_error(grads[y].to(maya::Device::kCpu), expected[yc]), 1e-12);
}

TEST(GpuWhere, BroadcastMaskAndOperandsLikeTheCpu) {
  MAYA_REQUIRE_GPU();
  expect_same_on_gpu({mask({3, 1}, 1), uniform({3, 4}, -1.0, 1.0, 2), uniform({4}, -1.0, 1.0, 3)},
                     [](Inputs v) { return maya::where(v[0], v[1], v[2]); });
  expect_same_on_gpu({mask({2, 3}, 4), uniform({}, -1.0, 1.0, 5), uniform({2, 3}, -1.0, 1.0, 6)},
                     [](Inputs v) { return maya::where(v[0], v[1], v[2]); });
}

TEST(GpuAxisReductions, MaxMinNormOverEveryAxisWithTiesAndZeros) {
  MAYA_REQUIRE_GPU();
  // Values on a coarse grid: many ties, so the first arg-max rule is exercised.
  Tensor x = uniform({3, 4, 5}, -1.0, 1.0, 21);
  for (double& v : x.mutable_data()) v = std::round(v * 3.0) / 3.0;
  // A zero vector along axis 1 at [0, :, 0]: norm's gradient is 0 there.
  for (std::size_t j = 0; j < 4; ++j) x.mutable_data()[j * 5] = 0.0;
  const std::vector<Tensor> inputs = {x};
  for (long axis = -3; axis < 3; ++axis) {
    for (const bool keepdim : {false, true}) {
      expect_same_on_gpu(inputs, [=](Inputs v) { return maya::max(v[0], axis, keepdim); });
      expect_same_on_gpu(inputs, [=](Inputs v) { return maya::min(v[0], axis, keepdim); });
      expect_same_on_gpu(inputs, [=](Inputs v) { return maya::norm(v[0], axis, keepdim); });
    }
  }
  // The gradient reaches those nodes after another consumer (accumulating, not assigning).
  expect_same_on_gpu(inputs, [](Inputs v) {
    return maya::max(v[0], 1) + maya::norm(v[0], 1) + maya::min(v[0], 1);
  });
  expect_same_on_gpu({uniform({2000, 3}, -1.0, 1.0, 22)},
                     [](Inputs v) { return maya::norm(v[0], 1, true) + maya::max(v[0], 0, true); });
}

// Tall batches take the dense layer's row-split parameter gradients (blocks over slices of
// rows, partial sums added in block order).
TEST(GpuDense, TallBatchParameterGradientsLikeTheCpu) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> inputs = {uniform({3000, 4}, -1.0, 1.0, 61),
                                      uniform({4, 64}, -0.5, 0.5, 62), uniform({64}, -0.1, 0.1, 63),
                                      uniform({64, 2}, -0.5, 0.5, 64), uniform({2}, -0.1, 0.1, 65)};
  expect_same_on_gpu(inputs, [](Inputs v) {
    const TensorVar hidden = maya::dense(v[0], v[1], v[2], maya::Activation::tanh);
    return maya::dense(hidden, v[3], v[4], maya::Activation::tanh) +
           maya::dense(hidden, v[3], v[4], maya::Activation::identity);
  });
}
