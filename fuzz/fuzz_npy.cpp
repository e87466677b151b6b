// libFuzzer harness: .npy bytes. A parsed array must hold exactly the values its shape claims.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const maya::io::NpyArray array =
        maya::io::parse_npy(std::string_view(reinterpret_cast<const char*>(data), size));
    std::size_t count = 1;
    for (const std::size_t extent : array.shape) count *= extent;
    if (count != array.values.size()) std::abort();
  } catch (const maya::Error&) {
  }
  return 0;
}
