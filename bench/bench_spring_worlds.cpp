// W2 on the GPU (one world, G x G lattice) and W5 (E worlds of the G = 8 lattice, world e with
// stiffness 1000 (1 + 0.5 e / E)), through maya::dynamics::spring_rollout_gradient: the whole
// gradient of T = 1000 steps per call, copies between host and device included. Counters: loss,
// checksum = sum |g| over stiffness and v0, the forward and reverse kernels' own milliseconds,
// world-steps per second. GPU rows are skipped where no GPU is present. MAYA_NUM_THREADS sets
// the CPU rows' threads (default 1). The *_gpu rows take the worlds from host memory and run the
// loss on the host; the *_gpu_device rows take them as device tensors, run the loss on the tape
// on the GPU and leave the results there (nothing crosses to the host).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <maya/dynamics/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <span>
#include <vector>

namespace {

constexpr std::size_t kSteps = 1000;

std::size_t threads_from_environment() {
  const char* text = std::getenv("MAYA_NUM_THREADS");
  return text != nullptr ? static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) : 1;
}

// W2's loss, divided by `worlds` (W5's loss is the mean over worlds).
maya::dynamics::FinalStateLoss w2_loss(std::size_t worlds) {
  return [worlds](std::size_t, std::span<const double> x, std::span<double> adjoint) {
    const std::size_t n = x.size() / 4;
    const double scale = 1.0 / static_cast<double>(n * worlds);
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double dx = x[2 * i] - 1.0;
      const double dy = x[2 * i + 1] - 0.1;
      loss += dx * dx + dy * dy;
      adjoint[2 * i] = 2.0 * dx * scale;
      adjoint[2 * i + 1] = 2.0 * dy * scale;
    }
    return loss * scale;
  };
}

// The same on the tape, every world at once (maya::dynamics::WorldsLoss).
maya::dynamics::WorldsLoss w2_worlds_loss() {
  return [](maya::TensorTape& tape, maya::TensorVar x) {
    const maya::Shape shape(x.shape().begin(), x.shape().end());  // [E, 2, N, 2]
    const double scale = 1.0 / static_cast<double>(shape[2] * shape[0]);
    const maya::TensorVar goal =
        tape.constant(maya::Tensor::from_data({1.0, 0.1}, {2}, x.device()));
    return sum(sum(square(select(x, 1, 0) - goal), 2), 1) * scale;
  };
}

maya::dynamics::SpringWorlds w5_worlds(const maya::dynamics::SpringLattice& lattice,
                                       std::size_t worlds) {
  const std::size_t s = lattice.model.num_springs();
  const maya::Tensor state =
      maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities);
  maya::dynamics::SpringWorlds w =
      maya::dynamics::replicate_world(state, lattice.masses, maya::Tensor::full({s}, 1000.0),
                                      maya::Tensor::full({s}, 5.0), lattice.rest_length, worlds);
  for (std::size_t e = 0; e < worlds; ++e) {
    const double k = 1000.0 * (1.0 + 0.5 * static_cast<double>(e) / static_cast<double>(worlds));
    for (std::size_t j = 0; j < s; ++j) w.stiffness.mutable_data()[e * s + j] = k;
  }
  return w;
}

void report(benchmark::State& bench, const maya::dynamics::SpringRolloutGradients& result,
            std::size_t worlds) {
  const auto host = [](const maya::Tensor& t) { return t.to(maya::Device::kCpu); };
  const maya::dynamics::SpringRolloutGradients out{
      host(result.loss),        host(result.final_state),      host(result.state),
      host(result.mass),        host(result.stiffness),        host(result.damping),
      host(result.rest_length), result.kernel_seconds_forward, result.kernel_seconds_reverse};
  double loss = 0.0;
  for (const double l : out.loss.data()) loss += l;
  double checksum = 0.0;
  for (const double g : out.stiffness.data()) checksum += std::abs(g);
  const auto g_state = out.state.data();
  const std::size_t half = g_state.size() / worlds / 2;
  for (std::size_t w = 0; w < worlds; ++w) {  // d loss / d v0: the velocity half of each world
    for (std::size_t j = 0; j < half; ++j) checksum += std::abs(g_state[(2 * w + 1) * half + j]);
  }
  bench.counters["loss"] = loss;
  bench.counters["checksum"] = checksum;
  bench.counters["kernel_forward_ms"] = out.kernel_seconds_forward * 1e3;
  bench.counters["kernel_reverse_ms"] = out.kernel_seconds_reverse * 1e3;
  bench.counters["world_steps_per_s"] = benchmark::Counter(
      static_cast<double>(worlds * kSteps), benchmark::Counter::kIsIterationInvariantRate);
  bench.counters["threads"] = static_cast<double>(maya::num_threads());
}

