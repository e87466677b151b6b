// Recording and sweeping a tape allocate nothing per op once the tape has been used (issue: "no
// heap allocation per op in steady state"): values, shapes and saved data live in the tape's
// arenas, and ops build their shapes and broadcast plans in place. Counted by replacing the
// global operator new of this test program.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <maya/maya.hpp>
#include <new>

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// The replacements pair malloc with free; GCC cannot see that they pair with each other.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t bytes) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

// W3's policy rollout (SPEC.md) for `steps` steps: matmul, broadcast add, tanh, concat, slice,
// scalar ops and reductions (or the fused dense layer in place of matmul, add and tanh). Returns
// the allocations made while recording and while sweeping.
struct Counts {
  long record;
  long sweep;
};

Counts policy_rollout(TensorTape& tape, maya::TensorGradients& gradients, int steps, bool fused) {
  tape.clear();
  const TensorVar w1 = tape.var(Tensor::uniform({4, 16}, -0.5, 0.5, 2));
  const TensorVar b1 = tape.var(Tensor::zeros({16}));
  const TensorVar w2 = tape.var(Tensor::uniform({16, 2}, -0.5, 0.5, 3));
  const TensorVar b2 = tape.var(Tensor::zeros({2}));
  const TensorVar s = tape.constant(Tensor::uniform({32, 4}, -1.0, 1.0, 1));
  const long before_record = g_allocations.load();
  TensorVar x = maya::slice(s, 1, 0, 2);
  TensorVar v = maya::slice(s, 1, 2, 4);
  TensorVar effort = maya::mean(maya::sum(x * x, 1)) * 0.0;
  for (int t = 0; t < steps; ++t) {
    const TensorVar state = maya::concat({x, v}, 1);
    const TensorVar action =
        fused ? maya::dense(maya::dense(state, w1, b1, maya::Activation::tanh), w2, b2,
                            maya::Activation::tanh)
              : maya::tanh(maya::matmul(maya::tanh(maya::matmul(state, w1) + b1), w2) + b2);
    effort = effort + maya::mean(maya::sum(action * action, 1));
    v = v + 0.01 * (5.0 * action - 0.5 * v);
    x = x + 0.01 * v;
  }
  const TensorVar loss = maya::mean(maya::sum(x * x, 1)) + effort * 1e-3;
  const long after_record = g_allocations.load();
  tape.grad(loss, gradients);
  return {after_record - before_record, g_allocations.load() - after_record};
}

TEST(SteadyState, RecordingAndSweepingAllocateNothingPerOp) {
  for (const bool fused : {false, true}) {
    TensorTape tape;
    maya::TensorGradients gradients;
    (void)policy_rollout(tape, gradients, 40, fused);  // warm-up: the arenas grow to their size
    const Counts counts = policy_rollout(tape, gradients, 40, fused);
    EXPECT_EQ(counts.record, 0) << "fused " << fused;
    EXPECT_EQ(counts.sweep, 0) << "fused " << fused;
  }
}

}  // namespace
