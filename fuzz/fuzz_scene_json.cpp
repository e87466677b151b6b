// libFuzzer harness: scene JSON text. A maya::Error is the expected answer to bad input; any
// other exception, a crash, a leak or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "maya/core/error.hpp"
#include "maya/io/scene_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)maya::io::parse_scene_text(std::string_view(reinterpret_cast<const char*>(data), size),
                                     "fuzz.json");
  } catch (const maya::Error&) {
  }
  return 0;
}
