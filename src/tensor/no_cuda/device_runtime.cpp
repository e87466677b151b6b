// Stand-ins for the CUDA backend in a build without CUDA: every use of Device::kCuda throws
// maya::DeviceError at its first step, and the CPU paths never reach here.
#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/cuda.hpp"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail {
namespace {

constexpr const char* kNoCuda = "maya was built without CUDA (configure with MAYA_CUDA=ON)";

[[noreturn]] void no_cuda(std::string_view operation) {
  throw DeviceError(std::string(operation) + ": Device::kCuda is unusable: " + kNoCuda);
}

}  // namespace

void require_cuda(std::string_view operation) { no_cuda(operation); }
void* stream() { no_cuda("cuda"); }
void* cublas() { no_cuda("cuBLAS"); }
double* device_allocate(std::size_t, std::string_view operation) { no_cuda(operation); }
void device_free(double*) noexcept {}
void copy_to_device(double*, const double*, std::size_t) { no_cuda("copy to the GPU"); }
void copy_to_host(double*, const double*, std::size_t) { no_cuda("copy to the CPU"); }
void copy_on_device(double*, const double*, std::size_t) { no_cuda("copy on the GPU"); }
void fill_zero(double*, std::size_t) { no_cuda("fill on the GPU"); }
void fill_value(double*, double, std::size_t) { no_cuda("fill on the GPU"); }
void add_on_device(double*, const double*, std::size_t) { no_cuda("add on the GPU"); }

}  // namespace maya::tensor::detail

namespace maya {

bool cuda_available() noexcept { return false; }
std::string cuda_unavailable_reason() { return tensor::detail::kNoCuda; }
std::string cuda_fused_jit_fallback_reason() { return tensor::detail::kNoCuda; }
void* cuda_stream() { tensor::detail::no_cuda("cuda_stream"); }
void cuda_synchronize() {}
std::size_t cuda_reserved_bytes() { return 0; }

struct CudaGraph::Impl {};
CudaGraph::CudaGraph() noexcept = default;
CudaGraph::~CudaGraph() = default;
CudaGraph::CudaGraph(CudaGraph&& other) noexcept = default;
CudaGraph& CudaGraph::operator=(CudaGraph&& other) noexcept = default;
void CudaGraph::begin_capture() { tensor::detail::no_cuda("CudaGraph::capture"); }
void CudaGraph::end_capture() {}
void CudaGraph::abort_capture() noexcept {}
void CudaGraph::replay() { tensor::detail::no_cuda("CudaGraph::replay"); }
std::size_t CudaGraph::node_count() const { return 0; }

}  // namespace maya
