// W4 (bouncing boxes, K boxes, T = 2000) one world and many, and a wall of boxes with body-body
// contact on (pile_*), through maya::rigid::rigid_rollout_gradient: E worlds, world e with initial velocity
// (0.5 (1 + 0.5 e / E), 0) (world 0 is W4), each world's loss W4's, the whole gradient per call,
// copies between host and device included. The peer is bouncing_boxes_jax.py. Counters: loss
// (summed over worlds), checksum = sum |g| over every world's initial velocities and angular
// velocities, the forward and reverse kernels' own milliseconds, world-steps per second. GPU rows
// are skipped where no GPU is present. MAYA_NUM_THREADS sets the CPU rows' threads (default 1).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <maya/maya.hpp>
#include <maya/rigid/batched_rollout.hpp>
#include <span>
#include <vector>

namespace {

constexpr std::size_t kSteps = 2000;

std::size_t threads_from_environment() {
  const char* text = std::getenv("MAYA_NUM_THREADS");
  return text != nullptr ? static_cast<std::size_t>(std::strtoul(text, nullptr, 10)) : 1;
}

double w4_loss(std::size_t, std::span<const double> x, std::span<double> adjoint) {
  const std::size_t k = x.size() / 6;
  double loss = 0.0;
  for (std::size_t b = 0; b < k; ++b) {
    const double dx = x[3 * b] - 2.0;
    loss += dx * dx + x[3 * b + 1] * x[3 * b + 1] + x[3 * b + 2] * x[3 * b + 2];
    adjoint[3 * b] = 2.0 * dx;
    adjoint[3 * b + 1] = 2.0 * x[3 * b + 1];
    adjoint[3 * b + 2] = 2.0 * x[3 * b + 2];
  }
  return loss;
}

struct Scene {
  maya::rigid::RigidWorld2D world;
  maya::rigid::RigidWorlds worlds;
};

// W4's boxes, or with body-body contact on (`pile`): a wall of boxes in two courses, box k at
// x = 0.12 k (neighbours overlap in x), the odd ones 0.12 higher, so the upper course falls onto
// the lower one and every box touches its neighbours.
Scene make_scene(std::size_t boxes, std::size_t worlds, bool pile = false) {
  maya::rigid::RigidWorldOptions options;
  options.body_contacts = pile;  // W4: ground contact only
  maya::rigid::RigidWorld2D world(
      std::vector<maya::rigid::BodyShape>(boxes, maya::rigid::BodyShape::box(0.2, 0.1)), options);
  const maya::rigid::RigidParameterValues values =
      world.parameters_from_masses(std::vector<double>(boxes, 1.0), {1e4, 30.0, 0.5});
  std::vector<double> poses, velocities;
  for (std::size_t k = 0; k < boxes; ++k) {
    if (pile) {
      poses.insert(poses.end(), {0.12 * static_cast<double>(k), k % 2 == 0 ? 0.049 : 0.17, 0.0});
      velocities.insert(velocities.end(), {0.5, 0.0, 0.0});
    } else {
      poses.insert(poses.end(), {0.5 * static_cast<double>(k), 1.0, 0.3});
      velocities.insert(velocities.end(), {0.5, 0.0, 2.0});
    }
  }
  const maya::Tensor state = maya::rigid::RigidWorld2D::make_state(
      maya::Tensor::from_data(poses, {boxes, 3}), maya::Tensor::from_data(velocities, {boxes, 3}));
  maya::rigid::RigidWorlds batch = maya::rigid::replicate_world(state, values, worlds);
  for (std::size_t e = 0; e < worlds; ++e) {
    const double scale = 1.0 + 0.5 * static_cast<double>(e) / static_cast<double>(worlds);
    for (std::size_t k = 0; k < boxes; ++k) {
      batch.state.mutable_data()[e * 6 * boxes + 3 * boxes + 3 * k] = 0.5 * scale;
    }
  }
  return {std::move(world), std::move(batch)};
}

// reuse: each call writes into the previous call's results instead of returning new ones.
void w4_worlds(benchmark::State& bench, maya::Device device, bool pile = false,
               bool reuse = false) {
  if (device == maya::Device::kCuda && maya::dynamics::cuda_device_count() == 0) {
    bench.SkipWithError("no CUDA GPU");
    return;
  }
  maya::set_num_threads(threads_from_environment());
  const auto boxes = static_cast<std::size_t>(bench.range(0));
  const auto e = static_cast<std::size_t>(bench.range(1));
  const Scene scene = make_scene(boxes, e, pile);
  const maya::rigid::RigidRolloutOptions options{.dt = 1e-3, .steps = kSteps, .device = device};
  auto out = maya::rigid::rigid_rollout_gradient(scene.world, scene.worlds, w4_loss, options);
  for (auto _ : bench) {
    if (reuse) {
      maya::rigid::rigid_rollout_gradient(scene.world, scene.worlds, w4_loss, options, out);
    } else {
      out = maya::rigid::rigid_rollout_gradient(scene.world, scene.worlds, w4_loss, options);
    }
    benchmark::DoNotOptimize(out);
  }
  double loss = 0.0;
  for (const double l : out.loss.data()) loss += l;
  double checksum = 0.0;
  const auto g = out.state.data();
  for (std::size_t w = 0; w < e; ++w) {  // the velocity half of each world's state gradient
    for (std::size_t j = 0; j < 3 * boxes; ++j)
      checksum += std::abs(g[w * 6 * boxes + 3 * boxes + j]);
  }
  bench.counters["loss"] = loss;
  bench.counters["checksum"] = checksum;
  bench.counters["kernel_forward_ms"] = out.kernel_seconds_forward * 1e3;
  bench.counters["kernel_reverse_ms"] = out.kernel_seconds_reverse * 1e3;
  bench.counters["world_steps_per_s"] = benchmark::Counter(
      static_cast<double>(e * kSteps), benchmark::Counter::kIsIterationInvariantRate);
  bench.counters["threads"] = static_cast<double>(maya::num_threads());
}

void w4_gpu(benchmark::State& s) { w4_worlds(s, maya::Device::kCuda); }
void w4_cpu(benchmark::State& s) { w4_worlds(s, maya::Device::kCpu); }
void pile_gpu(benchmark::State& s) { w4_worlds(s, maya::Device::kCuda, true); }
void pile_cpu(benchmark::State& s) { w4_worlds(s, maya::Device::kCpu, true); }
void w4_gpu_reuse(benchmark::State& s) { w4_worlds(s, maya::Device::kCuda, false, true); }

}  // namespace

// {K, E}: W4 itself (K = 1 and 256), then many worlds of 256 boxes.
BENCHMARK(w4_gpu)
    ->Args({1, 1})
    ->Args({256, 1})
    ->Args({256, 16})
    ->Args({256, 256})
    ->Args({256, 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
// W4's many worlds, each call into the previous call's results.
BENCHMARK(w4_gpu_reuse)
    ->Args({256, 256})
    ->Args({256, 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(w4_cpu)
    ->Args({1, 1})
    ->Args({256, 1})
    ->Args({256, 16})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// {K, E}: the wall of 32 boxes with body-body contact on.
BENCHMARK(pile_gpu)
    ->Args({32, 1})
    ->Args({32, 16})
    ->Args({32, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(pile_cpu)
    ->Args({32, 1})
    ->Args({32, 16})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

BENCHMARK_MAIN();
