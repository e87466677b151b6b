// A self-contained HTML trajectory viewer: one file with the frames embedded as JSON and a small
// inline script that plays them on a canvas (play/pause, time slider, speed), drawing bodies as
// their shapes. It loads nothing from the network. docs/scene-format.md describes the JSON.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "maya/io/trajectory.hpp"

namespace maya::viz {

struct ViewerSpring {
  std::size_t first = 0;
  std::size_t second = 0;
  double rest_length = 0.0;  // springs are tinted red when stretched, blue when compressed
};

struct ViewerBody {
  enum class Shape { kCircle, kPolygon };
  Shape shape = Shape::kCircle;
  double radius = 0.0;
  std::vector<std::array<double, 2>> vertices;  // polygon, in the body frame, counter-clockwise
};

// A static polyline drawn under the bodies (an observed path, a planned path).
struct ViewerPath {
  std::string label;
  std::vector<std::array<double, 2>> points;
  std::string color = "#555555";
};

struct ViewerScene {
  std::string title;
  io::Trajectory trajectory;            // particle positions and body poses per frame
  std::vector<double> particle_radius;  // per particle; empty = a size picked from the scene
  std::vector<ViewerSpring> springs;
  std::vector<ViewerBody> bodies;       // one per body of the trajectory
  std::optional<double> ground_height;  // a ground line y = height
  std::vector<std::array<double, 2>> targets;
  std::vector<ViewerPath> paths;
  // A second run of the same particles drawn faded under the first (e.g. the observed motion
  // beside the fitted one); empty or the same number of frames and particles as `trajectory`.
  std::string ghost_label;
  io::Trajectory ghost;
};

// The frame data as JSON ("format": "maya-viewer", "version": 1). Throws maya::ShapeError for
// inconsistent sizes and maya::ValueError for springs naming missing particles.
[[nodiscard]] std::string viewer_json(const ViewerScene& scene);

// The whole HTML page. Opening it with "#t=1.5" (seconds) or "#frame=30" shows that moment
// paused; without a fragment it plays from the start.
[[nodiscard]] std::string viewer_html(const ViewerScene& scene);

}  // namespace maya::viz
