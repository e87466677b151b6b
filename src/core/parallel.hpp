// Splitting a kernel's index range across maya's threads (set_num_threads). Private to maya's
// sources: kernels call parallel_for with a range and a body that handles one sub-range.
#pragma once

#include <algorithm>
#include <cstddef>

namespace maya::core::detail {

// Runs task(context, part) for every part in [0, parts) on the pool's threads and the caller,
// and returns when all are done. Runs them all on the caller when the pool has one thread, when
// called from inside another parallel task, or while another thread is using the pool.
void run_parts(std::size_t parts, void (*task)(void* context, std::size_t part), void* context);

std::size_t pool_threads() noexcept;

// body(begin, end) over consecutive non-empty sub-ranges of [0, count) whose bounds are multiples
// of `align` (but the last end, count), at least `grain` indices each: the work is split only when
// each thread gets enough to outweigh waking it (a few microseconds).
template <class Body>
void parallel_for(std::size_t count, std::size_t grain, std::size_t align, const Body& body) {
  if (count == 0) return;
  const std::size_t threads = pool_threads();
  const std::size_t by_grain = count / std::max<std::size_t>(grain, 1);
  const std::size_t parts = std::min(threads, by_grain);
  if (parts <= 1) {
    body(std::size_t{0}, count);
    return;
  }
  struct Context {
    const Body* body;
    std::size_t count;
    std::size_t parts;
    std::size_t align;
  } context{&body, count, parts, std::max<std::size_t>(align, 1)};
  run_parts(
      parts,
      [](void* raw, std::size_t part) {
        const auto& c = *static_cast<const Context*>(raw);
        const auto bound = [&](std::size_t p) {
          if (p == c.parts) return c.count;
          return std::min(c.count, c.count * p / c.parts / c.align * c.align);
        };
        const std::size_t begin = bound(part);
        const std::size_t end = bound(part + 1);
        if (begin < end) (*c.body)(begin, end);
      },
      &context);
}

}  // namespace maya::core::detail
