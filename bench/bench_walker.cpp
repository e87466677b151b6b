// The walking robots' training iteration (maya demo walker): every robot's rollout of 1000 steps
// (2 s) and its controller gradient, for E robots at once. Rows: the tensor tape through the
// batched fused step (the CPU training path), the fused walker rollout on the CPU (one robot per
// thread) and on the GPU (one thread block per robot; skipped where no GPU is present), and the
// GPU's whole training iteration (walker_training_gpu: with Adam on the device). Counters:
// robot-iterations per second, the GPU kernels' own milliseconds. MAYA_NUM_THREADS sets the CPU
// rows' threads (default 1).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <maya/maya.hpp>
#include <maya/tasks/walker.hpp>
#include <vector>

namespace {

std::size_t threads_from_environment() {
  const char* text = std::getenv("MAYA_NUM_THREADS");
  return text != nullptr ? static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) : 1;
}

maya::tasks::WalkerOptions options_for(std::size_t robots) {
  maya::tasks::WalkerOptions options;
  options.robots = robots;
  return options;
}

void walker_tape(benchmark::State& state) {
  maya::set_num_threads(threads_from_environment());
  const auto options = options_for(static_cast<std::size_t>(state.range(0)));
  const maya::tasks::WalkerTraining training(options);
  const maya::tasks::WalkerRobot& robot = training.robot();
  for (auto _ : state) {
    maya::TensorTape tape;
    const auto values = training.controllers().values();
    const maya::tasks::WalkerController c{tape.var(values[0]), tape.var(values[1]),
                                          tape.var(values[2]), tape.var(values[3])};
    const auto gradients = tape.grad(-maya::sum(maya::tasks::walk_distance(options, robot, c)));
    benchmark::DoNotOptimize(gradients[c.w1].data().data());
  }
  state.counters["robot_iterations_per_s"] = benchmark::Counter(
      static_cast<double>(options.robots), benchmark::Counter::kIsIterationInvariantRate);
  maya::set_num_threads(1);
}

void walker_fused(benchmark::State& state, maya::Device device) {
  if (device == maya::Device::kCuda && maya::tasks::walker_cuda_devices() == 0) {
    state.SkipWithError("no CUDA GPU");
    return;
  }
  maya::set_num_threads(threads_from_environment());
  const auto options = options_for(static_cast<std::size_t>(state.range(0)));
  const maya::tasks::WalkerTraining training(options);
  double kernel = 0.0;
  for (auto _ : state) {
    const maya::tasks::WalkerRollout rollout = maya::tasks::walker_rollout(
        options, training.robot(), training.controllers().values(), device, true);
    kernel += rollout.kernel_seconds;
    benchmark::DoNotOptimize(rollout.gradient[0].data().data());
  }
  state.counters["robot_iterations_per_s"] = benchmark::Counter(
      static_cast<double>(options.robots), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["kernel_ms"] =
      benchmark::Counter(kernel * 1e3, benchmark::Counter::kAvgIterations);
  maya::set_num_threads(1);
}

// One training iteration on the GPU (WalkerTraining::iterate): the rollout and gradient, Adam and
// the best controllers on the device, the distances copied to the host.
void walker_training_gpu(benchmark::State& state) {
  if (maya::tasks::walker_cuda_devices() == 0) {
    state.SkipWithError("no CUDA GPU");
    return;
  }
  auto options = options_for(static_cast<std::size_t>(state.range(0)));
  options.device = maya::Device::kCuda;
  maya::tasks::WalkerTraining training(options);
  (void)training.iterate();  // the device state's allocation and the first upload
  for (auto _ : state) {
    const std::vector<double> walked = training.iterate();
    benchmark::DoNotOptimize(walked.data());
  }
  state.counters["robot_iterations_per_s"] = benchmark::Counter(
      static_cast<double>(options.robots), benchmark::Counter::kIsIterationInvariantRate);
}

void walker_cpu(benchmark::State& state) { walker_fused(state, maya::Device::kCpu); }
void walker_gpu(benchmark::State& state) { walker_fused(state, maya::Device::kCuda); }

}  // namespace

BENCHMARK(walker_tape)->Arg(16)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(walker_cpu)->Arg(16)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(walker_gpu)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(walker_training_gpu)
    ->Arg(64)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_MAIN();
