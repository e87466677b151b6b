// The runtime of the CUDA backend: one non-blocking stream per process, the device's default
// memory pool with an unbounded release threshold (freed blocks stay cached, so steady-state
// allocation never reaches cudaMalloc), a cuBLAS handle on that stream, and CUDA graphs.
#include "tensor/device_runtime.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/cuda.hpp"

namespace maya::tensor::detail {
namespace {

struct Runtime {
  std::string unusable;  // why the GPU cannot be used; empty when it can
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void* blas_workspace = nullptr;
};

std::string error_text(cudaError_t error) {
  return std::string(cudaGetErrorName(error)) + " (" + cudaGetErrorString(error) + ")";
}

// Never destroyed: device buffers of static tensors are freed after main() returns.
Runtime& runtime() {
  static Runtime* state = [] {
    auto* r = new Runtime;
    int count = 0;
    cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess || count == 0) {
      r->unusable = error != cudaSuccess ? "no CUDA device answers: " + error_text(error)
                                         : std::string("no CUDA device is present");
      cudaGetLastError();
      return r;
    }
    cudaMemPool_t pool = nullptr;
    std::uint64_t threshold = std::numeric_limits<std::uint64_t>::max();
    if ((error = cudaSetDevice(0)) != cudaSuccess ||
        (error = cudaStreamCreateWithFlags(&r->stream, cudaStreamNonBlocking)) != cudaSuccess ||
        (error = cudaDeviceGetDefaultMemPool(&pool, 0)) != cudaSuccess ||
        (error = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold)) !=
            cudaSuccess) {
      r->unusable = "CUDA device 0 could not be set up: " + error_text(error);
      cudaGetLastError();
      return r;
    }
    // cuBLAS gets a fixed workspace so that graph capture never makes it allocate.
    constexpr std::size_t kWorkspace = std::size_t{32} << 20;
    if (cublasCreate(&r->blas) != CUBLAS_STATUS_SUCCESS ||
        cublasSetStream(r->blas, r->stream) != CUBLAS_STATUS_SUCCESS ||
        cudaMalloc(&r->blas_workspace, kWorkspace) != cudaSuccess ||
        cublasSetWorkspace(r->blas, r->blas_workspace, kWorkspace) != CUBLAS_STATUS_SUCCESS) {
      r->unusable = "cuBLAS could not be set up on CUDA device 0";
      cudaGetLastError();
    }
    return r;
  }();
  return *state;
}

void check(cudaError_t error, std::string_view what) {
  if (error == cudaSuccess) [[likely]]
    return;
  cudaGetLastError();
  throw DeviceError(std::string(what) + ": CUDA error " + error_text(error));
}

cudaStream_t cuda() { return static_cast<cudaStream_t>(stream()); }

}  // namespace

void require_cuda(std::string_view operation) {
  const Runtime& r = runtime();
  if (!r.unusable.empty()) [[unlikely]] {
    throw DeviceError(std::string(operation) + ": Device::kCuda is unusable: " + r.unusable);
  }
}

void* stream() {
  require_cuda("cuda");
  return runtime().stream;
}

void* cublas() {
  require_cuda("cuBLAS");
  return runtime().blas;
}

double* device_allocate(std::size_t count, std::string_view operation) {
  require_cuda(operation);
  const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(double);
  void* memory = nullptr;
  const cudaError_t error = cudaMallocAsync(&memory, bytes, cuda());
  if (error == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw Error(std::string(operation) + ": out of GPU memory: requested " + std::to_string(bytes) +
                " bytes, " + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) +
                " bytes free");
  }
  check(error, std::string(operation) + ": allocating " + std::to_string(bytes) + " bytes");
  return static_cast<double*>(memory);
}

void device_free(double* values) noexcept {
  if (values != nullptr) cudaFreeAsync(values, runtime().stream);
}

void copy_to_device(double* device, const double* host, std::size_t count) {
  if (count == 0) return;
  check(cudaMemcpyAsync(device, host, count * sizeof(double), cudaMemcpyHostToDevice, cuda()),
        "copy to the GPU");
}

