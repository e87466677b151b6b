// maya on the GPU: workload W3 of the benchmark specification (a tanh policy steering B point
// masses for T = 200 steps; gradient w.r.t. W1, b1, W2, b2) recorded eagerly each iteration and
// replayed as one captured CUDA graph, and the per-node cost of a tiny op with and without the
// graph. Inputs from splitmix64, bit-identical to the JAX and PyTorch peers
// (policy_rollout_jax.py, policy_rollout_torch.py --device cuda). Skips without a GPU.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <maya/maya.hpp>
#include <maya/tensor/cuda.hpp>
#include <vector>

namespace {

constexpr std::size_t kSteps = 200;
using maya::Device;

maya::Tensor splitmix_uniform(maya::Shape shape, double low, double high, std::uint64_t seed) {
  std::vector<double> values(maya::numel_of(shape));
  std::uint64_t state = seed;
  for (double& v : values) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    v = low + (high - low) * static_cast<double>(z >> 11) * 0x1.0p-53;
  }
  return maya::Tensor::from_data(std::move(values), std::move(shape));
}

// How the rollout is recorded: op by op, with the fused dense layer, or with the fused layer and
// each step's elementwise chains as fused elementwise nodes (maya/tensor/fused.hpp).
enum class Variant { composed, fused_layers, fused_step };

// W3's inputs on the GPU, and the loss and gradients of the last run.
struct Policy {
  explicit Policy(std::size_t batch)
      : s0(splitmix_uniform({batch, 4}, -1.0, 1.0, 1).to(Device::kCuda)),
        zero_effort(maya::Tensor::zeros({batch, 2}, Device::kCuda)),
        parameters{splitmix_uniform({4, 64}, -0.5, 0.5, 2).to(Device::kCuda),
                   maya::Tensor::zeros({64}, Device::kCuda),
                   splitmix_uniform({64, 2}, -0.5, 0.5, 3).to(Device::kCuda),
                   maya::Tensor::zeros({2}, Device::kCuda)} {}

  // Records the rollout and its reverse sweep; queues the work, waits for nothing.
  void record(Variant variant) {
    tape.clear();
    vars.clear();
    for (const maya::Tensor& p : parameters) vars.push_back(tape.var(p));
    const maya::TensorVar w1 = vars[0], b1 = vars[1], w2 = vars[2], b2 = vars[3];
    const maya::TensorVar s = tape.constant(s0);
    maya::TensorVar x = maya::slice(s, 1, 0, 2);
    maya::TensorVar v = maya::slice(s, 1, 2, 4);
    if (variant == Variant::fused_step) {
      // Each step's elementwise chains as fused nodes: the effort summed per element (reduced
      // once at the end), the velocity and the position update. One kernel each per direction.
      maya::TensorVar effort = tape.constant(zero_effort);
      for (std::size_t t = 0; t < kSteps; ++t) {
        const maya::TensorVar state = maya::concat({x, v}, 1);
        const maya::TensorVar action = maya::dense(
            maya::dense(state, w1, b1, maya::Activation::tanh), w2, b2, maya::Activation::tanh);
        effort = maya::fused(effort_program, {effort, action});
        v = maya::fused(velocity_program, {v, action});
        x = maya::fused(position_program, {x, v});
      }
      const double batch = static_cast<double>(s0.shape()[0]);
      loss = maya::mean(maya::sum(x * x, 1)) +
             maya::sum(effort) * (1e-3 / (static_cast<double>(kSteps) * batch));
      tape.grad(loss, gradients);
      return;
    }
    const bool fused = variant == Variant::fused_layers;
    maya::TensorVar effort = tape.constant(zero);
    for (std::size_t t = 0; t < kSteps; ++t) {
      const maya::TensorVar state = maya::concat({x, v}, 1);
      const maya::TensorVar action =
          fused ? maya::dense(maya::dense(state, w1, b1, maya::Activation::tanh), w2, b2,
                              maya::Activation::tanh)
                : maya::tanh(maya::matmul(maya::tanh(maya::matmul(state, w1) + b1), w2) + b2);
      effort = effort + maya::mean(maya::sum(action * action, 1));
      v = v + 0.01 * (5.0 * action - 0.5 * v);
      x = x + 0.01 * v;
    }
    loss = maya::mean(maya::sum(x * x, 1)) + effort * (1e-3 / static_cast<double>(kSteps));
    tape.grad(loss, gradients);
  }

  void report(benchmark::State& state) {
    maya::cuda_synchronize();
    double checksum = 0.0;
    for (const maya::TensorVar p : vars) {
      const maya::Tensor host = gradients[p].to(Device::kCpu);
      for (const double d : host.data()) checksum += std::abs(d);
    }
    state.counters["loss"] = loss.item();
    state.counters["checksum"] = checksum;
    state.counters["nodes"] = static_cast<double>(tape.size());
  }

