// The CUDA backend's public face, without CUDA headers: whether a GPU is usable, maya's stream
// (for kernels of user-defined ops), and CudaGraph, which captures a recorded step or rollout,
// forward and reverse, once and replays it with one launch.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace maya {

// True when maya was built with CUDA and a GPU answers. Never throws.
[[nodiscard]] bool cuda_available() noexcept;
// Why Device::kCuda is unusable ("" when it is usable): no CUDA build, no GPU, a driver error.
[[nodiscard]] std::string cuda_unavailable_reason();
// maya's one stream, as a cudaStream_t cast to void*: every op on kCuda is queued on it, and a
// user-defined op launches its CUDA kernels there. Throws maya::DeviceError without a GPU.
[[nodiscard]] void* cuda_stream();
// Waits for everything queued on maya's stream; rethrows a kernel's error as maya::DeviceError.
void cuda_synchronize();
// Fused elementwise programs (maya/tensor/fused.hpp) run on the GPU as kernels compiled for each
// program at its first use (NVRTC, cached for the process). Returns "" while they do, else why
// they run through the generic interpreter kernel instead (no CUDA build, MAYA_CUDA_FUSED_JIT=0
// in the environment, a compiler error), with the same results. Never throws.
[[nodiscard]] std::string cuda_fused_jit_fallback_reason();
// Bytes the caching allocator holds for maya's device tensors and tapes (in use or cached).
[[nodiscard]] std::size_t cuda_reserved_bytes();

// A captured sequence of work on maya's stream, replayed as one CUDA graph. body() runs once,
// with the stream in capture mode: what it queues (ops on kCuda tensors, TensorTape::grad of a
// loss on kCuda, to() between kCuda tensors) becomes the graph, and replay() queues it again on
// the same buffers. Run body() once uncaptured first, so the tape's device memory and the
// gradients' tensors exist; inside body() nothing may wait for the GPU (no item(), no copy to
// the CPU, no Tensor on kCuda created or destroyed). A leaf made by TensorTape::var copies its
// Tensor at replay time, so parameters updated in place between replays are read afresh.
class CudaGraph {
 public:
  CudaGraph() noexcept;
  ~CudaGraph();
  CudaGraph(CudaGraph&& other) noexcept;
  CudaGraph& operator=(CudaGraph&& other) noexcept;
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  template <class Body>
  [[nodiscard]] static CudaGraph capture(Body&& body) {
    CudaGraph graph;
    graph.begin_capture();
    try {
      std::forward<Body>(body)();
    } catch (...) {
      graph.abort_capture();
      throw;
    }
    graph.end_capture();
    return graph;
  }

  // Queues the graph on maya's stream (no wait); throws maya::DeviceError when empty.
  void replay();
  [[nodiscard]] bool empty() const noexcept { return impl_ == nullptr; }
  // Kernel and copy nodes in the graph.
  [[nodiscard]] std::size_t node_count() const;

 private:
  struct Impl;
  void begin_capture();
  void end_capture();
  void abort_capture() noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maya
