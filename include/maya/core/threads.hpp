// How many threads maya's parallel kernels may use. Default 1: results and timing stay those of
// one thread until a program asks for more. Kernels that run in parallel (the fused mass-spring
// step and its adjoint) give the same values, bit for bit, for every thread count: each output
// is summed by one thread in a fixed order.
#pragma once

#include <cstddef>

namespace maya {

// Uses up to `count` threads (the caller and count - 1 workers, started here and kept until the
// count changes or the program ends). Throws maya::ValueError for 0 or more than 1024. If
// another thread is running a parallel kernel, waits for it to finish first.
void set_num_threads(std::size_t count);

[[nodiscard]] std::size_t num_threads() noexcept;

}  // namespace maya
