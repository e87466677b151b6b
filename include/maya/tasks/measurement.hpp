// Measured data for a task: observations (io/observations.hpp) resampled onto a simulation's
// steps, restricted to the observed points (particles, mesh vertices or bodies), optionally with
// seeded Gaussian noise; and the residuals a fit compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "maya/io/observations.hpp"
#include "maya/io/trajectory.hpp"

namespace maya::tasks {

// What a match_trajectory term compares: the observed positions at some simulation frames.
struct ObservedFrames {
  std::vector<std::size_t> frames;     // [F]: simulation frames (frame k is at time k * dt)
  std::vector<std::size_t> points;     // [P]: the observed points' indices in the scene
  std::vector<double> positions;       // [F, P, 2]
  std::vector<std::ptrdiff_t> row_of;  // [steps + 1]: the row of frame k in `frames`, or -1

  [[nodiscard]] std::size_t num_frames() const noexcept { return frames.size(); }
  [[nodiscard]] std::size_t num_points() const noexcept { return points.size(); }
  // The observation as a trajectory of its points (for plots and the viewer).
  [[nodiscard]] io::Trajectory trajectory(double dt) const;
};

// Resamples `observations` onto the frames 0..steps (time k * dt) that lie in their time span,
// linearly between the two nearest time stamps, keeping every `every`-th of those frames.
// `points`: the scene indices observed (empty: those the file names, else 0..P-1); a file that
// names its points must hold every one of them, a file that does not must hold exactly as many.
// `num_scene_points` bounds the indices; `kind` ("particle", "vertex", "body") and `source`
// (the file) name them in messages. Throws maya::ParseError.
[[nodiscard]] ObservedFrames resample(const io::Observations& observations, double dt,
                                      std::size_t steps, std::size_t every,
                                      std::span<const std::size_t> points,
                                      std::size_t num_scene_points, const std::string& kind,
                                      const std::string& source);

// Every frame of a simulated run (positions [steps + 1, N, 2]) at `points` (empty: all N).
[[nodiscard]] ObservedFrames observe_run(std::span<const double> positions, std::size_t num_points,
                                         std::size_t steps, std::size_t every,
                                         std::span<const std::size_t> points);

// Adds independent Gaussian noise of standard deviation `std` to every coordinate; the same seed
// gives the same noise on every platform (splitmix64 and Box-Muller).
void add_noise(ObservedFrames& observed, double std, std::uint64_t seed);

}  // namespace maya::tasks
