// Device memory that a rollout function keeps between its calls, for the .cu files of the physics
// layers: buffers grown and never shrunk (a training loop calling with the same sizes allocates
// nothing after its first call), and a pinned host buffer through which the copies go (copies
// from pageable memory run at a few GB/s). One instance per function; a call holds its mutex.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "maya/core/error.hpp"

namespace maya::detail {

// A failed CUDA call as a DeviceError naming the public function, the step and CUDA's reason.
inline void check_cuda(cudaError_t status, const char* op, const char* what) {
  if (status != cudaSuccess) {
    throw DeviceError(std::string(op) + ": " + what + " failed: " + cudaGetErrorString(status));
  }
}

class KeptBuffers {
 public:
  explicit KeptBuffers(const char* op) : op_(op) {}
  KeptBuffers(const KeptBuffers&) = delete;
  KeptBuffers& operator=(const KeptBuffers&) = delete;
  ~KeptBuffers() {
    for (auto& [pointer, bytes] : buffers_) cudaFree(pointer);
    if (pinned_ != nullptr) cudaFreeHost(pinned_);
  }

  // Device memory for `count` values in slot `slot`; its contents are whatever was left there.
  template <class T>
  T* get(std::size_t slot, std::size_t count) {
    const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(T);
    if (buffers_.size() <= slot) buffers_.resize(slot + 1, {nullptr, 0});
    auto& [pointer, size] = buffers_[slot];
    if (size < bytes) {
      if (pointer != nullptr) check(cudaFree(pointer), "cudaFree");
      pointer = nullptr;
      size = 0;
      check(cudaMalloc(&pointer, bytes), "cudaMalloc");
      size = bytes;
    }
    return static_cast<T*>(pointer);
  }

  template <class T>
  void copy_to_device(T* device, const T* host, std::size_t count) {
    if (count == 0) return;
    void* pinned = staging(count * sizeof(T));
    std::memcpy(pinned, host, count * sizeof(T));
    check(cudaMemcpy(device, pinned, count * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
  }

  template <class T>
  T* upload(std::size_t slot, const T* host, std::size_t count) {
    T* device = get<T>(slot, count);
    copy_to_device(device, host, count);
    return device;
  }

  template <class T>
  void download(T* host, const T* device, std::size_t count) {
    if (count == 0) return;
    void* pinned = staging(count * sizeof(T));
    check(cudaMemcpy(pinned, device, count * sizeof(T), cudaMemcpyDeviceToHost), "copy to host");
    std::memcpy(host, pinned, count * sizeof(T));
  }

  void check(cudaError_t status, const char* what) const { check_cuda(status, op_, what); }

  std::mutex mutex;

 private:
  void* staging(std::size_t bytes) {
    if (pinned_bytes_ < bytes) {
      if (pinned_ != nullptr) check(cudaFreeHost(pinned_), "cudaFreeHost");
      pinned_ = nullptr;
      pinned_bytes_ = 0;
      check(cudaMallocHost(&pinned_, bytes), "cudaMallocHost");
      pinned_bytes_ = bytes;
    }
    return pinned_;
  }

  const char* op_;
  std::vector<std::pair<void*, std::size_t>> buffers_;
  void* pinned_ = nullptr;
  std::size_t pinned_bytes_ = 0;
};

}  // namespace maya::detail
