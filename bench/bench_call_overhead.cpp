// The C++ side of the Python overhead measurement (bench/python_overhead.py times the same
// calls from Python): recording one scalar add, one tensor add of one-element tensors, a tensor
// leaf of 16 values, and one fused mass-spring step of a 16 x 16 lattice. Tapes are cleared
// every kClearEvery calls in both, so both time the same amortized work.
#include <benchmark/benchmark.h>

#include <maya/maya.hpp>

namespace {

constexpr int kClearEvery = 4096;

void scalar_add(benchmark::State& state) {
  maya::Tape tape;
  maya::Var x = tape.var(1.0);
  maya::Var y = tape.var(2.0);
  int calls = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(maya::Var(x + y));  // the assignment records the node
    if (++calls == kClearEvery) {
      calls = 0;
      tape.clear();
      x = tape.var(1.0);
      y = tape.var(2.0);
    }
  }
}

void tensor_add(benchmark::State& state) {
  maya::TensorTape tape;
  const maya::Tensor one = maya::Tensor::ones({1});
  maya::TensorVar a = tape.var(one);
  maya::TensorVar b = tape.var(one);
  int calls = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(a + b);
    if (++calls == kClearEvery) {
      calls = 0;
      tape.clear();
      a = tape.var(one);
      b = tape.var(one);
    }
  }
}

void tensor_leaf(benchmark::State& state) {
  maya::TensorTape tape;
  const maya::Tensor values = maya::Tensor::ones({16});
  int calls = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tape.var(values));
    if (++calls == kClearEvery) {
      calls = 0;
      tape.clear();
    }
  }
}

void mass_spring_step(benchmark::State& state) {
  maya::dynamics::LatticeOptions options;
  options.size = 16;
  const maya::dynamics::SpringLattice lattice = maya::dynamics::make_spring_lattice(options);
  maya::TensorTape tape;
  const auto record = [&] {
    const maya::TensorVar s = tape.var(
        maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities));
    const std::size_t springs = lattice.model.num_springs();
    const maya::dynamics::SpringParameters params{
        tape.constant(lattice.masses), tape.constant(maya::Tensor::full({springs}, 1e3)),
        tape.constant(maya::Tensor::full({springs}, 1.0)), tape.constant(lattice.rest_length)};
    return std::pair{s, params};
  };
  auto [s, params] = record();
  int calls = 0;
  for (auto _ : state) {
    s = lattice.model.step(s, params, 1e-3);
    if (++calls == 256) {
      calls = 0;
      tape.clear();
      std::tie(s, params) = record();
    }
  }
}

}  // namespace

BENCHMARK(scalar_add);
BENCHMARK(tensor_add);
BENCHMARK(tensor_leaf);
BENCHMARK(mass_spring_step);

BENCHMARK_MAIN();
