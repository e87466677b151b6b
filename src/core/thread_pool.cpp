// maya's worker threads: a fixed set, started by set_num_threads, that take the parts of one
// parallel kernel at a time. Between kernels a worker spins briefly (a rollout calls kernels
// back to back, and waking a sleeping thread costs several microseconds), then sleeps.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/parallel.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/core/threads.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MAYA_HAVE_MXCSR 1
#endif

namespace maya::core::detail {
namespace {

using Task = void (*)(void*, std::size_t);

void spin_pause() noexcept {
#ifdef MAYA_HAVE_MXCSR
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Workers compute with the caller's floating-point mode (the reverse sweep flushes subnormals,
// see subnormals.hpp), so a value does not depend on which thread computed it.
unsigned current_fp_mode() noexcept {
#ifdef MAYA_HAVE_MXCSR
  return _mm_getcsr();
#else
  return 0;
#endif
}

class FpModeScope {
 public:
  explicit FpModeScope(unsigned mode) noexcept {
#ifdef MAYA_HAVE_MXCSR
    saved_ = _mm_getcsr();
    _mm_setcsr(mode);
#else
    (void)mode;
#endif
  }
  ~FpModeScope() {
#ifdef MAYA_HAVE_MXCSR
    _mm_setcsr(saved_);
#endif
  }
  FpModeScope(const FpModeScope&) = delete;
  FpModeScope& operator=(const FpModeScope&) = delete;

 private:
  unsigned saved_ = 0;
};

class ThreadPool {
 public:
  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() { stop_workers(); }

  void resize(std::size_t threads) {
    const std::lock_guard<std::mutex> in_use(use_);
    stop_workers();
    stop_ = false;
    for (std::size_t w = 1; w < threads; ++w) workers_.emplace_back([this] { work(); });
    threads_.store(threads, std::memory_order_relaxed);
  }

  std::size_t threads() const noexcept { return threads_.load(std::memory_order_relaxed); }

  // A kernel started inside a part runs inline: on a worker, because the calling thread holds
  // use_ until every part is done; on the calling thread itself, because it is the owner (which
  // must not try use_ again).
  void run(std::size_t parts, Task task, void* context) {
    const std::thread::id self = std::this_thread::get_id();
    if (owner_.load(std::memory_order_acquire) == self) {
      for (std::size_t part = 0; part < parts; ++part) task(context, part);
      return;
    }
    std::unique_lock<std::mutex> in_use(use_, std::try_to_lock);
    if (!in_use.owns_lock() || workers_.empty()) {
      for (std::size_t part = 0; part < parts; ++part) task(context, part);
      return;
    }
    struct Owner {
      std::atomic<std::thread::id>& owner;
      ~Owner() { owner.store(std::thread::id{}, std::memory_order_release); }
    } const owner{owner_};
    owner_.store(self, std::memory_order_release);
    Job job{task, context, parts, current_fp_mode(), 0};
    remaining_.store(parts, std::memory_order_relaxed);
    {
      const std::lock_guard<std::mutex> lock(job_mutex_);
      job.generation = ++generation_;
      job_ = job;
      ticket_.store(job.generation << kPartBits, std::memory_order_release);
    }
    wake_.notify_all();
    take_parts(job);
    while (remaining_.load(std::memory_order_acquire) != 0) spin_pause();
  }

 private:
  struct Job {
    Task task;
    void* context;
    std::size_t parts;
    unsigned fp_mode;
    std::uint64_t generation;
  };

  // The ticket is (generation << kPartBits) | next part: a part is claimed by advancing it, which
  // fails for a thread still holding an earlier job.
  static constexpr unsigned kPartBits = 24;
  static constexpr std::uint64_t kPartMask = (std::uint64_t{1} << kPartBits) - 1;

  void take_parts(const Job& job) {
    for (;;) {
      std::uint64_t ticket = ticket_.load(std::memory_order_acquire);
      if ((ticket >> kPartBits) != job.generation || (ticket & kPartMask) >= job.parts) break;
      if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel)) continue;
      job.task(job.context, static_cast<std::size_t>(ticket & kPartMask));
      remaining_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      wait_for_job(seen);
      Job job{};
      {
        const std::lock_guard<std::mutex> lock(job_mutex_);
        if (stop_) return;
        job = job_;
      }
      seen = job.generation;
      const FpModeScope mode(job.fp_mode);
      take_parts(job);
    }
  }

  // Spins for up to kSpin after the last job, then sleeps until the next one or stop.
  void wait_for_job(std::uint64_t seen) {
    constexpr auto kSpin = std::chrono::microseconds(200);
    const auto newer = [&] {
      return (ticket_.load(std::memory_order_acquire) >> kPartBits) != seen ||
             stop_flag_.load(std::memory_order_acquire);
    };
    const auto start = std::chrono::steady_clock::now();
    for (unsigned spins = 1; !newer(); ++spins) {
      if (spins % 256 == 0 && std::chrono::steady_clock::now() - start > kSpin) {
        std::unique_lock<std::mutex> lock(job_mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        return;
      }
      spin_pause();
    }
  }

  void stop_workers() {
    {
      const std::lock_guard<std::mutex> lock(job_mutex_);
      stop_ = true;
      stop_flag_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    stop_flag_.store(false, std::memory_order_release);
    threads_.store(1, std::memory_order_relaxed);
  }

  std::mutex use_;                        // one kernel on the pool at a time
  std::atomic<std::thread::id> owner_{};  // the thread holding use_ in run(), else none
  std::mutex job_mutex_;
  std::condition_variable wake_;
  Job job_{};
  std::uint64_t generation_ = 0;  // under job_mutex_
  bool stop_ = false;             // under job_mutex_
  std::atomic<bool> stop_flag_{false};
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<std::size_t> remaining_{0};
  std::atomic<std::size_t> threads_{1};
  std::vector<std::thread> workers_;
};

ThreadPool& pool() {
  static ThreadPool instance;
  return instance;
}

}  // namespace

void run_parts(std::size_t parts, Task task, void* context) { pool().run(parts, task, context); }

std::size_t pool_threads() noexcept { return pool().threads(); }

}  // namespace maya::core::detail

namespace maya {

void set_num_threads(std::size_t count) {
  (void)check_at_least(count, 1, "set_num_threads: the thread count");
  constexpr std::size_t kMaxThreads = 1024;
  if (count > kMaxThreads) {
    throw ValueError("set_num_threads: " + std::to_string(count) + " threads; at most " +
                     std::to_string(kMaxThreads) + " are supported");
  }
  core::detail::pool().resize(count);
}

std::size_t num_threads() noexcept { return core::detail::pool_threads(); }

}  // namespace maya
