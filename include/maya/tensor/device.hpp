// Where a tensor's values live. Every tensor and every tape node carries its device, so the CUDA
// backend can arrive without changing the tensor API; host views are explicit.
#pragma once

#include <cstdint>
#include <string_view>

namespace maya {

enum class Device : std::uint8_t { kCpu, kCuda };

[[nodiscard]] constexpr std::string_view to_string(Device device) noexcept {
  return device == Device::kCpu ? "cpu" : "cuda";
}

}  // namespace maya
