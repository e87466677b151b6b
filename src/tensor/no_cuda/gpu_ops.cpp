// Without CUDA no node lives on Device::kCuda, so the CPU ops never hand one here; these only
// satisfy the linker.
#include "tensor/gpu_ops.hpp"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail::gpu {

TensorVar binary(BinaryCode, const char* name, TensorVar, TensorVar) {
  require_cuda(name);
  return {};
}
TensorVar constant(BinaryCode, const char* name, TensorVar, double, bool) {
  require_cuda(name);
  return {};
}
TensorVar unary(UnaryCode, const char* name, TensorVar, double, double) {
  require_cuda(name);
  return {};
}
TensorVar sum_all(TensorVar, bool) {
  require_cuda("sum");
  return {};
}
TensorVar sum_axis(TensorVar, std::size_t, bool, bool) {
  require_cuda("sum");
  return {};
}
TensorVar matmul(TensorVar, TensorVar) {
  require_cuda("matmul");
  return {};
}
TensorVar dense(TensorVar, TensorVar, TensorVar, Activation) {
  require_cuda("dense");
  return {};
}
TensorVar flat_copy(const char* name, TensorVar, ShapeView) {
  require_cuda(name);
  return {};
}
TensorVar strided(const char* name, TensorVar, ShapeView, std::span<const std::int64_t>) {
  require_cuda(name);
  return {};
}
TensorVar concat_rows(const char* name, std::span<const TensorVar>, ShapeView, std::size_t) {
  require_cuda(name);
  return {};
}
TensorVar gather_map(const char* name, TensorVar, ShapeView, std::span<const std::int64_t>) {
  require_cuda(name);
  return {};
}
TensorVar scatter_pairs(const char* name, TensorVar, TensorVar, std::span<const std::int64_t>) {
  require_cuda(name);
  return {};
}

TensorVar fused(std::span<const TensorVar>, ShapeView, std::span<const double>,
                std::span<const std::int64_t>) {
  require_cuda("fused");
  return {};
}
TensorVar axis_reduce(AxisReduction, TensorVar, ShapeView, std::size_t, std::size_t, std::size_t) {
  require_cuda("max");
  return {};
}

}  // namespace maya::tensor::detail::gpu
