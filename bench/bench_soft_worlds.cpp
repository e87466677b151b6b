// Many soft bodies at once through maya::fem::soft_rollout_gradient on CPU threads and on the GPU
// (soft_worlds_gpu; kernel_ms_forward / kernel_ms_reverse: the kernels alone): E worlds of a
// 2-D beam (16 x 4 cells, 128 triangles, 85 vertices, stable Neo-Hookean) or a 3-D block
// (4 x 2 x 2 cubes, 96 tetrahedra, 45 vertices, corotational) dropped onto a frictional ground,
// world e with Young's modulus 1e5 (1 + 0.5 e / E) (through mu and lambda), T = 200 explicit
// steps of 1e-3 s, loss = sum of squared final positions. The ground's friction is regularized
// over 0.3 m/s: with sharper friction the sticking vertices make the explicit step's gradient
// grow by orders of magnitude over the rollout (the forward pass stays bounded). Counters:
// world-steps per second of the gradient, loss, checksum = sum |g| over mu and the initial
// velocities. MAYA_NUM_THREADS sets the threads (default 1). GPU rows: soft_worlds_gpu, host
// worlds and loss, fresh results each call; soft_worlds_gpu_reuse, the same into the results of
// the call before (no host allocation); soft_worlds_gpu_device, the worlds as device tensors and
// the loss a WorldsLoss on the GPU (nothing crosses to the host); soft_worlds_gpu_device_reuse,
// the same into the results of the call before.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <maya/maya.hpp>
#include <span>
#include <utility>
#include <vector>

namespace {

namespace fem = maya::fem;
constexpr std::size_t kSteps = 200;

std::size_t threads_from_environment() {
  const char* text = std::getenv("MAYA_NUM_THREADS");
  return text != nullptr ? static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) : 1;
}

double position_loss(std::size_t, std::span<const double> x, std::span<double> adjoint) {
  double loss = 0.0;
  for (std::size_t i = 0; i < x.size() / 2; ++i) {
    loss += x[i] * x[i];
    adjoint[i] = 2.0 * x[i];
  }
  return loss;
}

struct Setup {
  fem::SoftBody body;
  fem::SoftWorlds worlds;
};

Setup setup(bool three_d, std::size_t e) {
  const fem::Mesh mesh =
      three_d ? fem::box_mesh({.size_x = 0.4,
                               .size_y = 0.2,
                               .size_z = 0.2,
                               .cells_x = 4,
                               .cells_y = 2,
                               .cells_z = 2,
                               .origin_y = 0.05})
              : fem::rectangle_mesh(
                    {.width = 0.8, .height = 0.2, .cells_x = 16, .cells_y = 4, .origin_y = 0.05});
  fem::SoftBodyOptions options;
  options.energy = three_d ? fem::Energy::kCorotational : fem::Energy::kStableNeoHookean;
  options.ground = {
      .enabled = true, .stiffness = 1e5, .damping = 10.0, .friction = 0.5, .slip_velocity = 0.3};
  fem::SoftBody body(mesh, options);
  const maya::Tensor state = body.rest_state();
  fem::SoftWorlds worlds =
      fem::replicate_world(body, state, mesh.rest_positions(), 1e5, 0.3, 1000.0, e);
  for (std::size_t w = 0; w < e; ++w) {
    const double scale = 1.0 + 0.5 * static_cast<double>(w) / static_cast<double>(e);
    worlds.mu.mutable_data()[w] *= scale;
    worlds.lambda.mutable_data()[w] *= scale;
  }
  return {std::move(body), std::move(worlds)};
}

// The same loss on the tape, every world at once: sum of squared final positions, [E].
maya::TensorVar position_loss_on_tape(maya::TensorTape&, maya::TensorVar x) {
  return maya::sum(maya::sum(maya::square(maya::select(x, 1, 0)), 2), 1);
}

enum class Mode { kCpu, kGpu, kGpuReuse, kGpuDevice, kGpuDeviceReuse };

