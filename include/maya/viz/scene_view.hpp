// Scene files as the viewer draws them: a SceneSpec's particles, springs, ground and rigid bodies
// (maya/tasks/ builds their models) turned into a ViewerScene around a recorded trajectory.
#pragma once

#include <string>
#include <vector>

#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "maya/viz/viewer.hpp"

namespace maya::viz {

// What the viewer needs to draw the scene's particles and springs, with `trajectory` as the
// motion (bodies are added with viewer_bodies).
[[nodiscard]] ViewerScene viewer_scene(const io::SceneSpec& scene, io::Trajectory trajectory,
                                       std::string title);

// The bodies as the viewer draws them: boxes and polygons by their vertices, circles by radius.
[[nodiscard]] std::vector<ViewerBody> viewer_bodies(const rigid::RigidWorld2D& world);

}  // namespace maya::viz
