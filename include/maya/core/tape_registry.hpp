// Lets small trivially-copyable handles (Var, TensorVar) detect that their tape was cleared or
// destroyed without ever dereferencing a dangling pointer: a handle keeps a slot and a stamp, and
// the slot's stamp changes whenever its tape is cleared or goes away.
#pragma once

#include <atomic>
#include <cstdint>

namespace maya::core::detail {

struct TapeSlot {
  std::atomic<void*> tape{nullptr};
  std::atomic<std::uint64_t> stamp{0};
};

class TapeRegistry {
 public:
  static constexpr std::uint32_t kCapacity = 1u << 16;

  // Claims a free slot for `tape`; throws maya::TapeError when kCapacity tapes are alive.
  static std::uint32_t acquire(void* tape);
  static void release(std::uint32_t slot) noexcept;
  // Gives the slot a new stamp, invalidating every handle that holds the old one.
  static std::uint64_t restamp(std::uint32_t slot) noexcept;

  [[nodiscard]] static bool is_current(std::uint32_t slot, std::uint64_t stamp) noexcept {
    return stamp != 0 && slot < kCapacity &&
           slots_[slot].stamp.load(std::memory_order_relaxed) == stamp;
  }
  [[nodiscard]] static void* tape(std::uint32_t slot) noexcept {
    return slots_[slot].tape.load(std::memory_order_relaxed);
  }
  [[nodiscard]] static std::uint64_t stamp(std::uint32_t slot) noexcept {
    return slots_[slot].stamp.load(std::memory_order_relaxed);
  }

 private:
  static TapeSlot slots_[kCapacity];
};

}  // namespace maya::core::detail
