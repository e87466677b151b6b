// The tape across devices: to() as a differentiable op, a W3-style rollout on the GPU against
// the CPU, CUDA graph capture and replay, a user-defined op with CUDA kernels, the caching
// allocator's steady state, and the errors of misuse.
#include <gtest/gtest.h>
#include <cmath>

#include <maya/maya.hpp>
#include <maya/tensor/cuda.hpp>
#include <string>
#include <vector>

#include "gpu_harness.hpp"

#if MAYA_TEST_CUDA_KERNELS
void launch_cube(const double* x, double* y, std::size_t n, void* stream);
void launch_cube_backward(const double* x, const double* g, double* gx, std::size_t n,
                          void* stream);
#endif

namespace {

using maya::Device;
using maya::Tensor;
using maya::TensorGradients;
using maya::TensorTape;
using maya::TensorVar;
using maya_gpu_test::relative_error;
using maya_gpu_test::uniform;

// W3 of the benchmark specification at a small size: a tanh policy steering point masses.
struct Rollout {
  double loss = 0.0;
  std::vector<Tensor> gradients;  // on the CPU: w1, b1, w2, b2
};

TensorVar policy_loss(TensorTape& tape, const std::vector<TensorVar>& p, const Tensor& s0,
                      std::size_t steps, bool fused) {
  const TensorVar s = tape.constant(s0);
  TensorVar x = maya::slice(s, 1, 0, 2);
  TensorVar v = maya::slice(s, 1, 2, 4);
  // A zero made once per device: a captured step creates no device tensor.
  static const Tensor zero_cpu = Tensor::scalar(0.0);
  static const Tensor zero_gpu = zero_cpu.to(Device::kCuda);
  TensorVar effort = tape.constant(s0.device() == Device::kCuda ? zero_gpu : zero_cpu);
  for (std::size_t t = 0; t < steps; ++t) {
    const TensorVar state = maya::concat({x, v}, 1);
    const TensorVar action =
        fused ? maya::dense(maya::dense(state, p[0], p[1], maya::Activation::tanh), p[2], p[3],
                            maya::Activation::tanh)
              : maya::tanh(maya::matmul(maya::tanh(maya::matmul(state, p[0]) + p[1]), p[2]) + p[3]);
    effort = effort + maya::mean(maya::sum(action * action, 1));
    v = v + 0.01 * (5.0 * action - 0.5 * v);
    x = x + 0.01 * v;
  }
  return maya::mean(maya::sum(x * x, 1)) + effort * (1e-3 / static_cast<double>(steps));
}

std::vector<Tensor> policy_parameters() {
  return {uniform({4, 64}, -0.5, 0.5, 2), uniform({64}, -0.1, 0.1, 3),
          uniform({64, 2}, -0.5, 0.5, 4), uniform({2}, -0.1, 0.1, 5)};
}

Rollout rollout(Device device, std::size_t batch, std::size_t steps, bool fused) {
  TensorTape tape;
  std::vector<TensorVar> p;
  for (const Tensor& t : policy_parameters()) p.push_back(tape.var(t.to(device)));
  const Tensor s0 = uniform({batch, 4}, -1.0, 1.0, 1).to(device);
  const TensorVar loss = policy_loss(tape, p, s0, steps, fused);
  Rollout r;
  r.loss = loss.item();
  const TensorGradients g = tape.grad(loss);
  for (const TensorVar v : p) r.gradients.push_back(g[v].to(Device::kCpu));
  return r;
}

TEST(GpuTape, PolicyRolloutMatchesTheCpu) {
  MAYA_REQUIRE_GPU();
  for (const bool fused : {true, false}) {
    SCOPED_TRACE(fused ? "fused" : "composed");
    const Rollout cpu = rollout(Device::kCpu, 300, 30, fused);
    const Rollout gpu = rollout(Device::kCuda, 300, 30, fused);
    EXPECT_NEAR(gpu.loss, cpu.loss, 1e-12 * std::abs(cpu.loss));
    for (std::size_t i = 0; i < cpu.gradients.size(); ++i) {
      EXPECT_LE(relative_error(gpu.gradients[i], cpu.gradients[i]), 1e-12) << "parameter " << i;
    }
  }
}

TEST(GpuTape, MixedDeviceTapeSweepsEachNodeWhereItLives) {
  MAYA_REQUIRE_GPU();
  const Tensor w0 = uniform({4, 3}, -1.0, 1.0, 80);
  const Tensor x0 = uniform({5, 4}, -1.0, 1.0, 81);
  const auto program = [&](bool mixed) {
    TensorTape tape;
    const TensorVar w = tape.var(w0);  // on the CPU
    const TensorVar x = tape.var(mixed ? x0.to(Device::kCuda) : x0);
    const TensorVar w_there = mixed ? maya::to(w, Device::kCuda) : w;
    const TensorVar y = maya::tanh(maya::matmul(x, w_there));
    const TensorVar back = mixed ? y.to(Device::kCpu) : y;
    EXPECT_EQ(back.device(), Device::kCpu);
    const TensorVar loss = maya::sum(back * back * maya::sin(w).sum());
    const TensorGradients g = tape.grad(loss);
    EXPECT_EQ(g[w].device(), Device::kCpu);
    EXPECT_EQ(g[x].device(), mixed ? Device::kCuda : Device::kCpu);
    return std::vector<Tensor>{g[w], g[x].to(Device::kCpu), Tensor::scalar(loss.item())};
  };
  const std::vector<Tensor> cpu = program(false);
  const std::vector<Tensor> mixed = program(true);
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_LE(relative_error(mixed[i], cpu[i]), 1e-12) << "result " << i;
  }
}

