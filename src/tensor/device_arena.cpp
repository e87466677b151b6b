#include <algorithm>

#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail {

DeviceArena::~DeviceArena() {
  for (const Chunk& chunk : chunks_) device_free(chunk.values);
}

double* DeviceArena::allocate(std::size_t count) {
  // 32-element granules keep every buffer 256-byte aligned, as cudaMalloc's are.
  const std::size_t padded = (std::max<std::size_t>(count, 1) + 31) / 32 * 32;
  while (current_ < chunks_.size()) {
    Chunk& chunk = chunks_[current_];
    if (used_ + padded <= chunk.capacity) {
      double* result = chunk.values + used_;
      used_ += padded;
      return result;
    }
    ++current_;
    used_ = 0;
  }
  const std::size_t capacity = std::max(kChunkElements, padded);
  chunks_.push_back(Chunk{device_allocate(capacity, "TensorTape"), capacity});
  current_ = chunks_.size() - 1;
  used_ = padded;
  return chunks_.back().values;
}

}  // namespace maya::tensor::detail