void copy_to_host(double* host, const double* device, std::size_t count) {
  if (count > 0) {
    check(cudaMemcpyAsync(host, device, count * sizeof(double), cudaMemcpyDeviceToHost, cuda()),
          "copy to the CPU");
  }
  check(cudaStreamSynchronize(cuda()), "copy to the CPU (a queued kernel failed)");
}

void copy_on_device(double* to, const double* from, std::size_t count) {
  if (count == 0) return;
  check(cudaMemcpyAsync(to, from, count * sizeof(double), cudaMemcpyDeviceToDevice, cuda()),
        "copy on the GPU");
}

void fill_zero(double* device, std::size_t count) {
  if (count == 0) return;
  check(cudaMemsetAsync(device, 0, count * sizeof(double), cuda()), "fill on the GPU");
}

}  // namespace maya::tensor::detail

namespace maya {

using tensor::detail::require_cuda;

bool cuda_available() noexcept {
  try {
    return tensor::detail::runtime().unusable.empty();
  } catch (...) {
    return false;
  }
}

std::string cuda_unavailable_reason() { return tensor::detail::runtime().unusable; }

void* cuda_stream() { return tensor::detail::stream(); }

void cuda_synchronize() {
  tensor::detail::check(cudaStreamSynchronize(tensor::detail::cuda()), "cuda_synchronize");
}

std::size_t cuda_reserved_bytes() {
  if (!cuda_available()) return 0;
  cudaMemPool_t pool = nullptr;
  std::uint64_t reserved = 0;
  if (cudaDeviceGetDefaultMemPool(&pool, 0) != cudaSuccess ||
      cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return static_cast<std::size_t>(reserved);
}

struct CudaGraph::Impl {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  ~Impl() {
    if (exec != nullptr) cudaGraphExecDestroy(exec);
    if (graph != nullptr) cudaGraphDestroy(graph);
  }
};

CudaGraph::CudaGraph() noexcept = default;
CudaGraph::~CudaGraph() = default;
CudaGraph::CudaGraph(CudaGraph&& other) noexcept = default;
CudaGraph& CudaGraph::operator=(CudaGraph&& other) noexcept = default;

void CudaGraph::begin_capture() {
  require_cuda("CudaGraph::capture");
  // Queued work of earlier calls stays out of the graph.
  tensor::detail::check(cudaStreamSynchronize(tensor::detail::cuda()), "CudaGraph::capture");
  tensor::detail::check(
      cudaStreamBeginCapture(tensor::detail::cuda(), cudaStreamCaptureModeThreadLocal),
      "CudaGraph::capture: beginning the capture");
}

void CudaGraph::end_capture() {
  auto impl = std::make_unique<Impl>();
  tensor::detail::check(cudaStreamEndCapture(tensor::detail::cuda(), &impl->graph),
                        "CudaGraph::capture: the body waited for the GPU or used another stream");
  tensor::detail::check(cudaGraphInstantiate(&impl->exec, impl->graph, 0),
                        "CudaGraph::capture: instantiating the graph");
  impl_ = std::move(impl);
}

void CudaGraph::abort_capture() noexcept {
  cudaGraph_t graph = nullptr;
  cudaStreamEndCapture(tensor::detail::runtime().stream, &graph);
  if (graph != nullptr) cudaGraphDestroy(graph);
  cudaGetLastError();
}

void CudaGraph::replay() {
  if (!impl_) throw DeviceError("CudaGraph::replay: the graph is empty (nothing was captured)");
  tensor::detail::check(cudaGraphLaunch(impl_->exec, tensor::detail::cuda()), "CudaGraph::replay");
}

std::size_t CudaGraph::node_count() const {
  if (!impl_) return 0;
  std::size_t count = 0;
  tensor::detail::check(cudaGraphGetNodes(impl_->graph, nullptr, &count), "CudaGraph::node_count");
  return count;
}

}  // namespace maya