TEST(GpuTensor, FactoriesCopiesAndAssign) {
  MAYA_REQUIRE_GPU();
  const Tensor host = uniform({3, 4}, -1.0, 1.0, 90);
  const Tensor device = host.to(Device::kCuda);
  EXPECT_EQ(device.device(), Device::kCuda);
  EXPECT_EQ(device.numel(), 12u);
  EXPECT_EQ(max_abs_difference(device.to(Device::kCpu), host), 0.0);
  Tensor copy = device;  // a device-to-device copy
  copy.assign(Tensor::zeros({3, 4}));
  EXPECT_EQ(max_abs_difference(device.to(Device::kCpu), host), 0.0);
  EXPECT_EQ(max_abs_difference(copy.to(Device::kCpu), Tensor::zeros({3, 4})), 0.0);
  EXPECT_EQ(Tensor::full({2}, 3.5, Device::kCuda).to(Device::kCpu).data()[1], 3.5);
  // Filled on the device: every element of a large one, negative zero kept, and an empty one.
  const Tensor zeros = Tensor::zeros({1000, 37}, Device::kCuda).to(Device::kCpu);
  EXPECT_EQ(max_abs_difference(zeros, Tensor::zeros({1000, 37})), 0.0);
  const Tensor minus_zero = Tensor::full({1000, 37}, -0.0, Device::kCuda).to(Device::kCpu);
  EXPECT_TRUE(std::signbit(minus_zero.data()[36999]));
  EXPECT_TRUE(std::isnan(Tensor::full({3}, NAN, Device::kCuda).to(Device::kCpu).data()[2]));
  EXPECT_EQ(Tensor::zeros({0, 4}, Device::kCuda).numel(), 0u);
  EXPECT_EQ(Tensor::ones({2, 2}, Device::kCuda).reshape({4}).to(Device::kCpu).data()[3], 1.0);
  EXPECT_EQ(Tensor::scalar(2.25).to(Device::kCuda).item(), 2.25);
  EXPECT_EQ(Tensor::uniform({5}, 0.0, 1.0, 3, Device::kCuda).to(Device::kCpu).data()[4],
            Tensor::uniform({5}, 0.0, 1.0, 3).data()[4]);
}

