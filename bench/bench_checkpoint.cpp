// Workload W7 of the benchmark specification: W2 (G = 16) over long horizons, the gradient with
// respect to stiffness and v0 with the full tape and with binomial checkpointing.
//   bench_checkpoint                  Google Benchmark timings at T = 1e4 (full tape, budgets)
//   bench_checkpoint --run MODE T [REPEAT]
//        MODE = full | forward | snapshots:N | bytes:B    one configuration in this process; prints
//        one line of key=value pairs: the median and fastest wall and CPU seconds of REPEAT
//        gradients, the peak resident memory of the process (VmHWM), loss, checksum and the
//        schedule's counts.
// bench/checkpoint_table.py runs the second form for each T and writes docs/checkpointing.md.
#include <benchmark/benchmark.h>

#include <time.h>
#include <algorithm>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <maya/maya.hpp>
#include <span>
#include <string>
#include <vector>

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::dynamics::CheckpointBudget;

struct W2 {
  maya::dynamics::SpringLattice lattice = maya::dynamics::make_spring_lattice({.size = 16});
  Tensor damping = Tensor::full({lattice.model.num_springs()}, 5.0);
  Tensor stiffness = Tensor::full({lattice.model.num_springs()}, 1000.0);
  Tensor target = Tensor::from_data({1.0, 0.1}, {2});
  double dt = 1e-3;

  [[nodiscard]] Tensor initial_state() const {
    return maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities);
  }
  [[nodiscard]] TensorVar loss(TensorTape& tape, TensorVar state) const {
    const TensorVar diff = maya::dynamics::positions_of(state) - tape.constant(target);
    return maya::mean(maya::sum(diff * diff, 1));
  }
};

struct Outcome {
  double loss = 0.0;
  double checksum = 0.0;  // sum |g| over stiffness and v0, as W2's
  maya::dynamics::CheckpointReport report;
};

double checksum_of(std::span<const double> stiffness, std::span<const double> state) {
  double sum = 0.0;
  for (const double g : stiffness) sum += std::abs(g);
  for (std::size_t i = state.size() / 2; i < state.size(); ++i) sum += std::abs(state[i]);
  return sum;
}

// The ordinary full tape, as W2 records it.
Outcome full_tape(const W2& w2, TensorTape& tape, std::size_t steps) {
  tape.clear();
  const TensorVar k = tape.var(w2.stiffness);
  const TensorVar x0 = tape.var(w2.initial_state());
  const maya::dynamics::SpringParameters params{tape.constant(w2.lattice.masses), k,
                                                tape.constant(w2.damping),
                                                tape.constant(w2.lattice.rest_length)};
  TensorVar state = x0;
  for (std::size_t t = 0; t < steps; ++t) state = w2.lattice.model.step(state, params, w2.dt);
  const TensorVar loss = w2.loss(tape, state);
  const maya::TensorGradients g = tape.grad(loss);
  Outcome out;
  out.loss = loss.item();
  out.checksum = checksum_of(g[k].data(), g[x0].data());
  out.report.steps = steps;
  out.report.taped_steps = steps;
  out.report.peak_tape_bytes = tape.bytes_used();
  return out;
}

// T steps forward, each recorded on a tape cleared after it: what one advance costs.
Outcome forward_only(const W2& w2, TensorTape& tape, std::size_t steps) {
  Tensor state = w2.initial_state();
  for (std::size_t t = 0; t < steps; ++t) {
    tape.clear();
    const maya::dynamics::SpringParameters params{
        tape.constant(w2.lattice.masses), tape.constant(w2.stiffness), tape.constant(w2.damping),
        tape.constant(w2.lattice.rest_length)};
    state = w2.lattice.model.step(tape.constant(state), params, w2.dt).value();
  }
  tape.clear();
  Outcome out;
  out.loss = w2.loss(tape, tape.constant(state)).item();
  out.report.steps = steps;
  return out;
}

