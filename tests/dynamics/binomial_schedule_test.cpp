#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <maya/maya.hpp>
#include <vector>

namespace {

using maya::dynamics::binomial_reach;
using maya::dynamics::binomial_split;
using maya::dynamics::repetition_number;
using maya::dynamics::revolve_advances;

constexpr std::uint64_t kInfinite = std::numeric_limits<std::uint64_t>::max() / 4;

// The fewest advances by dynamic programming over every first snapshot position m:
// t(1, c) = 0, t(l, 0) = infinite for l > 1, t(l, c) = min_m m + t(m, c) + t(l - m, c - 1).
std::vector<std::vector<std::uint64_t>> advances_by_search(std::size_t max_steps,
                                                           std::size_t max_snapshots) {
  std::vector<std::vector<std::uint64_t>> t(max_snapshots + 1,
                                            std::vector<std::uint64_t>(max_steps + 1, kInfinite));
  for (std::size_t c = 0; c <= max_snapshots; ++c) t[c][1] = 0;
  for (std::size_t c = 1; c <= max_snapshots; ++c) {
    for (std::size_t l = 2; l <= max_steps; ++l) {
      for (std::size_t m = 1; m < l; ++m) {
        t[c][l] = std::min(t[c][l], m + t[c][m] + t[c - 1][l - m]);
      }
    }
  }
  return t;
}

// Advances a schedule that follows binomial_split runs, counted by walking it.
std::uint64_t advances_of_schedule(std::uint64_t steps, std::uint64_t snapshots) {
  if (steps <= 1) return 0;
  const std::uint64_t m = binomial_split(steps, snapshots);
  return m + advances_of_schedule(steps - m, snapshots - 1) + advances_of_schedule(m, snapshots);
}

TEST(BinomialSchedule, ReachIsTheBinomialCoefficient) {
  EXPECT_EQ(binomial_reach(1, 5), 6u);
  EXPECT_EQ(binomial_reach(3, 2), 10u);
  EXPECT_EQ(binomial_reach(5, 0), 1u);
  EXPECT_EQ(binomial_reach(1000, 2), 501501u);
  EXPECT_EQ(binomial_reach(1000000, 100), std::numeric_limits<std::uint64_t>::max());
}

TEST(BinomialSchedule, RevolveBoundEqualsTheSearchedMinimum) {
  const auto searched = advances_by_search(120, 9);
  for (std::uint64_t c = 1; c <= 9; ++c) {
    for (std::uint64_t l = 1; l <= 120; ++l) {
      ASSERT_EQ(revolve_advances(l, c), searched[c][l]) << "T = " << l << ", s = " << c;
    }
  }
}

TEST(BinomialSchedule, SplitRealizesTheBound) {
  for (std::uint64_t c = 1; c <= 9; ++c) {
    for (std::uint64_t l = 1; l <= 300; ++l) {
      ASSERT_EQ(advances_of_schedule(l, c), revolve_advances(l, c)) << "T = " << l << ", s = " << c;
    }
  }
  EXPECT_EQ(advances_of_schedule(100000, 30), revolve_advances(100000, 30));
}

TEST(BinomialSchedule, KnownCases) {
  // One snapshot: every step is reached again from the start.
  EXPECT_EQ(revolve_advances(10, 1), 45u);
  EXPECT_EQ(repetition_number(10, 1), 9u);
  // Enough snapshots: one forward sweep.
  EXPECT_EQ(revolve_advances(10, 9), 9u);
  EXPECT_EQ(revolve_advances(10, 50), 9u);
  EXPECT_EQ(repetition_number(10, 9), 1u);
  EXPECT_EQ(revolve_advances(1, 1), 0u);
  // W7's plan: a million steps with 1415 snapshots run each step forward at most twice.
  EXPECT_EQ(repetition_number(1000000, 1415), 2u);
  EXPECT_EQ(revolve_advances(1000000, 1415), 2000000u - binomial_reach(1416, 1));
}

TEST(BinomialSchedule, ZeroSnapshotsAreRejected) {
  EXPECT_THROW((void)revolve_advances(10, 0), maya::ValueError);
  EXPECT_THROW((void)repetition_number(10, 0), maya::ValueError);
  EXPECT_THROW((void)binomial_split(10, 0), maya::ValueError);
  EXPECT_THROW((void)binomial_split(1, 3), maya::ValueError);
}

}  // namespace