TEST(GpuGraph, ReplayRecomputesForwardAndReverse) {
  MAYA_REQUIRE_GPU();
  TensorTape tape;
  std::vector<Tensor> parameters;
  for (const Tensor& t : policy_parameters()) parameters.push_back(t.to(Device::kCuda));
  const Tensor s0 = uniform({64, 4}, -1.0, 1.0, 1).to(Device::kCuda);
  TensorGradients gradients;
  TensorVar loss;
  std::vector<TensorVar> vars;
  const auto step = [&] {
    tape.clear();
    vars.clear();
    for (const Tensor& t : parameters) vars.push_back(tape.var(t));
    loss = policy_loss(tape, vars, s0, 20, true);
    tape.grad(loss, gradients);
  };
  step();  // uncaptured: the tape's device memory and the gradients' tensors
  maya::CudaGraph graph = maya::CudaGraph::capture(step);
  EXPECT_GT(graph.node_count(), 100u);
  // New parameter values, written in place, are read by the replay.
  parameters[0].assign(uniform({4, 64}, -0.7, 0.7, 42));
  graph.replay();
  maya::cuda_synchronize();
  const double replayed_loss = loss.item();
  std::vector<Tensor> replayed;
  for (std::size_t i = 0; i < 4; ++i) replayed.push_back(gradients[vars[i]].to(Device::kCpu));

  TensorTape eager;
  std::vector<TensorVar> p;
  for (const Tensor& t : parameters) p.push_back(eager.var(t));
  const TensorVar eager_loss = policy_loss(eager, p, s0, 20, true);
  const TensorGradients g = eager.grad(eager_loss);
  EXPECT_EQ(replayed_loss, eager_loss.item());
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(max_abs_difference(replayed[i], g[p[i]].to(Device::kCpu)), 0.0) << i;
  }
}

TEST(GpuAllocator, SteadyStateRolloutsReserveNoMoreMemory) {
  MAYA_REQUIRE_GPU();
  TensorTape tape;
  const auto once = [&] {
    tape.clear();
    std::vector<TensorVar> p;
    for (const Tensor& t : policy_parameters()) p.push_back(tape.var(t.to(Device::kCuda)));
    const TensorVar loss =
        policy_loss(tape, p, uniform({256, 4}, -1.0, 1.0, 1).to(Device::kCuda), 20, false);
    (void)tape.grad(loss);
    maya::cuda_synchronize();
  };
  once();
  once();
  const std::size_t reserved = maya::cuda_reserved_bytes();
  EXPECT_GT(reserved, 0u);
  for (int i = 0; i < 3; ++i) once();
  EXPECT_EQ(maya::cuda_reserved_bytes(), reserved);
}

#if MAYA_TEST_CUDA_KERNELS
// A user-defined op with its own CUDA forward and backward (tests/gpu/custom_kernels.cu), and
// its CPU twin in the same class.
class CubeOp final : public maya::TensorOp {
 public:
  std::string_view name() const noexcept override { return "cube"; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(maya::BackwardContext& context) const override {
    const maya::TensorView x = context.input(0);
    const maya::TensorView g = context.grad_output();
    const maya::MutableTensorView gx = context.grad_input(0);
    if (context.device() == Device::kCuda) {
      launch_cube_backward(x.values, g.values, gx.values, x.numel(), maya::cuda_stream());
      return;
    }
    for (std::size_t i = 0; i < x.numel(); ++i) gx[i] += 3.0 * x[i] * x[i] * g[i];
  }
};

TensorVar cube(TensorVar x) {
  static const CubeOp op;
  TensorTape& tape = x.tape();
  const maya::TensorView vx = tape.values(x);
  const Device device = tape.device(x);
  return tape.record(op, {x}, vx.shape, [&](maya::MutableTensorView out) {
    if (device == Device::kCuda) {
      launch_cube(vx.values, out.values, out.numel(), maya::cuda_stream());
      return;
    }
    for (std::size_t i = 0; i < out.numel(); ++i) out[i] = vx[i] * vx[i] * vx[i];
  });
}
#endif

TEST(GpuCustomOp, UserKernelsRunForwardAndBackward) {
  MAYA_REQUIRE_GPU();
#if MAYA_TEST_CUDA_KERNELS
  maya_gpu_test::expect_same_on_gpu({uniform({7, 3}, -1.0, 1.0, 95)},
                                    [](std::span<const TensorVar> v) { return cube(v[0]) * 2.0; });
#else
  GTEST_SKIP() << "the test's CUDA kernels were not built";
#endif
}

template <class F>
std::string device_error_of(F&& f) {
  try {
    f();
  } catch (const maya::DeviceError& e) {
    return e.what();
  }
  return "no DeviceError";
}

TEST(GpuErrors, MixingDevicesNamesTheOpAndBothDevices) {
  MAYA_REQUIRE_GPU();
  TensorTape tape;
  const TensorVar a = tape.var(uniform({3, 4}, -1.0, 1.0, 1));
  const TensorVar b = tape.var(uniform({3, 4}, -1.0, 1.0, 2).to(Device::kCuda));
  const TensorVar w = tape.var(uniform({4, 2}, -1.0, 1.0, 3));
  const TensorVar bias = tape.var(uniform({2}, -1.0, 1.0, 4));
  for (const auto& [name, message] :
       {std::pair<std::string, std::string>{"add", device_error_of([&] { (void)(a + b); })},
        {"matmul", device_error_of([&] { (void)maya::matmul(b, w); })},
        {"dense", device_error_of([&] { (void)maya::dense(b, w, bias); })},
        {"concat", device_error_of([&] {
           (void)maya::concat({a, b}, 0);
         })}}) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
    EXPECT_NE(message.find("cpu"), std::string::npos) << message;
    EXPECT_NE(message.find("cuda"), std::string::npos) << message;
  }
}

