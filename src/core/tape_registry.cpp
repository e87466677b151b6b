#include "maya/core/tape_registry.hpp"

#include <mutex>
#include <vector>

#include "maya/core/error.hpp"

namespace maya::core::detail {

TapeSlot TapeRegistry::slots_[TapeRegistry::kCapacity];

namespace {

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Stamps are never reused, so a handle from a destroyed tape can never match a later tape.
std::atomic<std::uint64_t> next_stamp{1};

struct FreeList {
  std::vector<std::uint32_t> free;
  std::uint32_t high_water = 0;
};

FreeList& free_list() {
  static FreeList list;
  return list;
}

}  // namespace

std::uint32_t TapeRegistry::acquire(void* tape) {
  std::lock_guard lock(registry_mutex());
  FreeList& list = free_list();
  std::uint32_t slot;
  if (!list.free.empty()) {
    slot = list.free.back();
    list.free.pop_back();
  } else if (list.high_water < kCapacity) {
    slot = list.high_water++;
  } else {
    throw TapeError("Tape: more than 65536 tapes alive at once");
  }
  slots_[slot].tape.store(tape, std::memory_order_relaxed);
  slots_[slot].stamp.store(next_stamp.fetch_add(1), std::memory_order_relaxed);
  return slot;
}

void TapeRegistry::release(std::uint32_t slot) noexcept {
  std::lock_guard lock(registry_mutex());
  slots_[slot].stamp.store(0, std::memory_order_relaxed);
  slots_[slot].tape.store(nullptr, std::memory_order_relaxed);
  free_list().free.push_back(slot);
}

std::uint64_t TapeRegistry::restamp(std::uint32_t slot) noexcept {
  const std::uint64_t stamp = next_stamp.fetch_add(1);
  slots_[slot].stamp.store(stamp, std::memory_order_relaxed);
  return stamp;
}

}  // namespace maya::core::detail
