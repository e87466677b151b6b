// SVG rendering of line plots. Data space maps to a plot rectangle inside margins that hold the
// title, tick labels and axis labels; everything is plain SVG 1.1 that any browser draws.
#include "maya/viz/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maya/core/error.hpp"
#include "viz/page_text.hpp"

namespace maya::viz {

using io::Trajectory;
namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                    "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
constexpr const char* kFont =
    "system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, sans-serif";

std::string fixed(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", value);
  return buffer;
}

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double value) {
    if (std::isfinite(value)) {
      low = std::min(low, value);
      high = std::max(high, value);
    }
  }
  [[nodiscard]] bool empty() const { return !(low <= high); }
  [[nodiscard]] double span() const { return high - low; }
};

// Widens a degenerate or empty range and pads it by `fraction` of its span on each side.
Range padded(Range range, double fraction) {
  if (range.empty()) {
    return {0.0, 1.0};
  }
  if (range.span() <= 1e-12 * std::max(1.0, std::abs(range.high))) {
    const double half = std::max(0.5, 0.1 * std::abs(range.high));
    return {range.low - half, range.high + half};
  }
  const double pad = fraction * range.span();
  return {range.low - pad, range.high + pad};
}

std::string tick_label(double value, double step) {
  if (std::abs(value) < 1e-9 * step) {
    return "0";
  }
  const double magnitude = std::max(std::abs(value), step);
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.2g", value);
    return buffer;
  }
  // Enough decimals to tell neighbouring ticks apart.
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

class Canvas {
 public:
  Canvas(const PlotOptions& options, Range x, Range y) : options_(options), x_(x), y_(y) {
    left_ = 78.0;
    right_ = options.width - 24.0;
    top_ = options.title.empty() ? 24.0 : 52.0;
    bottom_ = options.height - (options.x_label.empty() ? 40.0 : 60.0);
    if (options.equal_aspect) {
      // Grow whichever data range is short so one unit spans the same pixels on both axes.
      const double pixels_per_x = (right_ - left_) / x_.span();
      const double pixels_per_y = (bottom_ - top_) / y_.span();
      if (pixels_per_x > pixels_per_y) {
        const double grow = (right_ - left_) / pixels_per_y - x_.span();
        x_ = {x_.low - grow / 2, x_.high + grow / 2};
      } else {
        const double grow = (bottom_ - top_) / pixels_per_x - y_.span();
        y_ = {y_.low - grow / 2, y_.high + grow / 2};
      }
    }
  }

  [[nodiscard]] double px(double x) const {
    return left_ + (x - x_.low) / x_.span() * (right_ - left_);
  }
  [[nodiscard]] double py(double y) const {
    const double value = options_.log_y ? std::log10(y) : y;
    return bottom_ - (value - y_.low) / y_.span() * (bottom_ - top_);
  }
  [[nodiscard]] bool inside_y(double y) const { return !options_.log_y || y > 0; }

  std::string begin() const {
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                      std::to_string(options_.width) + "\" height=\"" +
                      std::to_string(options_.height) + "\" viewBox=\"0 0 " +
                      std::to_string(options_.width) + " " + std::to_string(options_.height) +
                      "\" font-family=\"" + std::string(kFont) + "\" font-size=\"12\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    svg += "<defs><clipPath id=\"plot-area\"><rect x=\"" + fixed(left_) + "\" y=\"" + fixed(top_) +
           "\" width=\"" + fixed(right_ - left_) + "\" height=\"" + fixed(bottom_ - top_) +
           "\"/></clipPath>";
    svg +=
        "<pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
        "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" "
        "stroke=\"#9a8f80\" stroke-width=\"2\"/></pattern></defs>\n";
    svg += "<rect x=\"" + fixed(left_) + "\" y=\"" + fixed(top_) + "\" width=\"" +
           fixed(right_ - left_) + "\" height=\"" + fixed(bottom_ - top_) +
           "\" fill=\"#fbfbfd\"/>\n";
    return svg;
  }

