// placeholder
#include "maya/core/error.hpp"
#include "maya/multibody/loaders.hpp"
namespace maya::multibody {
bool urdf_available() noexcept { return false; }
Model load_urdf(const std::string& path, const UrdfOptions&) { throw Error("load_urdf: " + path); }
Model parse_urdf(const std::string&, const std::string& source, const UrdfOptions&) {
  throw Error("parse_urdf: " + source);
}
}  // namespace maya::multibody
