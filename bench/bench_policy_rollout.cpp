// Workload W3 of the benchmark specification: a two-layer tanh policy controlling B point masses
// for T = 200 steps; gradient of the loss w.r.t. W1, b1, W2, b2. Two paths: "fused" records each
// layer as one dense node (maya::dense), "composed" as matmul, add and tanh nodes; the rest of the
// step is the same tensor ops in both. Measures the tensor tape with small products in a loop.
// Inputs come from splitmix64 so the PyTorch and JAX peers (policy_rollout_torch.py) start from
// bit-identical values.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <maya/maya.hpp>

namespace {

constexpr std::size_t kSteps = 200;

// splitmix64 -> uniform [low, high), reproducible bit for bit in Python.
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

struct Result {
  double loss = 0.0;
  double checksum = 0.0;
  std::size_t nodes = 0;
};

Result run(maya::TensorTape& tape, std::size_t batch, bool fused, bool gradient) {
  tape.clear();
  const maya::Tensor s0 = splitmix_uniform({batch, 4}, -1.0, 1.0, 1);
  const maya::TensorVar w1 = tape.var(splitmix_uniform({4, 64}, -0.5, 0.5, 2));
  const maya::TensorVar b1 = tape.var(maya::Tensor::zeros({64}));
  const maya::TensorVar w2 = tape.var(splitmix_uniform({64, 2}, -0.5, 0.5, 3));
  const maya::TensorVar b2 = tape.var(maya::Tensor::zeros({2}));
  const maya::TensorVar s = tape.constant(s0);
  maya::TensorVar x = maya::slice(s, 1, 0, 2);
  maya::TensorVar v = maya::slice(s, 1, 2, 4);
  maya::TensorVar effort = tape.constant(maya::Tensor::scalar(0.0));
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
  const maya::TensorVar loss =
      maya::mean(maya::sum(x * x, 1)) + effort * (1e-3 / static_cast<double>(kSteps));
  Result result;
  result.loss = loss.item();
  result.nodes = tape.size();
  if (gradient) {
    const maya::TensorGradients g = tape.grad(loss);
    for (const maya::TensorVar p : {w1, b1, w2, b2}) {
      for (const double d : g[p].data()) result.checksum += std::abs(d);
    }
  }
  return result;
}

void policy_rollout(benchmark::State& bench, bool fused, bool gradient) {
  const auto batch = static_cast<std::size_t>(bench.range(0));
  maya::TensorTape tape;
  Result result = run(tape, batch, fused, gradient);  // warm-up: the tape's memory
  for (auto _ : bench) {
    result = run(tape, batch, fused, gradient);
    benchmark::DoNotOptimize(result);
  }
  bench.counters["loss"] = result.loss;
  bench.counters["checksum"] = result.checksum;
  bench.counters["nodes"] = static_cast<double>(result.nodes);
  bench.counters["tape_bytes_per_step"] = static_cast<double>(tape.bytes_used()) / kSteps;
}

void fused_forward(benchmark::State& s) { policy_rollout(s, true, false); }
void fused_gradient(benchmark::State& s) { policy_rollout(s, true, true); }
void composed_forward(benchmark::State& s) { policy_rollout(s, false, false); }
void composed_gradient(benchmark::State& s) { policy_rollout(s, false, true); }

}  // namespace

BENCHMARK(fused_forward)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(fused_gradient)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(composed_forward)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(composed_gradient)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