  std::string axes() const {
    std::string svg = "<g class=\"grid\" stroke=\"#e3e5ea\" stroke-width=\"1\">\n";
    std::string labels = "<g class=\"ticks\" fill=\"#555\">\n";
    const std::vector<double> x_ticks = nice_ticks(x_.low, x_.high, 7);
    const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1.0;
    for (const double tick : x_ticks) {
      const std::string x = fixed(px(tick));
      svg += "<line x1=\"" + x + "\" y1=\"" + fixed(top_) + "\" x2=\"" + x + "\" y2=\"" +
             fixed(bottom_) + "\"/>\n";
      labels += "<line x1=\"" + x + "\" y1=\"" + fixed(bottom_) + "\" x2=\"" + x + "\" y2=\"" +
                fixed(bottom_ + 5) + "\" stroke=\"#555\"/>";
      labels += "<text x=\"" + x + "\" y=\"" + fixed(bottom_ + 19) + "\" text-anchor=\"middle\">" +
                tick_label(tick, x_step) + "</text>\n";
    }
    if (options_.log_y) {
      const int first = static_cast<int>(std::ceil(y_.low - 1e-9));
      const int last = static_cast<int>(std::floor(y_.high + 1e-9));
      const int stride = std::max(1, (last - first + 1 + 7) / 8);
      for (int decade = first; decade <= last; ++decade) {
        // Minor grid lines at 2..9 x 10^k when the decades are few enough to show them.
        if (stride == 1 && last - first < 6) {
          for (int minor = 2; minor <= 9; ++minor) {
            const double value = std::log10(minor) + decade;
            if (value < y_.high) {
              const std::string y =
                  fixed(bottom_ - (value - y_.low) / y_.span() * (bottom_ - top_));
              svg += "<line x1=\"" + fixed(left_) + "\" y1=\"" + y + "\" x2=\"" + fixed(right_) +
                     "\" y2=\"" + y + "\" stroke=\"#f0f1f4\"/>\n";
            }
          }
        }
        if ((decade - first) % stride != 0) {
          continue;
        }
        const std::string y = fixed(bottom_ - (decade - y_.low) / y_.span() * (bottom_ - top_));
        svg += "<line x1=\"" + fixed(left_) + "\" y1=\"" + y + "\" x2=\"" + fixed(right_) +
               "\" y2=\"" + y + "\"/>\n";
        labels += "<line x1=\"" + fixed(left_ - 5) + "\" y1=\"" + y + "\" x2=\"" + fixed(left_) +
                  "\" y2=\"" + y + "\" stroke=\"#555\"/>";
        labels += "<text x=\"" + fixed(left_ - 9) + "\" y=\"" + y +
                  "\" text-anchor=\"end\" dominant-baseline=\"middle\">10<tspan dy=\"-6\" "
                  "font-size=\"9\">" +
                  std::to_string(decade) + "</tspan></text>\n";
      }
    } else {
      const std::vector<double> y_ticks = nice_ticks(y_.low, y_.high, 6);
      const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1.0;
      for (const double tick : y_ticks) {
        const std::string y = fixed(py(tick));
        svg += "<line x1=\"" + fixed(left_) + "\" y1=\"" + y + "\" x2=\"" + fixed(right_) +
               "\" y2=\"" + y + "\"/>\n";
        labels += "<line x1=\"" + fixed(left_ - 5) + "\" y1=\"" + y + "\" x2=\"" + fixed(left_) +
                  "\" y2=\"" + y + "\" stroke=\"#555\"/>";
        labels += "<text x=\"" + fixed(left_ - 9) + "\" y=\"" + y +
                  "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
                  tick_label(tick, y_step) + "</text>\n";
      }
    }
    svg += "</g>\n" + labels + "</g>\n";
    svg += "<rect x=\"" + fixed(left_) + "\" y=\"" + fixed(top_) + "\" width=\"" +
           fixed(right_ - left_) + "\" height=\"" + fixed(bottom_ - top_) +
           "\" fill=\"none\" stroke=\"#8a8f98\" stroke-width=\"1\"/>\n";
    if (!options_.title.empty()) {
      svg += "<text x=\"" + fixed((left_ + right_) / 2) +
             "\" y=\"30\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\" "
             "fill=\"#222\">" +
             detail::html_escape(options_.title) + "</text>\n";
    }
    if (!options_.x_label.empty()) {
      svg += "<text x=\"" + fixed((left_ + right_) / 2) + "\" y=\"" + fixed(bottom_ + 42) +
             "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333\">" +
             detail::html_escape(options_.x_label) + "</text>\n";
    }
    if (!options_.y_label.empty()) {
      const std::string y = fixed((top_ + bottom_) / 2);
      svg += "<text x=\"20\" y=\"" + y + "\" transform=\"rotate(-90 20 " + y +
             ")\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333\">" +
             detail::html_escape(options_.y_label) + "</text>\n";
    }
    return svg;
  }