void run(benchmark::State& bench, Mode mode) {
  maya::set_num_threads(threads_from_environment());
  const auto e = static_cast<std::size_t>(bench.range(1));
  const Setup s = setup(bench.range(0) == 3, e);
  const maya::Device device = mode == Mode::kCpu ? maya::Device::kCpu : maya::Device::kCuda;
  const fem::SoftRolloutOptions rollout{.dt = 1e-3, .steps = kSteps, .device = device};
  fem::SoftWorlds worlds = s.worlds;
  if (mode == Mode::kGpuDevice || mode == Mode::kGpuDeviceReuse) {
    worlds = {s.worlds.state.to(device),   s.worlds.inverse_edges.to(device),
              s.worlds.volumes.to(device), s.worlds.mu.to(device),
              s.worlds.lambda.to(device),  s.worlds.mass.to(device),
              s.worlds.actuation};
  }
  const fem::WorldsLoss on_tape = position_loss_on_tape;
  const auto call = [&](fem::SoftRolloutGradients& out) {
    if (mode == Mode::kGpuDevice) {
      out = fem::soft_rollout_gradient(s.body, worlds, on_tape, rollout);
    } else if (mode == Mode::kGpuDeviceReuse) {
      fem::soft_rollout_gradient(s.body, worlds, on_tape, rollout, out);
    } else if (mode == Mode::kGpuReuse) {
      fem::soft_rollout_gradient(s.body, worlds, position_loss, rollout, out);
    } else {
      out = fem::soft_rollout_gradient(s.body, worlds, position_loss, rollout);
    }
  };
  fem::SoftRolloutGradients out;
  call(out);  // warm-up
  double forward = 0.0;
  double reverse = 0.0;
  for (auto _ : bench) {
    call(out);
    forward += out.kernel_seconds_forward;
    reverse += out.kernel_seconds_reverse;
    benchmark::DoNotOptimize(out);
  }
  const maya::Tensor losses = out.loss.to(maya::Device::kCpu);
  const maya::Tensor mu = out.mu.to(maya::Device::kCpu);
  const maya::Tensor state = out.state.to(maya::Device::kCpu);
  double loss = 0.0;
  for (const double l : losses.data()) loss += l;
  double checksum = 0.0;
  for (const double g : mu.data()) checksum += std::abs(g);
  const std::size_t nd = s.body.num_vertices() * s.body.dim();
  for (std::size_t w = 0; w < e; ++w) {
    for (std::size_t j = 0; j < nd; ++j) checksum += std::abs(state.data()[(2 * w + 1) * nd + j]);
  }
  bench.counters["loss"] = loss;
  bench.counters["checksum"] = checksum;
  bench.counters["world_steps_per_s"] = benchmark::Counter(
      static_cast<double>(e * kSteps), benchmark::Counter::kIsIterationInvariantRate);
  if (device == maya::Device::kCuda) {
    const auto iterations = static_cast<double>(bench.iterations());
    bench.counters["kernel_ms_forward"] = 1e3 * forward / iterations;
    bench.counters["kernel_ms_reverse"] = 1e3 * reverse / iterations;
  } else {
    bench.counters["threads"] = static_cast<double>(maya::num_threads());
  }
}

void soft_worlds(benchmark::State& bench) { run(bench, Mode::kCpu); }

void run_on_gpu(benchmark::State& bench, Mode mode) {
  if (maya::dynamics::cuda_device_count() == 0) {
    bench.SkipWithError("no CUDA GPU (or maya built without CUDA)");
    return;
  }
  run(bench, mode);
}
void soft_worlds_gpu(benchmark::State& bench) { run_on_gpu(bench, Mode::kGpu); }
void soft_worlds_gpu_reuse(benchmark::State& bench) { run_on_gpu(bench, Mode::kGpuReuse); }
void soft_worlds_gpu_device(benchmark::State& bench) { run_on_gpu(bench, Mode::kGpuDevice); }
void soft_worlds_gpu_device_reuse(benchmark::State& bench) {
  run_on_gpu(bench, Mode::kGpuDeviceReuse);
}

}  // namespace

// {D, E}
BENCHMARK(soft_worlds)
    ->Args({2, 1})
    ->Args({2, 64})
    ->Args({3, 1})
    ->Args({3, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// {D, E}
#define MAYA_SOFT_GPU_ROWS(function)  \
  BENCHMARK(function)                 \
      ->Args({2, 1})                  \
      ->Args({2, 64})                 \
      ->Args({2, 1024})               \
      ->Args({3, 1})                  \
      ->Args({3, 64})                 \
      ->Args({3, 1024})               \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(1)                 \
      ->Repetitions(5)                \
      ->ReportAggregatesOnly(true)
MAYA_SOFT_GPU_ROWS(soft_worlds_gpu);
MAYA_SOFT_GPU_ROWS(soft_worlds_gpu_reuse);
MAYA_SOFT_GPU_ROWS(soft_worlds_gpu_device);
MAYA_SOFT_GPU_ROWS(soft_worlds_gpu_device_reuse);

BENCHMARK_MAIN();
