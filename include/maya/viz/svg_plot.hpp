// Line plots as standalone SVG: loss curves (optionally log-scale) and 2-D trajectories with
// before/after overlays, targets and the ground. Axes get "nice" ticks (1, 2, 5 x 10^k), a light
// grid, labels and a legend; trajectories keep an equal aspect ratio so circles look round.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "maya/io/trajectory.hpp"

namespace maya::viz {

struct PlotSeries {
  std::string label;  // legend entry; series with an empty label are not listed
  std::vector<double> x;
  std::vector<double> y;
  std::string color;  // any CSS colour; empty picks the next colour of the palette
  double width = 2.0;
  bool dashed = false;
  double opacity = 1.0;
  bool endpoints = false;  // a hollow dot at the first point, a filled one at the last
};

// A point of interest (a target), drawn as a cross with an optional label.
struct PlotMarker {
  double x = 0.0;
  double y = 0.0;
  std::string label;
  std::string color = "#d62728";
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;              // decades on y; points with y <= 0 are left out
  bool equal_aspect = false;       // one unit of x as long as one unit of y
  std::optional<double> ground_y;  // a hatched ground line at this height
  int width = 760;
  int height = 480;
};

// Throws maya::ShapeError for a series whose x and y differ in length.
[[nodiscard]] std::string svg_line_plot(std::span<const PlotSeries> series,
                                        std::span<const PlotMarker> markers,
                                        const PlotOptions& options);

// The loss per iteration (iteration 0 = the initial parameters).
[[nodiscard]] std::string svg_loss_curve(std::span<const double> loss, const std::string& title,
                                         bool log_scale = true);

// One layer of a trajectory plot: every particle's path in one style.
struct TrajectoryLayer {
  std::string label;
  const io::Trajectory* trajectory = nullptr;
  std::string color;
  bool dashed = false;
  double opacity = 1.0;
};

// x-y paths of every particle of each layer (before/after/observed overlays), with markers.
[[nodiscard]] std::string svg_trajectory_plot(std::span<const TrajectoryLayer> layers,
                                              std::span<const PlotMarker> markers,
                                              const PlotOptions& options);

// Tick positions for [low, high]: about `target_count` multiples of 1, 2 or 5 x 10^k.
[[nodiscard]] std::vector<double> nice_ticks(double low, double high, int target_count = 6);

}  // namespace maya::viz