Outcome checkpointed(const W2& w2, std::size_t steps, CheckpointBudget budget) {
  maya::dynamics::RolloutProblem problem;
  problem.step = [&w2](TensorTape& tape, std::span<const TensorVar> state,
                       std::span<const TensorVar> params, std::size_t) {
    const maya::dynamics::SpringParameters p{tape.constant(w2.lattice.masses), params[0],
                                             tape.constant(w2.damping),
                                             tape.constant(w2.lattice.rest_length)};
    return std::vector<TensorVar>{w2.lattice.model.step(state[0], p, w2.dt)};
  };
  problem.initial_state = {w2.initial_state()};
  problem.parameters = {w2.stiffness};
  problem.steps = steps;
  problem.final_loss = [&w2](TensorTape& tape, std::span<const TensorVar> state,
                             std::span<const TensorVar>) { return w2.loss(tape, state[0]); };
  const auto result = maya::dynamics::checkpointed_rollout(problem, budget);
  Outcome out;
  out.loss = result.loss;
  out.checksum =
      checksum_of(result.parameter_gradient[0].data(), result.initial_state_gradient[0].data());
  out.report = result.report;
  return out;
}

// CPU time of this process (one thread), seconds: unlike wall time, it does not count the time
// other processes on a loaded machine hold the core.
double cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// Peak resident memory of this process, bytes.
std::size_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      std::size_t kib = 0;
      status >> kib;
      return kib << 10;
    }
    status.ignore(1 << 10, '\n');
  }
  return 0;
}

int run_one(const std::string& mode, std::size_t steps, std::size_t repeat) {
  const W2 w2;
  TensorTape tape;
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;
  Outcome out;
  for (std::size_t i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_time();
    if (mode == "full") {
      out = full_tape(w2, tape, steps);
    } else if (mode == "forward") {
      out = forward_only(w2, tape, steps);
    } else if (mode.rfind("snapshots:", 0) == 0) {
      out = checkpointed(w2, steps, CheckpointBudget::snapshots(std::stoul(mode.substr(10))));
    } else if (mode.rfind("bytes:", 0) == 0) {
      out = checkpointed(w2, steps, CheckpointBudget::bytes(std::stoul(mode.substr(6))));
    } else {
      std::fprintf(stderr, "bench_checkpoint: unknown mode '%s'\n", mode.c_str());
      return 2;
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu_seconds.push_back(cpu_time() - cpu_start);
  }
  std::sort(seconds.begin(), seconds.end());
  std::sort(cpu_seconds.begin(), cpu_seconds.end());
  const auto& r = out.report;
  std::printf(
      "mode=%s steps=%zu seconds=%.6f min_seconds=%.6f cpu_seconds=%.6f min_cpu_seconds=%.6f "
      "peak_rss=%zu loss=%.17g checksum=%.17g "
      "snapshots=%zu repetitions=%zu advances=%zu revolve_bound=%zu taped_steps=%zu "
      "peak_snapshots=%zu snapshot_bytes=%zu peak_tape_bytes=%zu\n",
      mode.c_str(), steps, seconds[seconds.size() / 2], seconds.front(),
      cpu_seconds[cpu_seconds.size() / 2], cpu_seconds.front(), peak_resident_bytes(), out.loss,
      out.checksum, r.snapshots, r.repetitions, r.advances, r.revolve_bound, r.taped_steps,
      r.peak_snapshots, r.snapshot_bytes, r.peak_tape_bytes);
  return 0;
}

void w7_full_tape(benchmark::State& bench) {
  const W2 w2;
  TensorTape tape;
  const auto steps = static_cast<std::size_t>(bench.range(0));
  Outcome out = full_tape(w2, tape, steps);
  for (auto _ : bench) {
    out = full_tape(w2, tape, steps);
    benchmark::DoNotOptimize(out);
  }
  bench.counters["checksum"] = out.checksum;
}

void w7_snapshots(benchmark::State& bench) {
  const W2 w2;
  const auto steps = static_cast<std::size_t>(bench.range(0));
  const auto budget = CheckpointBudget::snapshots(static_cast<std::size_t>(bench.range(1)));
  Outcome out;
  for (auto _ : bench) {
    out = checkpointed(w2, steps, budget);
    benchmark::DoNotOptimize(out);
  }
  bench.counters["checksum"] = out.checksum;
  bench.counters["repetitions"] = static_cast<double>(out.report.repetitions);
  bench.counters["advances"] = static_cast<double>(out.report.advances);
}

BENCHMARK(w7_full_tape)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(w7_snapshots)
    ->Args({10000, 10000})
    ->Args({10000, 100})
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "--run") {
    const std::size_t repeat = argc >= 5 ? std::stoul(argv[4]) : 1;
    return run_one(argv[2], std::stoul(argv[3]), std::max<std::size_t>(1, repeat));
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