  std::string ground(double height) const {
    if (options_.log_y || height < y_.low || height > y_.high) {
      return {};
    }
    const double y = py(height);
    return "<g clip-path=\"url(#plot-area)\"><rect x=\"" + fixed(left_) + "\" y=\"" + fixed(y) +
           "\" width=\"" + fixed(right_ - left_) + "\" height=\"" + fixed(bottom_ - y) +
           "\" fill=\"url(#hatch)\" opacity=\"0.35\"/><line x1=\"" + fixed(left_) + "\" y1=\"" +
           fixed(y) + "\" x2=\"" + fixed(right_) + "\" y2=\"" + fixed(y) +
           "\" stroke=\"#6b6257\" stroke-width=\"2\"/></g>\n";
  }

  std::string legend(std::span<const PlotSeries> series, std::span<const std::string> colors,
                     std::span<const PlotMarker> markers) const {
    std::vector<std::size_t> entries;
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (!series[i].label.empty()) {
        entries.push_back(i);
      }
    }
    const bool target_entry = std::any_of(markers.begin(), markers.end(),
                                          [](const PlotMarker& m) { return m.label.empty(); }) &&
                              !markers.empty();
    const std::size_t rows = entries.size() + (target_entry ? 1 : 0);
    if (rows == 0) {
      return {};
    }
    std::size_t longest = 6;
    for (const std::size_t i : entries) {
      longest = std::max(longest, series[i].label.size());
    }
    const double width = 44.0 + 7.0 * static_cast<double>(longest);
    const double height = 10.0 + 18.0 * static_cast<double>(rows);
    const double x0 = right_ - width - 10;
    const double y0 = top_ + 10;
    std::string svg = "<g class=\"legend\"><rect x=\"" + fixed(x0) + "\" y=\"" + fixed(y0) +
                      "\" width=\"" + fixed(width) + "\" height=\"" + fixed(height) +
                      "\" rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#d0d3d9\"/>\n";
    double y = y0 + 18;
    for (const std::size_t i : entries) {
      svg += "<line x1=\"" + fixed(x0 + 8) + "\" y1=\"" + fixed(y - 4) + "\" x2=\"" +
             fixed(x0 + 32) + "\" y2=\"" + fixed(y - 4) + "\" stroke=\"" + colors[i] +
             "\" stroke-width=\"" + fixed(std::max(2.0, series[i].width)) + "\"" +
             (series[i].dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>";
      svg += "<text x=\"" + fixed(x0 + 38) + "\" y=\"" + fixed(y) + "\" fill=\"#222\">" +
             detail::html_escape(series[i].label) + "</text>\n";
      y += 18;
    }
    if (target_entry) {
      svg += cross(x0 + 20, y - 4, markers.front().color);
      svg +=
          "<text x=\"" + fixed(x0 + 38) + "\" y=\"" + fixed(y) + "\" fill=\"#222\">target</text>\n";
    }
    return svg + "</g>\n";
  }

