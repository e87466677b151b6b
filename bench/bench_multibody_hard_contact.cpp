// Multibody hard contact (maya::multibody::hard_contact_step): time per step of two scenes,
// forward only (plain numbers) and with the gradient (the rollout recorded on the tape with the
// initial state and every parameter as leaves, one reverse sweep); docs/multibody.md has a table.
//   box:       a 1 kg box sliding across an incline on its four bottom corners (nv 6), 200 steps
//              of 1 ms;
//   quadruped: examples/robots/quadruped.urdf with a floating base (nv 18, 13 bodies) standing on
//              its feet and trunk after a drop, 200 steps of 0.5 ms;
//   stack:     body-body contact: a ball on a box on a box on the ground, and a capsule lying
//              across the lower box, all free (nv 24, 10 pairs), at rest, 200 steps of 1 ms.
// Loss: the sum of the final state's squares.
#include <benchmark/benchmark.h>

#include <cmath>
#include <maya/maya.hpp>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace mb = maya::multibody;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

constexpr std::size_t kSteps = 200;

struct Scene {
  mb::Model model;
  std::vector<double> state;
  double dt;
};

Scene box() {
  mb::Body body;
  body.name = "box";
  body.joint = mb::JointType::kFree;
  body.mass = 1.0;
  const double ixx = (0.01 + 0.0025) / 3.0, izz = 0.02 / 3.0;
  body.inertia = {ixx, ixx, izz, 0, 0, 0};
  mb::Geom g;
  g.type = mb::ShapeType::kBox;
  g.size = {0.1, 0.1, 0.05};
  body.geoms = {g};
  mb::ModelOptions options;
  options.gravity = {9.81 * std::sin(0.5) * std::cos(0.6), 9.81 * std::sin(0.5) * std::sin(0.6),
                     -9.81 * std::cos(0.5)};
  options.planes = {mb::Plane{}};
  options.friction = 0.3;
  options.contact_model = mb::ContactModel::kHard;
  mb::Model model({body}, {}, options);
  std::vector<double> x = model.zero_state();
  x[2] = 0.05;
  x[7] = -0.5;
  x[8] = 0.6;
  return {model, x, 1e-3};
}

Scene quadruped() {
  mb::UrdfOptions floating;
  floating.floating_base = true;
  floating.ground_plane = true;
  const mb::Model loaded = mb::load_urdf(
      std::string(MAYA_BENCH_SOURCE_DIR) + "/examples/robots/quadruped.urdf", floating);
  mb::ModelOptions options = loaded.options();
  options.contact_model = mb::ContactModel::kHard;
  mb::Model model(loaded.bodies(), loaded.actuators(), options);
  std::vector<double> x = model.zero_state();
  x[2] = 0.45;
  for (std::size_t leg = 0; leg < 4; ++leg) x[7 + 3 * leg + 2] = -0.5;
  const std::vector<double> p = model.parameters();
  const std::vector<double> u(model.nu(), 0.0);
  for (int i = 0; i < 1500; ++i) x = mb::step(model, p, x, u, 5e-4);  // landed
  return {model, x, 5e-4};
}

mb::Body free_body(const char* name, mb::Geom geom, double mass) {
  mb::Body body;
  body.name = name;
  body.joint = mb::JointType::kFree;
  body.mass = mass;
  const double i = 0.004 * mass;
  body.inertia = {i, i, i, 0, 0, 0};
  body.geoms = {geom};
  return body;
}

Scene stack() {
  mb::Geom lower, upper, ball, rod;
  lower.type = upper.type = mb::ShapeType::kBox;
  lower.size = {0.2, 0.2, 0.05};
  upper.size = {0.1, 0.1, 0.05};
  ball.type = rod.type = mb::ShapeType::kSphere;
  ball.radius = 0.05;
  rod.type = mb::ShapeType::kCapsule;
  rod.radius = 0.03;
  rod.half_length = 0.15;
  rod.orientation = {std::sqrt(0.5), std::sqrt(0.5), 0.0, 0.0};  // along y
  mb::ModelOptions options;
  options.planes = {mb::Plane{}};
  options.friction = 0.5;
  options.contact_model = mb::ContactModel::kHard;
  mb::Model model({free_body("lower", lower, 2.0), free_body("upper", upper, 1.0),
                   free_body("ball", ball, 0.5), free_body("rod", rod, 0.3)},
                  {}, options);
  std::vector<double> x = model.zero_state();
  const double heights[] = {0.05, 0.15, 0.25, 0.13};
  const double along_x[] = {0.0, 0.0, 0.0, 0.15};
  for (std::size_t k = 0; k < 4; ++k) {
    x[model.q_index(k)] = along_x[k];
    x[model.q_index(k) + 2] = heights[k];
  }
  const std::vector<double> p = model.parameters();
  for (int i = 0; i < 500; ++i) x = mb::step(model, p, x, {}, 1e-3);  // settled
  return {model, x, 1e-3};
}

Scene make(int which) { return which == 0 ? box() : which == 1 ? quadruped() : stack(); }

void BM_Forward(benchmark::State& bench) {
  const Scene scene = make(static_cast<int>(bench.range(0)));
  const std::vector<double> p = scene.model.parameters();
  const std::vector<double> u(scene.model.nu(), 0.0);
  maya::Workspace workspace;
  double iterations = 0.0, steps = 0.0, contacts = 0.0;
  for (auto _ : bench) {
    std::vector<double> x = scene.state;
    for (std::size_t t = 0; t < kSteps; ++t) {
      mb::HardContactResult r = mb::hard_contact_step(scene.model, p, x, u, scene.dt, &workspace);
      x = std::move(r.state);
      iterations += r.iterations;
      contacts += static_cast<double>(r.contacts);
      steps += 1.0;
    }
    benchmark::DoNotOptimize(x.data());
  }
  bench.counters["solver_iterations"] = iterations / steps;
  bench.counters["contacts"] = contacts / steps;
  bench.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(kSteps) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Gradient(benchmark::State& bench) {
  const Scene scene = make(static_cast<int>(bench.range(0)));
  const std::vector<double> p = scene.model.parameters();
  for (auto _ : bench) {
    TensorTape tape;
    const TensorVar x0 = tape.var(Tensor::from_data(scene.state, {scene.state.size()}));
    const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
    const TensorVar u = tape.constant(Tensor::zeros({scene.model.nu()}));
    TensorVar x = x0;
    for (std::size_t t = 0; t < kSteps; ++t) x = mb::step(scene.model, x, u, ps, scene.dt);
    const maya::TensorGradients g = tape.grad(maya::sum(maya::square(x)));
    benchmark::DoNotOptimize(g[x0].data().data());
  }
  bench.counters["us_per_step"] = benchmark::Counter(
      static_cast<double>(kSteps) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_Forward)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
