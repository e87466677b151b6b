// Measured trajectories from CSV or .npy, every value checked, every error with its line.
#include "maya/io/observations.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"

namespace maya::io {
namespace {

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    std::string_view cell =
        line.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t' || cell.back() == '\r')) {
      cell.remove_suffix(1);
    }
    cells.push_back(cell);
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

void check_times(const std::vector<double>& times, const std::string& source) {
  for (std::size_t k = 0; k < times.size(); ++k) {
    if (!std::isfinite(times[k])) {
      throw ParseError(source + ": time stamp " + std::to_string(k) + " is " +
                       format_number(times[k]) + "; time stamps must be finite");
    }
    if (k > 0 && !(times[k] > times[k - 1])) {
      throw ParseError(source + ": time stamp " + std::to_string(k) + " (" +
                       format_number(times[k]) + ") is not after the one before (" +
                       format_number(times[k - 1]) + "); time stamps must increase");
    }
  }
}

}  // namespace

Observations parse_observations_csv(std::string_view text, const std::string& source,
                                    std::string_view index_column) {
  Observations out;
  std::size_t line_number = 0;
  std::size_t position = 0;
  const auto next_line = [&](std::string_view& line) {
    while (position < text.size()) {
      const std::size_t end = std::min(text.find('\n', position), text.size());
      line = text.substr(position, end - position);
      position = end + 1;
      ++line_number;
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) return true;
    }
    return false;
  };
  const auto fail = [&](const std::string& message) -> void {
    throw ParseError(source + ":" + std::to_string(line_number) + ": " + message);
  };
  std::string_view line;
  if (!next_line(line)) {
    throw ParseError(source + ": empty file; expected a header line naming the columns time, " +
                     std::string(index_column) + ", x, y");
  }
  const std::vector<std::string_view> header = split_csv(line);
  const auto column = [&](std::string_view name) {
    const auto found = std::find(header.begin(), header.end(), name);
    if (found == header.end()) {
      fail("the header has no column '" + std::string(name) + "' (it needs time, " +
           std::string(index_column) + ", x, y)");
    }
    return static_cast<std::size_t>(found - header.begin());
  };
  const std::size_t time_column = column("time");
  const std::size_t point_column = column(index_column);
  const std::size_t x_column = column("x");
  const std::size_t y_column = column("y");

  std::vector<std::size_t> frame_points;  // the points of the frame being read
  std::vector<double> frame_positions;
  std::size_t frame_line = 0;  // the line of its last row
  const auto close_frame = [&]() {
    if (out.times.size() == 1) {
      out.points = frame_points;
      out.num_points = frame_points.size();
    } else if (frame_points != out.points) {
      line_number = frame_line;
      fail("the rows of time " + format_number(out.times.back()) + " list " +
           std::to_string(frame_points.size()) + " " + std::string(index_column) +
           "s that differ from those of the first time (" + std::to_string(out.num_points) +
           "); every time must list the same " + std::string(index_column) + "s in one order");
    }
    out.positions.insert(out.positions.end(), frame_positions.begin(), frame_positions.end());
    frame_points.clear();
    frame_positions.clear();
  };
  while (next_line(line)) {
    const std::vector<std::string_view> cells = split_csv(line);
    if (cells.size() != header.size()) {
      fail("expected " + std::to_string(header.size()) + " values (as the header names), got " +
           std::to_string(cells.size()));
    }
    const auto number = [&](std::size_t c) {
      double value = 0.0;
      const std::string_view cell = cells[c];
      const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
      if (error != std::errc() || end != cell.data() + cell.size() || cell.empty()) {
        fail("column '" + std::string(header[c]) + "': expected a number, got '" +
             std::string(cell) + "'");
      }
      if (!std::isfinite(value)) {
        fail("column '" + std::string(header[c]) + "': must be finite, got " +
             format_number(value));
      }
      return value;
    };
    const double time = number(time_column);
    const double index = number(point_column);
    if (!(index >= 0) || index != std::floor(index) || index > 1e9) {
      fail("column '" + std::string(index_column) + "': expected an index >= 0, got '" +
           std::string(cells[point_column]) + "'");
    }
    if (out.times.empty() || time != out.times.back()) {
      if (!out.times.empty()) {
        if (!(time > out.times.back())) {
          fail("time " + format_number(time) + " comes after time " +
               format_number(out.times.back()) + "; rows must be in time order");
        }
        close_frame();
      }
      out.times.push_back(time);
    }
    const auto point = static_cast<std::size_t>(index);
    if (std::find(frame_points.begin(), frame_points.end(), point) != frame_points.end()) {
      fail(std::string(index_column) + " " + std::to_string(point) + " appears twice at time " +
           format_number(time));
    }
    frame_points.push_back(point);
    frame_line = line_number;
    frame_positions.push_back(number(x_column));
    frame_positions.push_back(number(y_column));
  }
  if (out.times.empty()) {
    throw ParseError(source + ": no rows after the header; expected one row per time and " +
                     std::string(index_column));
  }
  close_frame();
  return out;
}

Observations load_observations(const std::filesystem::path& file,
                               const std::optional<std::filesystem::path>& times_file, double dt,
                               std::string_view index_column) {
  const std::string name = file.string();
  if (file.extension() == ".csv") {
    if (times_file) {
      throw ParseError(name + ": a CSV file carries its own time stamps (column 'time'); 'times' " +
                       "is for .npy positions");
    }
    return parse_observations_csv(read_file(file), name, index_column);
  }
  NpyArray array;
  try {
    array = parse_npy(read_file(file));
  } catch (const ParseError& error) {
    throw ParseError(name + ": " + error.what());
  }
  if (array.shape.size() != 3 || array.shape[2] != 2 || array.shape[0] == 0) {
    std::string shape = "(";
    for (std::size_t i = 0; i < array.shape.size(); ++i) {
      shape += (i > 0 ? ", " : "") + std::to_string(array.shape[i]);
    }
    throw ParseError(name + ": observed positions have shape " + shape +
                     "), expected (frames, points, 2) with at least one frame");
  }
  Observations out;
  out.num_points = array.shape[1];
  out.positions = std::move(array.values);
  for (std::size_t k = 0; k < out.positions.size(); ++k) {
    if (!std::isfinite(out.positions[k])) {
      throw ParseError(name + ": observed position of " + std::string(index_column) + " " +
                       std::to_string((k / 2) % out.num_points) + " at frame " +
                       std::to_string(k / (2 * out.num_points)) + " is " +
                       format_number(out.positions[k]) + "; observations must be finite");
    }
  }
  if (times_file) {
    const std::string times_name = times_file->string();
    NpyArray times;
    try {
      times = parse_npy(read_file(*times_file));
    } catch (const ParseError& error) {
      throw ParseError(times_name + ": " + error.what());
    }
    if (times.shape.size() != 1 || times.shape[0] != array.shape[0]) {
      throw ParseError(times_name + ": expected " + std::to_string(array.shape[0]) +
                       " time stamps (one per frame of " + name + "), got shape with " +
                       std::to_string(times.values.size()) + " values");
    }
    out.times = std::move(times.values);
    check_times(out.times, times_name);
  } else {
    for (std::size_t k = 0; k < array.shape[0]; ++k) {
      out.times.push_back(dt * static_cast<double>(k));
    }
  }
  return out;
}

}  // namespace maya::io
