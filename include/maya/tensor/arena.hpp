// A bump allocator in chunks that never move, so views into it stay valid while the tape grows.
// reset() keeps every chunk for reuse: a re-recorded tape allocates nothing. Chunks of 2 MiB and
// more come from allocate_pages (huge pages where the system offers them). BufferPool recycles
// such buffers by size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "maya/core/page_memory.hpp"

namespace maya::tensor::detail {

template <class T>
class ChunkArena {
  static_assert(std::is_trivial_v<T>);

 public:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kGranule = kAlignment / sizeof(T);

  // Chunks hold at least `chunk_bytes` (a multiple of 64).
  explicit ChunkArena(std::size_t chunk_bytes = core::detail::kHugePageBytes)
      : chunk_elements_(chunk_bytes / sizeof(T)) {}

  // Uninitialized storage for `count` elements, 64-byte aligned.
  [[nodiscard]] T* allocate(std::size_t count) {
    const std::size_t padded =
        (std::max<std::size_t>(count, 1) + kGranule - 1) / kGranule * kGranule;
    while (current_ < chunks_.size()) {
      Chunk& chunk = chunks_[current_];
      if (used_ + padded <= chunk.capacity) {
        T* result = chunk.values.get() + used_;
        used_ += padded;
        return result;
      }
      used_before_current_ += used_;
      ++current_;
      used_ = 0;
    }
    const std::size_t capacity = std::max(chunk_elements_, padded);
    void* memory = core::detail::allocate_pages(capacity * sizeof(T));
    chunks_.push_back(
        Chunk{std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(memory), FreeDeleter{capacity}),
              capacity});
    current_ = chunks_.size() - 1;
    used_ = padded;
    return chunks_.back().values.get();
  }

  void reset() noexcept {
    current_ = 0;
    used_ = 0;
    used_before_current_ = 0;
  }

  [[nodiscard]] std::size_t bytes_used() const noexcept {
    return (used_before_current_ + used_) * sizeof(T);
  }
  [[nodiscard]] std::size_t bytes_reserved() const noexcept {
    std::size_t total = 0;
    for (const Chunk& chunk : chunks_) total += chunk.capacity;
    return total * sizeof(T);
  }

 private:
  struct FreeDeleter {
    std::size_t elements;
    void operator()(T* p) const noexcept { core::detail::free_pages(p, elements * sizeof(T)); }
  };
  struct Chunk {
    std::unique_ptr<T[], FreeDeleter> values;
    std::size_t capacity;
  };
  std::size_t chunk_elements_;
  std::vector<Chunk> chunks_;
  std::size_t current_ = 0;
  std::size_t used_ = 0;
  std::size_t used_before_current_ = 0;
};

// Buffers handed back during a reverse sweep, by element count, for the next gradient of that
// size: a T-step rollout then keeps about one step's gradients live instead of all T of them,
// and those stay in cache. A sweep meets few distinct sizes (a state, its parameters), so bins
// are searched linearly; sizes beyond the first kMaxBins are not pooled, which bounds the search.
class BufferPool {
 public:
  static constexpr std::size_t kMaxBins = 32;

  // A buffer of `count` elements handed back earlier (uninitialized), or nullptr.
  [[nodiscard]] double* take(std::size_t count) noexcept {
    for (Bin& bin : bins_) {
      if (bin.count != count) continue;
      if (bin.free.empty()) return nullptr;
      double* buffer = bin.free.back();
      bin.free.pop_back();
      return buffer;
    }
    return nullptr;
  }

  void give(double* buffer, std::size_t count) {
    for (Bin& bin : bins_) {
      if (bin.count == count) {
        bin.free.push_back(buffer);
        return;
      }
    }
    if (bins_.size() < kMaxBins) bins_.push_back(Bin{count, {buffer}});
  }

  // Forgets the buffers (their arena was reset) but keeps the bins' memory.
  void reset() noexcept {
    for (Bin& bin : bins_) bin.free.clear();
  }

 private:
  struct Bin {
    std::size_t count;
    std::vector<double*> free;
  };
  std::vector<Bin> bins_;
};

}  // namespace maya::tensor::detail