  static std::string cross(double x, double y, const std::string& color) {
    const double r = 6;
    return "<path d=\"M" + fixed(x - r) + " " + fixed(y - r) + "L" + fixed(x + r) + " " +
           fixed(y + r) + "M" + fixed(x - r) + " " + fixed(y + r) + "L" + fixed(x + r) + " " +
           fixed(y - r) + "\" stroke=\"" + color +
           "\" stroke-width=\"2.5\" stroke-linecap=\"round\"/>";
  }

  [[nodiscard]] double left() const { return left_; }

 private:
  const PlotOptions& options_;
  Range x_;
  Range y_;
  double left_, right_, top_, bottom_;
};

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target_count) {
  if (!(high > low) || !std::isfinite(low) || !std::isfinite(high)) {
    return {low};
  }
  const double rough = (high - low) / std::max(1, target_count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double fraction = rough / magnitude;
  const double digit = fraction < 1.5 ? 1.0 : fraction < 3.5 ? 2.0 : fraction < 7.5 ? 5.0 : 10.0;
  const double step = digit * magnitude;
  // k digit / 10^-e rather than k step: 3 x 0.2 is 0.6000000000000001, 6 / 10 is 0.6.
  const double inverse = magnitude < 1 ? std::round(1.0 / magnitude) : 0.0;
  std::vector<double> ticks;
  for (double k = std::ceil(low / step - 1e-9); k * step <= high + 1e-9 * step; k += 1.0) {
    const double tick = inverse > 0 ? k * digit / inverse : k * step;
    ticks.push_back(tick == 0.0 ? 0.0 : tick);
  }
  return ticks;
}

std::string svg_line_plot(std::span<const PlotSeries> series, std::span<const PlotMarker> markers,
                          const PlotOptions& options) {
  Range x_range;
  Range y_range;
  for (const PlotSeries& s : series) {
    if (s.x.size() != s.y.size()) {
      throw ShapeError("svg_line_plot: series '" + s.label + "' has " + std::to_string(s.x.size()) +
                       " x values and " + std::to_string(s.y.size()) + " y values");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (options.log_y && !(s.y[i] > 0)) {
        continue;
      }
      x_range.add(s.x[i]);
      y_range.add(options.log_y ? std::log10(s.y[i]) : s.y[i]);
    }
  }
  for (const PlotMarker& marker : markers) {
    x_range.add(marker.x);
    if (!options.log_y || marker.y > 0) {
      y_range.add(options.log_y ? std::log10(marker.y) : marker.y);
    }
  }
  if (options.ground_y && !options.log_y && !y_range.empty()) {
    y_range.add(*options.ground_y);
  }
  const Range x = padded(x_range, options.equal_aspect ? 0.06 : 0.02);
  Range y = padded(y_range, 0.06);
  if (options.log_y) {
    // Whole decades at both ends read best on a log axis.
    y = {std::floor(y.low), std::ceil(y.high)};
    if (y.high - y.low < 1) {
      y.high = y.low + 1;
    }
  }
  const Canvas canvas(options, x, y);
  std::string svg = canvas.begin();
  svg += canvas.axes();
  if (options.ground_y) {
    svg += canvas.ground(*options.ground_y);
  }
  std::vector<std::string> colors;
  std::size_t next_color = 0;
  for (const PlotSeries& s : series) {
    colors.push_back(!s.color.empty() ? s.color : kPalette[next_color++ % std::size(kPalette)]);
  }
  svg +=
      "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-linejoin=\"round\" "
      "stroke-linecap=\"round\">\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    std::string path;
    bool pen_down = false;
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k]) || !canvas.inside_y(s.y[k])) {
        pen_down = false;
        continue;
      }
      path += (pen_down ? "L" : "M") + fixed(canvas.px(s.x[k])) + " " + fixed(canvas.py(s.y[k]));
      pen_down = true;
    }
    if (path.empty()) {
      continue;
    }
    svg += "<path d=\"" + path + "\" stroke=\"" + colors[i] + "\" stroke-width=\"" +
           fixed(s.width) + "\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") +
           (s.opacity < 1 ? " stroke-opacity=\"" + fixed(s.opacity) + "\"" : "") + "/>\n";
    if (s.endpoints && !s.x.empty()) {
      svg += "<circle cx=\"" + fixed(canvas.px(s.x.front())) + "\" cy=\"" +
             fixed(canvas.py(s.y.front())) + "\" r=\"3.5\" fill=\"#ffffff\" stroke=\"" + colors[i] +
             "\" stroke-width=\"1.5\"/>";
      svg += "<circle cx=\"" + fixed(canvas.px(s.x.back())) + "\" cy=\"" +
             fixed(canvas.py(s.y.back())) + "\" r=\"4\" fill=\"" + colors[i] + "\"" +
             (s.opacity < 1 ? " fill-opacity=\"" + fixed(s.opacity) + "\"" : "") + "/>\n";
    }
  }
  svg += "</g>\n";
  for (const PlotMarker& marker : markers) {
    if (!canvas.inside_y(marker.y)) {
      continue;
    }
    svg += Canvas::cross(canvas.px(marker.x), canvas.py(marker.y), marker.color);
    if (!marker.label.empty()) {
      svg += "<text x=\"" + fixed(canvas.px(marker.x) + 9) + "\" y=\"" +
             fixed(canvas.py(marker.y) - 9) + "\" fill=\"" + marker.color + "\">" +
             detail::html_escape(marker.label) + "</text>";
    }
    svg += "\n";
  }
  svg += canvas.legend(series, colors, markers);
  return svg + "</svg>\n";
}

