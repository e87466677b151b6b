// The CUDA backend's runtime as plain C++ (no CUDA headers): one stream, the caching allocator,
// copies and fills. Implemented in tensor/cuda/device_runtime.cpp, or in
// tensor/no_cuda/device_runtime.cpp as stand-ins that throw DeviceError when maya has no CUDA.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace maya::tensor::detail {

// Throws maya::DeviceError naming `operation` unless a GPU is usable.
void require_cuda(std::string_view operation);

// Stream-ordered device memory from a pool that keeps what it freed (no cudaMalloc per op in
// steady state). Throws maya::Error naming the bytes when the GPU is out of memory.
[[nodiscard]] double* device_allocate(std::size_t count, std::string_view operation);
void device_free(double* values) noexcept;

// Copies of `count` doubles. to_host waits for the stream; the others are queued.
void copy_to_device(double* device, const double* host, std::size_t count);
void copy_to_host(double* host, const double* device, std::size_t count);
void copy_on_device(double* to, const double* from, std::size_t count);
void fill_zero(double* device, std::size_t count);
// Kernels (tensor/cuda/elementwise.cu): to[i] = value; to[i] += from[i].
void fill_value(double* device, double value, std::size_t count);
void add_on_device(double* to, const double* from, std::size_t count);

// The stream (cudaStream_t) and cuBLAS handle (cublasHandle_t), created at first use.
[[nodiscard]] void* stream();
[[nodiscard]] void* cublas();

// A chunked bump allocator of device memory for a tape's values and gradients (the device twin
// of ChunkArena): reset() keeps the chunks, so a re-recorded tape allocates nothing.
class DeviceArena {
 public:
  DeviceArena() = default;
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;
  ~DeviceArena();
  [[nodiscard]] double* allocate(std::size_t count);
  void reset() noexcept {
    current_ = 0;
    used_ = 0;
  }

 private:
  struct Chunk {
    double* values;
    std::size_t capacity;
  };
  static constexpr std::size_t kChunkElements = std::size_t{4} << 20;  // 32 MiB
  std::vector<Chunk> chunks_;
  std::size_t current_ = 0;
  std::size_t used_ = 0;
};

}  // namespace maya::tensor::detail
