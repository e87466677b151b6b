// Workload W2 of the benchmark specification: a G x G spring lattice with ground contact,
// T semi-implicit steps, loss = mean |p_T - (1, 0.1)|^2, gradient w.r.t. stiffness and v0.
// Fused (one node per step) and composed (tensor ops) paths, forward-only and gradient.
// Counters: loss, checksum = sum |g| over stiffness and v0, tape bytes kept per step, threads.
// MAYA_NUM_THREADS in the environment sets maya's thread count (default 1).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <maya/maya.hpp>

namespace {

constexpr long kSteps = 1000;

struct Result {
  double loss = 0.0;
  double checksum = 0.0;
  double bytes_per_step = 0.0;
};

Result run(const maya::dynamics::SpringLattice& lattice, maya::TensorTape& tape, bool fused,
           bool gradient, std::size_t steps) {
  tape.clear();
  const std::size_t e = lattice.model.num_springs();
  const maya::TensorVar stiffness = tape.var(maya::Tensor::full({e}, 1000.0));
  const maya::TensorVar state0 =
      tape.var(maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities));
  const maya::dynamics::SpringParameters params{tape.constant(lattice.masses), stiffness,
                                                tape.constant(maya::Tensor::full({e}, 5.0)),
                                                tape.constant(lattice.rest_length)};
  maya::TensorVar state = state0;
  for (std::size_t t = 0; t < steps; ++t) {
    state = fused ? lattice.model.step(state, params, 1e-3)
                  : lattice.model.step_composed(state, params, 1e-3);
  }
  const maya::TensorVar target = tape.constant(maya::Tensor::from_data({1.0, 0.1}, {2}));
  const maya::TensorVar diff = maya::dynamics::positions_of(state) - target;
  const maya::TensorVar loss = maya::mean(maya::sum(diff * diff, 1));
  Result result;
  result.loss = loss.item();
  result.bytes_per_step = static_cast<double>(tape.bytes_used()) / static_cast<double>(steps);
  if (gradient) {
    const maya::TensorGradients g = tape.grad(loss);
    for (const double x : g[stiffness].data()) result.checksum += std::abs(x);
    const auto g_state = g[state0].data();
    // Only the velocity half of the state gradient: d loss / d v0.
    for (std::size_t i = g_state.size() / 2; i < g_state.size(); ++i) {
      result.checksum += std::abs(g_state[i]);
    }
  }
  return result;
}

std::size_t threads_from_environment() {
  const char* text = std::getenv("MAYA_NUM_THREADS");
  return text != nullptr ? static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) : 1;
}

void spring_lattice(benchmark::State& bench, bool fused, bool gradient) {
  maya::set_num_threads(threads_from_environment());
  maya::dynamics::LatticeOptions options;
  options.size = static_cast<std::size_t>(bench.range(0));
  const std::size_t steps = static_cast<std::size_t>(bench.range(1));
  const maya::dynamics::SpringLattice lattice = maya::dynamics::make_spring_lattice(options);
  maya::TensorTape tape;
  Result result = run(lattice, tape, fused, gradient, steps);  // warm-up: the tape's memory
  for (auto _ : bench) {
    result = run(lattice, tape, fused, gradient, steps);
    benchmark::DoNotOptimize(result);
  }
  bench.counters["loss"] = result.loss;
  bench.counters["checksum"] = result.checksum;
  bench.counters["bytes_per_step"] = result.bytes_per_step;
  bench.counters["steps"] = static_cast<double>(steps);
  bench.counters["threads"] = static_cast<double>(maya::num_threads());
}

void fused_forward(benchmark::State& s) { spring_lattice(s, true, false); }
void fused_gradient(benchmark::State& s) { spring_lattice(s, true, true); }
void composed_forward(benchmark::State& s) { spring_lattice(s, false, false); }
void composed_gradient(benchmark::State& s) { spring_lattice(s, false, true); }

// G = 16 and 64 at T = 1000; the composed path at G = 128 would keep ~30 GB of intermediates
// for T = 1000, so it runs T = 100 there (and the per-step time is what compares).
void lattice_sizes(benchmark::internal::Benchmark* b, bool composed) {
  b->Args({16, kSteps})->Args({64, kSteps})->Args({128, composed ? 100 : kSteps});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(fused_forward)->Apply([](auto* b) { lattice_sizes(b, false); });
BENCHMARK(fused_gradient)->Apply([](auto* b) { lattice_sizes(b, false); });
BENCHMARK(composed_forward)->Apply([](auto* b) { lattice_sizes(b, true); });
BENCHMARK(composed_gradient)->Apply([](auto* b) { lattice_sizes(b, true); });

BENCHMARK_MAIN();
