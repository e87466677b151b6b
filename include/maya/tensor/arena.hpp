// A bump allocator in chunks that never move, so views into it stay valid while the tape grows.
// reset() keeps every chunk for reuse: a re-recorded tape allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace maya::detail {

template <class T>
class ChunkArena {
  static_assert(std::is_trivial_v<T>);

 public:
  static constexpr std::size_t kChunkElements = (std::size_t{1} << 19) / sizeof(T);  // 512 KiB
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kGranule = kAlignment / sizeof(T);

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
    const std::size_t capacity = std::max(kChunkElements, padded);
    void* memory = std::aligned_alloc(kAlignment, capacity * sizeof(T));
    if (memory == nullptr) throw std::bad_alloc();
    chunks_.push_back(Chunk{std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(memory)), capacity});
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
    void operator()(T* p) const noexcept { std::free(p); }
  };
  struct Chunk {
    std::unique_ptr<T[], FreeDeleter> values;
    std::size_t capacity;
  };
  std::vector<Chunk> chunks_;
  std::size_t current_ = 0;
  std::size_t used_ = 0;
  std::size_t used_before_current_ = 0;
};

}  // namespace maya::detail
