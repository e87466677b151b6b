#include "maya/dynamics/binomial_schedule.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "maya/core/error.hpp"

namespace maya::dynamics {

namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

[[nodiscard]] std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kSaturated : product;
}

[[nodiscard]] std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kSaturated : sum;
}

void check_snapshots(std::uint64_t snapshots, const char* operation) {
  if (snapshots == 0) {
    throw ValueError(std::string(operation) +
                     ": needs at least one snapshot (the initial state), got 0");
  }
}

// t(l, c) with c = 0 allowed: one step can be reversed from the current state, no more.
[[nodiscard]] std::uint64_t advances(std::uint64_t steps, std::uint64_t snapshots) {
  if (steps <= 1) return 0;
  if (snapshots == 0) return kSaturated;
  return revolve_advances(steps, snapshots);
}

}  // namespace

std::uint64_t binomial_reach(std::uint64_t snapshots, std::uint64_t repetitions) {
  // C(n, k) = prod_{i = 1..k} (n - k + i) / i; every partial product is itself a binomial
  // coefficient, so each division is exact.
  const std::uint64_t k = std::min(snapshots, repetitions);
  const std::uint64_t n = snapshots + repetitions;
  std::uint64_t value = 1;
  for (std::uint64_t i = 1; i <= k; ++i) {
    const std::uint64_t numerator = saturating_multiply(value, n - k + i);
    if (numerator == kSaturated) return kSaturated;
    value = numerator / i;
  }
  return value;
}

std::uint64_t repetition_number(std::uint64_t steps, std::uint64_t snapshots) {
  check_snapshots(snapshots, "repetition_number");
  if (steps <= 1) return 0;
  if (snapshots == 1) return steps - 1;
  // beta(s, r) = beta(s, r - 1) (s + r) / r.
  std::uint64_t repetitions = 0;
  std::uint64_t reach = 1;
  while (reach < steps) {
    ++repetitions;
    const std::uint64_t numerator = saturating_multiply(reach, snapshots + repetitions);
    reach = numerator == kSaturated ? kSaturated : numerator / repetitions;
  }
  return repetitions;
}

std::uint64_t revolve_advances(std::uint64_t steps, std::uint64_t snapshots) {
  check_snapshots(snapshots, "revolve_advances");
  if (steps <= 1) return 0;
  if (snapshots == 1) {
    // Every reversal starts again from the initial state: sum_{k < T} k.
    return saturating_multiply(steps, steps - 1) == kSaturated ? kSaturated
                                                               : steps * (steps - 1) / 2;
  }
  const std::uint64_t r = repetition_number(steps, snapshots);
  const std::uint64_t total = saturating_multiply(r, steps);
  if (total == kSaturated) return kSaturated;
  return total - binomial_reach(snapshots + 1, r - 1);
}

std::uint64_t binomial_split(std::uint64_t steps, std::uint64_t snapshots) {
  check_snapshots(snapshots, "binomial_split");
  if (steps < 2) {
    throw ValueError("binomial_split: needs at least 2 steps to split, got " +
                     std::to_string(steps));
  }
  if (snapshots == 1) return steps - 1;
  // cost(m) = m + t(m, s) + t(T - m, s - 1) is convex in m (t is piecewise linear in T with
  // slopes r = 1, 2, ...), so the smallest minimizer is the first m whose cost does not fall
  // on the way to m + 1.
  const auto cost = [&](std::uint64_t m) {
    return saturating_add(
        m, saturating_add(advances(m, snapshots), advances(steps - m, snapshots - 1)));
  };
  std::uint64_t low = 1;
  std::uint64_t high = steps - 1;
  while (low < high) {
    const std::uint64_t mid = low + (high - low) / 2;
    if (cost(mid + 1) >= cost(mid)) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return low;
}

}  // namespace maya::dynamics