void run(benchmark::State& bench, const maya::dynamics::MassSpringModel& model,
         const maya::dynamics::SpringWorlds& worlds, maya::Device device) {
  if (device == maya::Device::kCuda && maya::dynamics::cuda_device_count() == 0) {
    bench.SkipWithError("no CUDA GPU");
    return;
  }
  maya::set_num_threads(threads_from_environment());
  const std::size_t e = worlds.state.shape()[0];
  const maya::dynamics::SpringRolloutOptions options{.dt = 1e-3, .steps = kSteps, .device = device};
  if (worlds.state.device() == maya::Device::kCuda) {
    const maya::dynamics::WorldsLoss loss = w2_worlds_loss();
    auto out = maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);  // warm
    for (auto _ : bench) {
      out = maya::dynamics::spring_rollout_gradient(model, worlds, loss, options);
      benchmark::DoNotOptimize(out);
    }
    report(bench, out, e);
    return;
  }
  auto out = maya::dynamics::spring_rollout_gradient(model, worlds, w2_loss(e), options);  // warm
  for (auto _ : bench) {
    out = maya::dynamics::spring_rollout_gradient(model, worlds, w2_loss(e), options);
    benchmark::DoNotOptimize(out);
  }
  report(bench, out, e);
}

// The worlds as device tensors (where a GPU is present).
maya::dynamics::SpringWorlds on_device(const maya::dynamics::SpringWorlds& w) {
  if (maya::dynamics::cuda_device_count() == 0) return w;
  const auto to = [](const maya::Tensor& t) { return t.to(maya::Device::kCuda); };
  return {to(w.state), to(w.mass), to(w.stiffness), to(w.damping), to(w.rest_length)};
}

using Tensor = maya::Tensor;

void w2(benchmark::State& bench, maya::Device device, bool device_worlds = false) {
  const maya::dynamics::SpringLattice lattice =
      maya::dynamics::make_spring_lattice({.size = static_cast<std::size_t>(bench.range(0))});
  const std::size_t s = lattice.model.num_springs();
  const maya::dynamics::SpringWorlds worlds = maya::dynamics::replicate_world(
      maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities),
      lattice.masses, Tensor::full({s}, 1000.0), Tensor::full({s}, 5.0), lattice.rest_length, 1);
  run(bench, lattice.model, device_worlds ? on_device(worlds) : worlds, device);
}

void w5(benchmark::State& bench, maya::Device device, bool device_worlds = false) {
  const maya::dynamics::SpringLattice lattice = maya::dynamics::make_spring_lattice({.size = 8});
  const maya::dynamics::SpringWorlds worlds =
      w5_worlds(lattice, static_cast<std::size_t>(bench.range(0)));
  run(bench, lattice.model, device_worlds ? on_device(worlds) : worlds, device);
}

void w2_gpu(benchmark::State& s) { w2(s, maya::Device::kCuda); }
void w5_gpu(benchmark::State& s) { w5(s, maya::Device::kCuda); }
void w2_gpu_device(benchmark::State& s) { w2(s, maya::Device::kCuda, true); }
void w5_gpu_device(benchmark::State& s) { w5(s, maya::Device::kCuda, true); }
void w5_cpu(benchmark::State& s) { w5(s, maya::Device::kCpu); }

}  // namespace

BENCHMARK(w2_gpu)
    ->Arg(16)
    ->Arg(128)
    ->Arg(512)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(w5_gpu)
    ->Arg(1024)
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(w2_gpu_device)
    ->Arg(16)
    ->Arg(128)
    ->Arg(512)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(w5_gpu_device)
    ->Arg(1024)
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(w5_cpu)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

BENCHMARK_MAIN();
