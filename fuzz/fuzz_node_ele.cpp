// libFuzzer harness: a TetGen/Triangle .node file and its .ele file, given as one input split at
// the first NUL byte (everything after it is the .ele file).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/fem/mesh_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  std::istringstream node(input.substr(0, split));
  std::istringstream ele(split == std::string::npos ? std::string() : input.substr(split + 1));
  try {
    (void)maya::fem::read_node_ele(node, "fuzz.node", ele, "fuzz.ele");
  } catch (const maya::Error&) {
  }
  return 0;
}
