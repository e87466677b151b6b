// A recorded trajectory in plain arrays (no tape): what the writers, plots and the viewer read.
// Particles carry positions and velocities; rigid bodies carry a pose (x, y, angle) per frame.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace maya::io {

struct Trajectory {
  std::size_t dim = 2;
  std::vector<double> times;  // [T]
  std::size_t num_particles = 0;
  std::vector<double> positions;   // [T, N, dim]
  std::vector<double> velocities;  // [T, N, dim], or empty
  std::size_t num_bodies = 0;
  std::vector<double> body_poses;  // [T, B, 3]: x, y, angle

  [[nodiscard]] std::size_t num_frames() const noexcept { return times.size(); }
  [[nodiscard]] double position(std::size_t frame, std::size_t particle,
                                std::size_t axis) const noexcept {
    return positions[(frame * num_particles + particle) * dim + axis];
  }
  // Throws maya::ShapeError when an array's size does not match the counts.
  void check() const;
};

// Long ("tidy") CSV, one row per frame and particle: step,time,particle,x,y,vx,vy. Values are
// printed with the shortest digits that read back to the same double.
[[nodiscard]] std::string trajectory_csv(const Trajectory& trajectory);
// One row per frame and body: step,time,body,x,y,angle. Empty when there are no bodies.
[[nodiscard]] std::string body_trajectory_csv(const Trajectory& trajectory);

// .npy bytes of the positions [T, N, dim], velocities [T, N, dim] and times [T].
[[nodiscard]] std::string positions_npy(const Trajectory& trajectory);
[[nodiscard]] std::string velocities_npy(const Trajectory& trajectory);
[[nodiscard]] std::string times_npy(const Trajectory& trajectory);

}  // namespace maya::io
