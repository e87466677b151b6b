// Observations resampled onto simulation steps, and seeded noise.
#include "maya/tasks/measurement.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "maya/core/error.hpp"

namespace maya::tasks {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform number in (0, 1]: never 0, so its logarithm is finite.
double uniform(std::uint64_t& state) {
  return (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
}

void index_rows(ObservedFrames& observed, std::size_t steps) {
  observed.row_of.assign(steps + 1, -1);
  for (std::size_t row = 0; row < observed.frames.size(); ++row) {
    observed.row_of[observed.frames[row]] = static_cast<std::ptrdiff_t>(row);
  }
}

}  // namespace

io::Trajectory ObservedFrames::trajectory(double dt) const {
  io::Trajectory out;
  out.num_particles = points.size();
  out.positions = positions;
  for (const std::size_t frame : frames) {
    out.times.push_back(dt * static_cast<double>(frame));
  }
  return out;
}

ObservedFrames resample(const io::Observations& observations, double dt, std::size_t steps,
                        std::size_t every, std::span<const std::size_t> points,
                        std::size_t num_scene_points, const std::string& kind,
                        const std::string& source) {
  const std::size_t file_points = observations.num_points;
  // Which column of the file each observed point is.
  std::vector<std::size_t> wanted(points.begin(), points.end());
  std::vector<std::size_t> columns;
  if (!observations.points.empty()) {
    if (wanted.empty()) wanted = observations.points;
    for (const std::size_t point : wanted) {
      const auto found = std::find(observations.points.begin(), observations.points.end(), point);
      if (found == observations.points.end()) {
        throw ParseError(source + ": has no observations of " + kind + " " + std::to_string(point) +
                         ", which the task lists as observed");
      }
      columns.push_back(static_cast<std::size_t>(found - observations.points.begin()));
    }
  } else {
    if (wanted.empty()) {
      for (std::size_t k = 0; k < file_points; ++k) wanted.push_back(k);
    }
    if (wanted.size() != file_points) {
      throw ParseError(source + ": holds " + std::to_string(file_points) + " observed " + kind +
                       "s per frame, the task observes " + std::to_string(wanted.size()));
    }
    for (std::size_t k = 0; k < file_points; ++k) columns.push_back(k);
  }
  for (const std::size_t point : wanted) {
    if (point >= num_scene_points) {
      throw ParseError(source + ": observes " + kind + " " + std::to_string(point) +
                       ", which does not exist (the scene has " + std::to_string(num_scene_points) +
                       " " + kind + "s, numbered from 0)");
    }
  }
  ObservedFrames out;
  out.points = wanted;
  const std::vector<double>& times = observations.times;
  const double slack = 1e-6 * dt;
  std::size_t j = 0;
  std::size_t in_span = 0;
  for (std::size_t k = 0; k <= steps; ++k) {
    const double t = dt * static_cast<double>(k);
    if (t < times.front() - slack || t > times.back() + slack) continue;
    if (in_span++ % every != 0) continue;
    while (j + 1 < times.size() && times[j + 1] <= t + slack) ++j;
    const bool exact = std::abs(t - times[j]) <= slack || j + 1 == times.size();
    const double w = exact ? 0.0 : (t - times[j]) / (times[j + 1] - times[j]);
    out.frames.push_back(k);
    for (const std::size_t column : columns) {
      for (std::size_t axis = 0; axis < 2; ++axis) {
        const double a = observations.positions[(j * file_points + column) * 2 + axis];
        const double b =
            exact ? a : observations.positions[((j + 1) * file_points + column) * 2 + axis];
        out.positions.push_back(a + w * (b - a));
      }
    }
  }
  if (out.frames.empty()) {
    throw ParseError(source + ": its time span [" + std::to_string(times.front()) + ", " +
                     std::to_string(times.back()) + "] s holds no step of the simulation (0 to " +
                     std::to_string(dt * static_cast<double>(steps)) + " s every " +
                     std::to_string(dt) + " s)");
  }
  index_rows(out, steps);
  return out;
}

ObservedFrames observe_run(std::span<const double> positions, std::size_t num_points,
                           std::size_t steps, std::size_t every,
                           std::span<const std::size_t> points) {
  ObservedFrames out;
  out.points.assign(points.begin(), points.end());
  if (out.points.empty()) {
    for (std::size_t k = 0; k < num_points; ++k) out.points.push_back(k);
  }
  for (std::size_t k = 0; k <= steps; k += every) {
    out.frames.push_back(k);
    for (const std::size_t point : out.points) {
      out.positions.push_back(positions[(k * num_points + point) * 2]);
      out.positions.push_back(positions[(k * num_points + point) * 2 + 1]);
    }
  }
  index_rows(out, steps);
  return out;
}

void add_noise(ObservedFrames& observed, double std, std::uint64_t seed) {
  if (!(std > 0.0)) return;
  std::uint64_t state = seed;
  for (std::size_t k = 0; k < observed.positions.size(); k += 2) {
    const double radius = std::sqrt(-2.0 * std::log(uniform(state)));
    const double angle = 2.0 * std::numbers::pi * uniform(state);
    observed.positions[k] += std * radius * std::cos(angle);
    if (k + 1 < observed.positions.size()) {
      observed.positions[k + 1] += std * radius * std::sin(angle);
    }
  }
}

}  // namespace maya::tasks