TEST(GpuErrors, HostViewsOfDeviceValuesAreRefused) {
  MAYA_REQUIRE_GPU();
  const Tensor device = Tensor::ones({2, 2}, Device::kCuda);
  EXPECT_THROW((void)device.data(), maya::DeviceError);
  EXPECT_THROW((void)device.view(), maya::DeviceError);
  TensorTape tape;
  const TensorVar x = tape.var(device);
  EXPECT_THROW((void)x.view(), maya::DeviceError);
  EXPECT_THROW((void)tape.view(x), maya::DeviceError);
  // An op without a CUDA implementation says so instead of reading device memory.
  struct HostOnly final : maya::TensorOp {
    std::string_view name() const noexcept override { return "host_only"; }
    void backward(maya::BackwardContext&) const override {}
  };
  static const HostOnly host_only;
  EXPECT_THROW((void)tape.record(host_only, {x}, x.shape(), [](maya::MutableTensorView) {}),
               maya::DeviceError);
  EXPECT_THROW((void)Tensor::ones({2}).cuda_data(), maya::DeviceError);
}

TEST(GpuErrors, OutOfMemoryNamesTheBytes) {
  MAYA_REQUIRE_GPU();
  try {
    const maya::tensor::detail::DeviceValues huge(std::size_t{1} << 43);  // 64 TiB
    FAIL() << "allocated 64 TiB";
  } catch (const maya::DeviceError& e) {
    FAIL() << "a DeviceError instead of the memory error: " << e.what();
  } catch (const maya::Error& e) {
    EXPECT_NE(std::string(e.what()).find("70368744177664 bytes"), std::string::npos) << e.what();
  }
  // The allocator still serves afterwards.
  EXPECT_EQ(Tensor::ones({3}, Device::kCuda).to(Device::kCpu).data()[2], 1.0);
}

TEST(GpuErrors, WithoutAGpuTheFirstUseOfCudaIsAClearError) {
  if (maya::cuda_available()) GTEST_SKIP() << "a GPU is usable here";
  const std::string message = device_error_of([] { (void)Tensor::zeros({2}, Device::kCuda); });
  EXPECT_NE(message.find("Device::kCuda is unusable"), std::string::npos) << message;
  TensorTape tape;
  const TensorVar x = tape.var(Tensor::ones({2}));
  EXPECT_THROW((void)maya::to(x, Device::kCuda), maya::DeviceError);
  // The CPU path is unchanged.
  EXPECT_EQ(maya::sum(x * 2.0).item(), 4.0);
}

}  // namespace
