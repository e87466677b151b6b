// A 3-D soft block (stable Neo-Hookean, bottom face pinned, sheared and falling under gravity) at
// about 1k, 10k and 100k tetrahedra. Per implicit (backward Euler) step: seconds forward (Newton
// with sparse LDLT or CG, recorded on the tape), seconds for a gradient step (the same forward plus
// the reverse sweep: one adjoint solve per step), their ratio, Newton iterations, and the bytes the
// tape keeps per step for the reverse sweep. The explicit benchmark does the same for
// semi-implicit Euler steps (one fused node per step). Both runs of a size are timed back to
// back in each repetition, so the ratio survives a noisy machine; read the medians.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <maya/maya.hpp>

namespace {

namespace fem = maya::fem;

struct Block {
  fem::SoftBody body;
  maya::Tensor state;
};

Block make_block(std::size_t cells_x, std::size_t cells_y, std::size_t cells_z) {
  const fem::Mesh mesh = fem::box_mesh({.size_x = 1.0,
                                        .size_y = 1.0,
                                        .size_z = 1.0,
                                        .cells_x = cells_x,
                                        .cells_y = cells_y,
                                        .cells_z = cells_z});
  std::vector<std::int64_t> bottom;
  const std::size_t n = mesh.num_vertices();
  maya::Tensor velocity = maya::Tensor::zeros({n, 3});
  for (std::size_t v = 0; v < n; ++v) {
    const double y = mesh.rest_positions().at({v, 1});
    if (y < 1e-9) bottom.push_back(static_cast<std::int64_t>(v));
    velocity.mutable_data()[v * 3] = 2.0 * y;  // a shear: the top moves at 2 m/s
  }
  fem::SoftBody body(mesh, {.energy = fem::Energy::kStableNeoHookean, .pinned = bottom});
  maya::Tensor state = fem::SoftBody::make_state(mesh.rest_positions(), velocity);
  return {std::move(body), std::move(state)};
}

struct Run {
  double seconds = 0.0;
  double loss = 0.0;
  double bytes = 0.0;
  double newton_iterations = 0.0;
};

// T steps recorded on the tape, and with `gradient` the reverse sweep to E and the initial state.
Run run(const Block& block, maya::TensorTape& tape, bool implicit, bool gradient, std::size_t steps,
        double dt, fem::LinearSolver solver) {
  tape.clear();
  const auto start = std::chrono::steady_clock::now();
  const maya::TensorVar youngs = tape.var(maya::Tensor::scalar(1e5));
  const maya::TensorVar state0 = tape.var(block.state);
  const fem::BodyParameters params = fem::parameters(
      block.body, tape.constant(block.body.mesh().rest_positions()), youngs,
      tape.constant(maya::Tensor::scalar(0.3)), tape.constant(maya::Tensor::scalar(1000.0)));
  const std::size_t before = tape.bytes_used();
  fem::NewtonReport report;
  Run result;
  maya::TensorVar state = state0;
  for (std::size_t t = 0; t < steps; ++t) {
    state = implicit ? fem::step_implicit(block.body, state, params, dt,
                                          {.solver = solver, .report = &report})
                     : fem::step_explicit(block.body, state, params, dt);
    result.newton_iterations += static_cast<double>(report.iterations);
  }
  result.bytes = static_cast<double>(tape.bytes_used() - before) / static_cast<double>(steps);
  const maya::TensorVar loss = maya::mean(maya::square(maya::dynamics::positions_of(state)));
  result.loss = loss.item();
  if (gradient) {
    const maya::TensorGradients g = tape.grad(loss);
    benchmark::DoNotOptimize(g[youngs].item());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.newton_iterations /= static_cast<double>(steps);
  return result;
}

void soft_block(benchmark::State& bench, bool implicit) {
  const auto cells = static_cast<std::size_t>(bench.range(0));
  const auto steps = static_cast<std::size_t>(bench.range(1));
  const fem::LinearSolver solver = implicit && bench.range(2) == 1
                                       ? fem::LinearSolver::kConjugateGradient
                                       : fem::LinearSolver::kLdlt;
  const Block block = make_block(cells, cells, cells);
  const double dt = implicit ? 1e-2 : 2e-4;
  maya::TensorTape tape;
  Run forward = run(block, tape, implicit, true, 1, dt, solver);  // warm-up: the tape's memory
  Run backward;
  for (auto _ : bench) {
    forward = run(block, tape, implicit, false, steps, dt, solver);
    backward = run(block, tape, implicit, true, steps, dt, solver);
  }
  const auto t = static_cast<double>(steps);
  bench.counters["tets"] = static_cast<double>(block.body.num_elements());
  bench.counters["dofs"] = static_cast<double>(block.body.num_vertices() * 3);
  bench.counters["forward_s_per_step"] = forward.seconds / t;
  bench.counters["gradient_s_per_step"] = backward.seconds / t;
  bench.counters["gradient_over_forward"] = backward.seconds / forward.seconds;
  bench.counters["bytes_per_step"] = forward.bytes;
  bench.counters["newton_iterations"] = forward.newton_iterations;
  bench.counters["loss"] = forward.loss;
}

void implicit_block(benchmark::State& s) { soft_block(s, true); }
void explicit_block(benchmark::State& s) { soft_block(s, false); }

// 6 tetrahedra per cube: 6^3 -> 1296, 12^3 -> 10368, 26^3 -> 105456 tetrahedra. Third argument:
// the linear solver, 0 = sparse LDLT, 1 = conjugate gradient (LDLT's simplicial factorization
// takes minutes per step at 100k tetrahedra, so that size runs CG only).
BENCHMARK(implicit_block)
    ->Args({6, 5, 0})
    ->Args({6, 5, 1})
    ->Args({12, 3, 0})
    ->Args({12, 3, 1})
    ->Args({26, 2, 1})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime();
BENCHMARK(explicit_block)
    ->Args({6, 500})
    ->Args({12, 100})
    ->Args({26, 10})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
