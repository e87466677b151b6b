// Hard contact (maya::contact::HardContactWorld2D): steps per second of two scenes, forward only
// (every input a constant: plain simulation) and with the gradient (inputs as leaves, the
// rollout recorded, one reverse sweep), and their ratio measured interleaved in one loop, which
// is the number to trust on a shared, noisy machine (docs/contact.md has a table).
//   billiards: 16 balls (a 15-ball rack and the cue ball at 6 m/s) on a 2.54 x 1.27 m table
//              with 4 cushions, restitution 0.9, ball friction 0.05, 300 steps of 2 ms;
//   stack:     4 boxes (0.4 x 0.2 m, 1 kg) standing on the ground, friction 0.6, 300 steps of
//              10 ms; scene 2 is the same stack solved in impulse space (Reduction::kImpulses)
//              instead of the automatic choice (velocity space), to show what that choice buys.
// Loss: sum of squared final poses; gradient with respect to the initial state and the masses.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <maya/maya.hpp>
#include <vector>

namespace {

namespace contact = maya::contact;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

constexpr std::size_t kSteps = 300;

struct Scene {
  contact::HardContactWorld2D world;
  contact::HardContactParameterValues values;
  Tensor state;
  double dt;
};

Scene billiards() {
  constexpr double kRadius = 0.0286;
  maya::rigid::RigidWorldOptions table;
  table.gravity = {0.0, 0.0};
  table.linear_damping = 0.3;
  table.grounds = {maya::rigid::GroundPlane::through({0.0, 0.0}, {1.0, 0.0}),
                   maya::rigid::GroundPlane::through({2.54, 0.0}, {-1.0, 0.0}),
                   maya::rigid::GroundPlane::through({0.0, 0.0}, {0.0, 1.0}),
                   maya::rigid::GroundPlane::through({0.0, 1.27}, {0.0, -1.0})};
  contact::HardContactOptions options;
  options.material = {.friction = 0.05, .restitution = 0.9};
  options.ground_material = {.friction = 0.0, .restitution = 0.7};
  std::vector<double> poses{0.6, 0.635, 0.0};
  std::vector<double> velocities{6.0, 0.02, 0.0};
  const double spacing = 2.0 * kRadius + 1e-4;
  for (int row = 0; row < 5; ++row) {
    for (int i = 0; i <= row; ++i) {
      poses.push_back(1.9 + row * spacing * std::sqrt(3.0) / 2.0);
      poses.push_back(0.635 + (i - 0.5 * row) * spacing);
      poses.push_back(0.0);
      velocities.insert(velocities.end(), 3, 0.0);
    }
  }
  const std::size_t balls = poses.size() / 3;
  contact::HardContactWorld2D world(
      maya::rigid::RigidWorld2D(
          std::vector<maya::rigid::BodyShape>(balls, maya::rigid::BodyShape::circle(kRadius)),
          table),
      {}, options);
  const Tensor state = maya::rigid::RigidWorld2D::make_state(
      Tensor::from_data(poses, {balls, 3}), Tensor::from_data(velocities, {balls, 3}));
  auto values = world.parameters(std::vector<double>(balls, 0.17), state);
  return {std::move(world), std::move(values), state, 2e-3};
}

Scene stack(contact::Reduction reduction) {
  contact::HardContactOptions options;
  options.solver.reduction = reduction;
  options.material = {.friction = 0.6, .restitution = 0.0};
  options.ground_material = options.material;
  std::vector<double> poses, velocities;
  for (int i = 0; i < 4; ++i) {
    poses.insert(poses.end(), {0.01 * (i % 2), 0.1 + 0.2 * i, 0.0});
    velocities.insert(velocities.end(), 3, 0.0);
  }
  contact::HardContactWorld2D world(maya::rigid::RigidWorld2D(std::vector<maya::rigid::BodyShape>(
                                        4, maya::rigid::BodyShape::box(0.4, 0.2))),
                                    {}, options);
  const Tensor state = maya::rigid::RigidWorld2D::make_state(Tensor::from_data(poses, {4, 3}),
                                                             Tensor::from_data(velocities, {4, 3}));
  auto values = world.parameters(std::vector<double>(4, 1.0), state);
  return {std::move(world), std::move(values), state, 1e-2};
}

Scene scene_of(std::int64_t which) {
  if (which == 0) return billiards();
  return stack(which == 1 ? contact::Reduction::kAutomatic : contact::Reduction::kImpulses);
}

// One rollout; with `gradient`, the state and masses are leaves and the loss is swept back.
double run(const Scene& scene, TensorTape& tape, bool gradient) {
  tape.clear();
  const TensorVar state0 = gradient ? tape.var(scene.state) : tape.constant(scene.state);
  contact::HardContactParameters params = scene.values.constants(tape);
  if (gradient) params.mass = tape.var(scene.values.mass);
  TensorVar state = state0;
  for (std::size_t t = 0; t < kSteps; ++t) state = scene.world.step(state, params, scene.dt);
  const TensorVar loss = maya::sum(maya::square(maya::select(state, 0, 0)));
  if (!gradient) return loss.item();
  const maya::TensorGradients g = tape.grad(loss);
  return loss.item() + g[state0].data()[0] + g[params.mass].data()[0];
}

void steps(benchmark::State& bench, bool gradient) {
  const Scene scene = scene_of(bench.range(0));
  TensorTape tape;
  double checksum = run(scene, tape, gradient);  // warm-up: the tape's memory
  for (auto _ : bench) {
    checksum = run(scene, tape, gradient);
    benchmark::DoNotOptimize(checksum);
  }
  bench.counters["steps_per_second"] = benchmark::Counter(
      static_cast<double>(kSteps), benchmark::Counter::kIsIterationInvariantRate);
  bench.counters["checksum"] = checksum;
}

void forward(benchmark::State& s) { steps(s, false); }
void gradient(benchmark::State& s) { steps(s, true); }

// Forward and gradient rollouts alternated in one loop, so both see the same machine load.
void ratio(benchmark::State& bench) {
  const Scene scene = scene_of(bench.range(0));
  TensorTape tape;
  using Clock = std::chrono::steady_clock;
  std::chrono::duration<double> forward_time{0}, gradient_time{0};
  for (auto _ : bench) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(run(scene, tape, false));
    const auto t1 = Clock::now();
    benchmark::DoNotOptimize(run(scene, tape, true));
    gradient_time += Clock::now() - t1;
    forward_time += t1 - t0;
  }
  bench.counters["gradient_over_forward"] = gradient_time.count() / forward_time.count();
}

void scenes(benchmark::internal::Benchmark* b) {
  b->ArgName("scene(0=billiards,1=stack,2=stack_impulse_space)")->Arg(0)->Arg(1)->Arg(2);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(forward)->Apply(scenes);
BENCHMARK(gradient)->Apply(scenes);
BENCHMARK(ratio)->Apply(scenes);

BENCHMARK_MAIN();