  maya::Tensor s0;
  maya::Tensor zero = maya::Tensor::zeros({}, Device::kCuda);  // made here, never in a capture
  maya::Tensor zero_effort;
  const maya::ElementwiseProgram effort_program = maya::ElementwiseProgram::build<2>(
      "effort", [](auto effort, auto a) { return effort + a * a; });
  const maya::ElementwiseProgram velocity_program = maya::ElementwiseProgram::build<2>(
      "velocity", [](auto v, auto a) { return v + 0.01 * (5.0 * a - 0.5 * v); });
  const maya::ElementwiseProgram position_program =
      maya::ElementwiseProgram::build<2>("position", [](auto x, auto v) { return x + 0.01 * v; });
  std::vector<maya::Tensor> parameters;
  maya::TensorTape tape;
  std::vector<maya::TensorVar> vars;
  maya::TensorVar loss;
  maya::TensorGradients gradients;
};

bool skip_without_gpu(benchmark::State& state) {
  if (maya::cuda_available()) return false;
  state.SkipWithError(("no usable GPU: " + maya::cuda_unavailable_reason()).c_str());
  return true;
}

// Recorded afresh every iteration: launch-bound, one kernel per node and direction.
void w3_gradient_eager(benchmark::State& state, Variant fused) {
  if (skip_without_gpu(state)) return;
  Policy policy(static_cast<std::size_t>(state.range(0)));
  policy.record(fused);
  maya::cuda_synchronize();
  for (auto _ : state) {
    policy.record(fused);
    maya::cuda_synchronize();
  }
  policy.report(state);
}

// Recorded once, captured as a CUDA graph, replayed: one launch per gradient.
void w3_gradient_graph(benchmark::State& state, Variant fused) {
  if (skip_without_gpu(state)) return;
  Policy policy(static_cast<std::size_t>(state.range(0)));
  policy.record(fused);
  maya::CudaGraph graph = maya::CudaGraph::capture([&] { policy.record(fused); });
  graph.replay();
  maya::cuda_synchronize();
  for (auto _ : state) {
    graph.replay();
    maya::cuda_synchronize();
  }
  state.counters["graph_nodes"] = static_cast<double>(graph.node_count());
  policy.report(state);
}

void w3_fused_gradient_eager(benchmark::State& s) { w3_gradient_eager(s, Variant::fused_layers); }
void w3_fused_gradient_graph(benchmark::State& s) { w3_gradient_graph(s, Variant::fused_layers); }
void w3_fusedstep_gradient_eager(benchmark::State& s) { w3_gradient_eager(s, Variant::fused_step); }
void w3_fusedstep_gradient_graph(benchmark::State& s) { w3_gradient_graph(s, Variant::fused_step); }
void w3_composed_gradient_eager(benchmark::State& s) { w3_gradient_eager(s, Variant::composed); }
void w3_composed_gradient_graph(benchmark::State& s) { w3_gradient_graph(s, Variant::composed); }

// A chain of N tiny adds (4 elements) and its gradient: time per node = time / N.
constexpr std::size_t kChain = 1000;

struct Chain {
  Chain()
      : x0(maya::Tensor::ones({4}, Device::kCuda)),
        y0(maya::Tensor::full({4}, 1e-3, Device::kCuda)) {}
  void record(bool gradient) {
    tape.clear();
    const maya::TensorVar x = tape.var(x0);
    const maya::TensorVar y = tape.constant(y0);
    maya::TensorVar z = x;
    for (std::size_t i = 0; i < kChain; ++i) z = z + y;
    if (gradient) tape.grad(maya::sum(z), gradients);
  }
  maya::Tensor x0, y0;
  maya::TensorTape tape;
  maya::TensorGradients gradients;
};

void tiny_op_chain(benchmark::State& state, bool gradient, bool graph_replay) {
  if (skip_without_gpu(state)) return;
  Chain chain;
  chain.record(gradient);
  maya::CudaGraph graph;
  if (graph_replay) graph = maya::CudaGraph::capture([&] { chain.record(gradient); });
  maya::cuda_synchronize();
  for (auto _ : state) {
    if (graph_replay) {
      graph.replay();
    } else {
      chain.record(gradient);
    }
    maya::cuda_synchronize();
  }
  state.counters["ns_per_node"] = benchmark::Counter(
      static_cast<double>(kChain) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void tiny_forward_eager(benchmark::State& s) { tiny_op_chain(s, false, false); }
void tiny_forward_graph(benchmark::State& s) { tiny_op_chain(s, false, true); }
void tiny_gradient_eager(benchmark::State& s) { tiny_op_chain(s, true, false); }
void tiny_gradient_graph(benchmark::State& s) { tiny_op_chain(s, true, true); }

}  // namespace

BENCHMARK(w3_fusedstep_gradient_graph)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(w3_fusedstep_gradient_eager)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(w3_fused_gradient_graph)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(w3_fused_gradient_eager)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(w3_composed_gradient_graph)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(w3_composed_gradient_eager)
    ->Arg(256)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(tiny_forward_eager)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(tiny_forward_graph)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(tiny_gradient_eager)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(tiny_gradient_graph)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
