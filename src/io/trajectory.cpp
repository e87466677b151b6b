// CSV and .npy views of a Trajectory.
#include "maya/io/trajectory.hpp"

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"

namespace maya::io {
namespace {

void expect_size(const char* name, std::size_t actual, std::size_t expected) {
  if (actual != expected) {
    throw ShapeError(std::string("Trajectory: ") + name + " has " + std::to_string(actual) +
                     " values, expected " + std::to_string(expected));
  }
}

constexpr const char* kAxisNames[] = {"x", "y", "z"};

}  // namespace

void Trajectory::check() const {
  if (dim < 1 || dim > 3) {
    throw ShapeError("Trajectory: dim must be 1, 2 or 3, got " + std::to_string(dim));
  }
  const std::size_t frames = num_frames();
  expect_size("positions", positions.size(), frames * num_particles * dim);
  if (!velocities.empty()) {
    expect_size("velocities", velocities.size(), frames * num_particles * dim);
  }
  expect_size("body_poses", body_poses.size(), frames * num_bodies * 3);
}

std::string trajectory_csv(const Trajectory& trajectory) {
  trajectory.check();
  std::string csv = "step,time,particle";
  for (std::size_t axis = 0; axis < trajectory.dim; ++axis) {
    csv += std::string(",") + kAxisNames[axis];
  }
  if (!trajectory.velocities.empty()) {
    for (std::size_t axis = 0; axis < trajectory.dim; ++axis) {
      csv += std::string(",v") + kAxisNames[axis];
    }
  }
  csv += '\n';
  for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
    for (std::size_t particle = 0; particle < trajectory.num_particles; ++particle) {
      csv += std::to_string(frame) + ',' + format_number(trajectory.times[frame]) + ',' +
             std::to_string(particle);
      const std::size_t at = (frame * trajectory.num_particles + particle) * trajectory.dim;
      for (std::size_t axis = 0; axis < trajectory.dim; ++axis) {
        csv += ',' + format_number(trajectory.positions[at + axis]);
      }
      if (!trajectory.velocities.empty()) {
        for (std::size_t axis = 0; axis < trajectory.dim; ++axis) {
          csv += ',' + format_number(trajectory.velocities[at + axis]);
        }
      }
      csv += '\n';
    }
  }
  return csv;
}

std::string body_trajectory_csv(const Trajectory& trajectory) {
  trajectory.check();
  if (trajectory.num_bodies == 0) {
    return {};
  }
  std::string csv = "step,time,body,x,y,angle\n";
  for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
    for (std::size_t body = 0; body < trajectory.num_bodies; ++body) {
      const std::size_t at = (frame * trajectory.num_bodies + body) * 3;
      csv += std::to_string(frame) + ',' + format_number(trajectory.times[frame]) + ',' +
             std::to_string(body) + ',' + format_number(trajectory.body_poses[at]) + ',' +
             format_number(trajectory.body_poses[at + 1]) + ',' +
             format_number(trajectory.body_poses[at + 2]) + '\n';
    }
  }
  return csv;
}

std::string positions_npy(const Trajectory& trajectory) {
  trajectory.check();
  const std::size_t shape[] = {trajectory.num_frames(), trajectory.num_particles, trajectory.dim};
  return npy_bytes(trajectory.positions, shape);
}

std::string velocities_npy(const Trajectory& trajectory) {
  trajectory.check();
  const std::size_t shape[] = {trajectory.num_frames(), trajectory.num_particles, trajectory.dim};
  return npy_bytes(trajectory.velocities, shape);
}

std::string times_npy(const Trajectory& trajectory) {
  const std::size_t shape[] = {trajectory.num_frames()};
  return npy_bytes(trajectory.times, shape);
}

}  // namespace maya::io
