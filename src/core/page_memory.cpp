#include "maya/core/page_memory.hpp"

#include <cstdint>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace maya::core::detail {

#if defined(__linux__)

void* allocate_pages(std::size_t bytes) {
  if (bytes < kHugePageBytes) return ::operator new (bytes, std::align_val_t{64});
  const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  // Map one extra huge page, then trim both ends so the block starts on a huge-page boundary.
  void* mapped = mmap(nullptr, rounded + kHugePageBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(mapped);
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(base) % kHugePageBytes;
  const std::size_t head = misalignment == 0 ? 0 : kHugePageBytes - misalignment;
  if (head > 0) munmap(base, head);
  munmap(base + head + rounded, kHugePageBytes - head);
  madvise(base + head, rounded, MADV_HUGEPAGE);
  return base + head;
}

void free_pages(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) return;
  if (bytes < kHugePageBytes) {
    ::operator delete (data, std::align_val_t{64});
    return;
  }
  munmap(data, (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
}

#else

void* allocate_pages(std::size_t bytes) { return ::operator new (bytes, std::align_val_t{64}); }
void free_pages(void* data, std::size_t) noexcept {
  ::operator delete (data, std::align_val_t{64});
}

#endif

}  // namespace maya::core::detail
