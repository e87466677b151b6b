// What the program checks around a run of a scene: the time step against the stability limit of
// its stiffest spring or contact, the memory the run will hold, and the trajectory for a blow-up
// (a non-finite value, or a speed no passive scene can reach from its initial energy).
#pragma once

#include <cstddef>
#include <string_view>

#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"

namespace maya::cli {

// The largest dt that semi-implicit Euler runs stably for the scene's stiffest spring, ground or
// body contact: 2 / omega_max, with omega_max^2 bounded (Gershgorin) by the largest row sum of
// the mass-normalized stiffness, and by 2 m / c for damping c. Infinite for a scene with neither.
[[nodiscard]] double stability_limit(const io::SceneSpec& scene);

// Prints "maya: warning: ..." on stderr when dt exceeds stability_limit(scene).
void warn_if_unstable(const io::SceneSpec& scene, std::string_view what);

// The bytes a run holds at its peak: `copies` trajectories of the scene with their output files
// (about 256 bytes per particle and frame: the states, the CSV, .npy, SVG and viewer text);
// throws maya::ValueError naming the estimate and the machine's memory when it exceeds half of
// it, before anything runs.
void check_memory(const io::SceneSpec& scene, std::size_t copies, std::string_view what);

// Throws maya::BlowUpError naming the first step and particle or body whose state is not finite
// or moves faster than the scene's initial energy and gravity allow (by a factor of 10), and the
// stability limit when dt exceeds it. `check_speed` false checks finiteness only (for a
// trajectory run with other parameters than `scene`'s).
void check_trajectory(const io::SceneSpec& scene, const io::Trajectory& trajectory,
                      std::string_view what, bool check_speed = true);

}  // namespace maya::cli
