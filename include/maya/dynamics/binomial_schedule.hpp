// Binomial checkpointing (Griewank and Walther, "Evaluating Derivatives", 2nd ed., ch. 12; the
// Revolve schedule): how to reverse T steps holding at most s states, with the fewest recomputed
// steps. The counts here plan a checkpointed rollout and check the one it ran.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maya::dynamics {

// beta(s, r) = C(s + r, s): the most steps that s snapshots can reverse when no step is run
// forward more than r times (saturates at UINT64_MAX).
[[nodiscard]] std::uint64_t binomial_reach(std::uint64_t snapshots, std::uint64_t repetitions);

// r(T, s): the smallest r with beta(s, r) >= T (0 for T <= 1). Needs s >= 1.
[[nodiscard]] std::uint64_t repetition_number(std::uint64_t steps, std::uint64_t snapshots);

// Revolve's bound: the fewest forward-only steps ("advances") any schedule needs to reverse T
// steps with s snapshots, the initial state's included, besides recording each step once:
//   t(T, s) = r T - beta(s + 1, r - 1),  r = r(T, s)        (0 for T <= 1).
// s = 1 gives T (T - 1) / 2; s >= T - 1 gives T - 1 (one forward sweep).
[[nodiscard]] std::uint64_t revolve_advances(std::uint64_t steps, std::uint64_t snapshots);

// Where a binomial schedule puts its next snapshot: reversing T >= 2 steps from a snapshot of
// their first state with s >= 1 snapshots, it advances m steps, stores that state, reverses the
// last T - m steps with s - 1 snapshots and then the first m with s. Returns the m in [1, T - 1]
// that minimizes m + t(m, s) + t(T - m, s - 1) (the smallest such m), so that total equals
// revolve_advances(T, s).
[[nodiscard]] std::uint64_t binomial_split(std::uint64_t steps, std::uint64_t snapshots);

}  // namespace maya::dynamics
