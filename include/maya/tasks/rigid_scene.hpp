// Scene files' rigid bodies on the penalty-contact world (maya/rigid/): the bodies of a SceneSpec
// become a RigidWorld2D with its parameter values, and a run becomes body poses of an
// io::Trajectory, beside (not interacting with) the scene's particles.
#pragma once

#include <vector>

#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/rigid/rigid_world.hpp"

namespace maya::tasks {

// The world of the scene's bodies: its gravity, a ground plane y = height when the scene has a
// ground, contact between bodies. Throws maya::ValueError when the scene has no bodies.
[[nodiscard]] rigid::RigidWorld2D make_rigid_world(const io::SceneSpec& scene);
[[nodiscard]] rigid::RigidParameterValues rigid_parameter_values(const io::SceneSpec& scene,
                                                                 const rigid::RigidWorld2D& world);

// Runs the bodies for scene.steps steps (forward only) and writes their poses into `trajectory`
// (num_bodies, body_poses; the times too when it has none yet).
void simulate_bodies(const io::SceneSpec& scene, io::Trajectory& trajectory);

}  // namespace maya::tasks
