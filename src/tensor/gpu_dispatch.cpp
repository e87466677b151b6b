#include <string>

#include "maya/core/error.hpp"
#include "tensor/gpu_ops.hpp"

namespace maya::tensor::detail {

bool operands_on_cuda(const TensorTape& tape, std::span<const TensorVar> operands,
                      const char* operation) {
  bool gpu = false;
  bool cpu = false;
  for (const TensorVar v : operands) {
    if (!v.valid() || &v.tape() != &tape) continue;  // the CPU op reports foreign operands
    (tape.device(v) == Device::kCuda ? gpu : cpu) = true;
  }
  if (gpu && cpu) [[unlikely]] {
    throw DeviceError(std::string(operation) +
                      ": operands on cpu and cuda; move them to one device with to(Device) first");
  }
  return gpu;
}

}  // namespace maya::tensor::detail
