// libFuzzer harness: task JSON text (its observed files are named, not read, by the parser).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "maya/core/error.hpp"
#include "maya/io/task_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)maya::io::parse_task_text(std::string_view(reinterpret_cast<const char*>(data), size),
                                    "fuzz.json");
  } catch (const maya::Error&) {
  }
  return 0;
}
