// Large, page-aligned allocations for tape storage. A tape writes megabytes once per recording and
// reads them back once per sweep; first-touch page faults on 4 KiB pages can cost more than the
// arithmetic, so blocks of 2 MiB and more are mapped on their own and offered transparent huge
// pages (Linux; elsewhere this is aligned operator new).
#pragma once

#include <cstddef>

namespace maya::core::detail {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// At least `bytes` bytes aligned to 64 (to kHugePageBytes for blocks of that size or more).
// Throws std::bad_alloc.
[[nodiscard]] void* allocate_pages(std::size_t bytes);
// Frees a block from allocate_pages; `bytes` must be the size it was asked for.
void free_pages(void* data, std::size_t bytes) noexcept;

}  // namespace maya::core::detail
