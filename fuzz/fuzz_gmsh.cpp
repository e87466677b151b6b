// libFuzzer harness: Gmsh .msh 4.x ASCII text.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/fem/mesh_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    (void)maya::fem::read_gmsh(in, "fuzz.msh");
  } catch (const maya::Error&) {
  }
  return 0;
}
