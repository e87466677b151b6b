// A self-contained HTML 3-D viewer for articulated bodies (robots): one file with the frames
// embedded as JSON and three.js (Debian's libjs-three, compiled in when the build machine has it)
// drawing every body's shapes at its pose, with play/pause, a time slider and orbit controls.
// It loads nothing from the network. Plain data only: the program fills it from a model.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace maya::viz {

struct Viewer3DShape {
  enum class Type { kSphere, kCapsule, kBox };
  Type type = Type::kSphere;
  std::array<double, 3> position{0.0, 0.0, 0.0};          // in the body frame
  std::array<double, 4> orientation{1.0, 0.0, 0.0, 0.0};  // (w, x, y, z), body frame
  double radius = 0.0;                                    // sphere, capsule
  double half_length = 0.0;                               // capsule: segment along local z
  std::array<double, 3> half_size{0.0, 0.0, 0.0};         // box
};

struct Viewer3DBody {
  std::string name;
  int parent = -1;  // an earlier body, or -1: a line joins each body's origin to its parent's
  std::vector<Viewer3DShape> shapes;
};

struct Viewer3DScene {
  std::string title;
  std::vector<Viewer3DBody> bodies;
  std::vector<double> times;  // [F] seconds
  std::vector<double> poses;  // [F, bodies, 7]: world position, then quaternion (w, x, y, z)
  // Ground planes normal . x = offset: [normal x, y, z, offset], drawn as a grid.
  std::vector<std::array<double, 4>> planes;
  std::vector<std::array<double, 3>> targets;  // marked points (a reach target)
};

// The scene as JSON ("format": "maya-viewer-3d", "version": 1). Throws maya::ShapeError when
// poses is not [times, bodies, 7].
[[nodiscard]] std::string viewer3d_json(const Viewer3DScene& scene);

// The whole HTML page. Without three.js in the build the page says so (and how to get it) in
// place of the drawing; viewer3d_has_three() tells which.
[[nodiscard]] std::string viewer3d_html(const Viewer3DScene& scene);
[[nodiscard]] bool viewer3d_has_three() noexcept;

}  // namespace maya::viz
