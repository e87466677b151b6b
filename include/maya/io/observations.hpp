// Measured trajectories: observed positions of some particles (or mesh vertices, or body centres)
// at their own time stamps, read from CSV or .npy. The reader only checks the file; resampling
// onto a simulation's steps and matching against a scene is done by the task (maya/tasks/).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maya::io {

struct Observations {
  std::vector<double> times;        // [T], strictly increasing, finite
  std::vector<std::size_t> points;  // [P]: the observed indices, or empty (= 0..P-1)
  std::size_t num_points = 0;       // P
  std::vector<double> positions;    // [T, P, 2], finite

  [[nodiscard]] std::size_t num_frames() const noexcept { return times.size(); }
};

// A long ("tidy") CSV: a header line naming at least the columns `time`, `x`, `y` and the index
// column `index_column` ("particle", "vertex" or "body"; other columns such as step, vx, vy are
// ignored), then one row per time and point, rows in time order. Every time must list the same
// points. `source` names the file in messages, which read "<source>:<line>: <what is wrong>".
// Throws maya::ParseError.
[[nodiscard]] Observations parse_observations_csv(std::string_view text, const std::string& source,
                                                  std::string_view index_column = "particle");

// Observations from `file`: a CSV (by its extension .csv), or a .npy of positions [T, P, 2] whose
// time stamps come from `times_file` (a .npy [T]) or, without one, are k * dt for frame k.
// Throws maya::FileError for a missing file and maya::ParseError (naming the file) for one that
// is malformed.
[[nodiscard]] Observations load_observations(const std::filesystem::path& file,
                                             const std::optional<std::filesystem::path>& times_file,
                                             double dt, std::string_view index_column = "particle");

}  // namespace maya::io
