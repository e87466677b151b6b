// Tensor tape micro-benchmarks: per-op overhead on tiny tensors (the seed's 2x3 matmul example),
// an elementwise chain on 1e6 elements (GB/s) and matmul throughput (GFLOP/s).
#include <benchmark/benchmark.h>

#include <maya/maya.hpp>

namespace {

// Records the seed example (C = A B, loss = sum C) plus an add and a tanh, and sweeps it:
// 5 leaf/op nodes recorded and swept per iteration. Reports ns per node.
void tiny_ops_record_and_sweep(benchmark::State& state) {
  const maya::Tensor a = maya::Tensor::from_data({1, 2, 3, 4, 5, 6}, {2, 3});
  const maya::Tensor b = maya::Tensor::from_data({7, 8, 9, 10, 11, 12}, {3, 2});
  maya::TensorTape tape;
  maya::TensorGradients grads;
  std::size_t nodes = 0;
  for (auto _ : state) {
    tape.clear();
    const maya::TensorVar av = tape.var(a);
    const maya::TensorVar bv = tape.var(b);
    const maya::TensorVar c = maya::tanh(av.matmul(bv) * 0.01 + 1.0);
    const maya::TensorVar loss = c.sum();
    tape.grad(loss, grads);
    nodes = tape.size();
    benchmark::DoNotOptimize(grads);
  }
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["ns_per_node"] =
      benchmark::Counter(static_cast<double>(nodes) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// y = tanh(x * 0.5 + 1) * x, loss = sum(y): forward + backward over n elements.
void elementwise_chain(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const maya::Tensor x = maya::Tensor::uniform({n}, -1.0, 1.0, 1);
  maya::TensorTape tape;
  maya::TensorGradients grads;
  for (auto _ : state) {
    tape.clear();
    const maya::TensorVar xv = tape.var(x);
    const maya::TensorVar y = maya::tanh(xv * 0.5 + 1.0) * xv;
    tape.grad(maya::sum(y), grads);
    benchmark::DoNotOptimize(grads);
  }
  // Bytes that must move: forward 4 ops read n and write n doubles (the mul reads two);
  // backward reads values and gradients and writes gradients of similar volume.
  const double bytes_per_iteration = 2.0 * 9.0 * static_cast<double>(n) * sizeof(double);
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_iteration) *
                          static_cast<int64_t>(state.iterations()));
}

void matmul_forward(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const maya::Tensor a = maya::Tensor::uniform({n, n}, -1.0, 1.0, 1);
  const maya::Tensor b = maya::Tensor::uniform({n, n}, -1.0, 1.0, 2);
  maya::TensorTape tape;
  for (auto _ : state) {
    tape.clear();
    const maya::TensorVar c = maya::matmul(tape.constant(a), tape.constant(b));
    benchmark::DoNotOptimize(c.view().values);
  }
  const double flops = 2.0 * static_cast<double>(n * n * n);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(tiny_ops_record_and_sweep);
BENCHMARK(elementwise_chain)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(matmul_forward)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