std::string svg_loss_curve(std::span<const double> loss, const std::string& title, bool log_scale) {
  PlotSeries series;
  series.label = "";
  series.color = "#4e79a7";
  series.width = 2.2;
  for (std::size_t i = 0; i < loss.size(); ++i) {
    series.x.push_back(static_cast<double>(i));
    series.y.push_back(loss[i]);
  }
  const bool any_positive = std::any_of(loss.begin(), loss.end(), [](double v) { return v > 0; });
  PlotOptions options;
  options.title = title;
  options.x_label = "iteration";
  options.y_label = log_scale && any_positive ? "loss (log scale)" : "loss";
  options.log_y = log_scale && any_positive;
  return svg_line_plot(std::span<const PlotSeries>(&series, 1), {}, options);
}

std::string svg_trajectory_plot(std::span<const TrajectoryLayer> layers,
                                std::span<const PlotMarker> markers, const PlotOptions& options) {
  std::vector<PlotSeries> series;
  std::size_t next_color = 0;
  for (const TrajectoryLayer& layer : layers) {
    if (layer.trajectory == nullptr) {
      continue;
    }
    const Trajectory& trajectory = *layer.trajectory;
    trajectory.check();
    const std::string color =
        !layer.color.empty() ? layer.color : kPalette[next_color++ % std::size(kPalette)];
    for (std::size_t particle = 0; particle < trajectory.num_particles; ++particle) {
      PlotSeries path;
      path.label = particle == 0 ? layer.label : "";
      path.color = color;
      path.dashed = layer.dashed;
      path.opacity = layer.opacity;
      path.width = 1.8;
      path.endpoints = true;
      for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
        path.x.push_back(trajectory.position(frame, particle, 0));
        path.y.push_back(trajectory.dim > 1 ? trajectory.position(frame, particle, 1) : 0.0);
      }
      series.push_back(std::move(path));
    }
  }
  PlotOptions equal = options;
  equal.equal_aspect = true;
  equal.log_y = false;
  if (equal.x_label.empty()) {
    equal.x_label = "x";
  }
  if (equal.y_label.empty()) {
    equal.y_label = "y";
  }
  return svg_line_plot(series, markers, equal);
}

}  // namespace maya::viz
