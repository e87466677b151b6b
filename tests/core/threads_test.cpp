// maya's thread pool: every index of a parallel range is handled exactly once, on any thread
// count, nested ranges run inline, workers compute in the caller's floating-point mode, and bad
// counts are refused.
#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <cstddef>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "../../src/core/parallel.hpp"
#include "maya/core/error.hpp"
#include "maya/core/subnormals.hpp"
#include "maya/core/threads.hpp"

namespace {

// Restores one thread when a test ends, so that the other tests run as they always do.
struct ThreadCount {
  explicit ThreadCount(std::size_t count) { maya::set_num_threads(count); }
  ~ThreadCount() { maya::set_num_threads(1); }
};

TEST(Threads, EveryIndexOnceOnAlignedRangesForEveryThreadCount) {
  for (const std::size_t threads : {1, 2, 3, 4, 7}) {
    const ThreadCount count(threads);
    EXPECT_EQ(maya::num_threads(), threads);
    for (const std::size_t n : {0, 1, 5, 64, 1000, 4099}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<std::size_t> ranges{0};
      maya::core::detail::parallel_for(n, 16, 4, [&](std::size_t begin, std::size_t end) {
        EXPECT_LT(begin, end);
        EXPECT_EQ(begin % 4, 0u) << "begin " << begin;
        for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        ranges.fetch_add(1);
      });
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
      // Split only where each part gets at least the grain of 16.
      EXPECT_LE(ranges.load(), std::max<std::size_t>(1, std::min(threads, n / 16)));
    }
  }
}

TEST(Threads, WorkRunsOnSeveralThreadsWhenThereIsEnough) {
  const ThreadCount count(4);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  // Each part waits for the others a while, so one thread cannot take them all.
  std::atomic<int> started{0};
  maya::core::detail::parallel_for(4, 1, 1, [&](std::size_t, std::size_t) {
    started.fetch_add(1);
    for (int spin = 0; spin < 1000000 && started.load() < 4; ++spin) std::this_thread::yield();
    const std::lock_guard<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_GT(ids.size(), 1u);
}

TEST(Threads, NestedRangesRunInlineAndComplete) {
  const ThreadCount count(3);
  std::atomic<std::size_t> total{0};
  maya::core::detail::parallel_for(3, 1, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t outer = begin; outer < end; ++outer) {
      maya::core::detail::parallel_for(
          100, 1, 1, [&](std::size_t b, std::size_t e) { total.fetch_add(e - b); });
    }
  });
  EXPECT_EQ(total.load(), 300u);
}

// Two threads of the program run kernels at once: one gets the pool, the other runs its parts
// inline; both finish with every index done once.
TEST(Threads, ConcurrentCallersBothComplete) {
  const ThreadCount count(4);
  constexpr std::size_t kCount = 100000;
  std::vector<std::atomic<int>> hits[2] = {std::vector<std::atomic<int>>(kCount),
                                           std::vector<std::atomic<int>>(kCount)};
  const auto run = [&](int which) {
    for (int round = 0; round < 20; ++round) {
      maya::core::detail::parallel_for(kCount, 1000, 4, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) hits[which][i].fetch_add(1);
      });
    }
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  for (const auto& per_caller : hits) {
    for (std::size_t i = 0; i < kCount; ++i) ASSERT_EQ(per_caller[i].load(), 20) << i;
  }
}

TEST(Threads, WorkersUseTheCallersSubnormalFlush) {
  if (!maya::can_flush_subnormals()) GTEST_SKIP() << "no subnormal flush on this CPU";
  const ThreadCount count(4);
  const maya::FlushSubnormals flush;
  std::vector<double> out(4, -1.0);
  volatile double tiny = DBL_MIN;
  maya::core::detail::parallel_for(4, 1, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) out[i] = tiny / 4.0;  // subnormal, so flushed
  });
  for (const double value : out) EXPECT_EQ(value, 0.0);
}

TEST(Threads, CountsOutsideOneToAThousandAreRefused) {
  EXPECT_THROW(maya::set_num_threads(0), maya::ValueError);
  EXPECT_THROW(maya::set_num_threads(5000), maya::ValueError);
  EXPECT_EQ(maya::num_threads(), 1u);
}

}  // namespace
