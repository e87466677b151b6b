#include "maya/viz/svg_plot.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "maya/core/error.hpp"

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST(NiceTicks, AreRoundMultiplesCoveringTheRange) {
  EXPECT_EQ(maya::viz::nice_ticks(0.0, 1.0, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  const std::vector<double> ticks = maya::viz::nice_ticks(-3.7, 12.2, 6);
  EXPECT_EQ(ticks.front(), -2.0);
  EXPECT_EQ(ticks.back(), 12.0);
}

TEST(SvgLossCurve, LogScaleLabelsDecades) {
  std::vector<double> loss;
  for (int i = 0; i <= 50; ++i) {
    loss.push_back(std::pow(10.0, -i / 10.0));
  }
  const std::string svg = maya::viz::svg_loss_curve(loss, "fit", true);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(">-5</tspan>"), std::string::npos);
  EXPECT_NE(svg.find(">0</tspan>"), std::string::npos);
  EXPECT_NE(svg.find("loss (log scale)"), std::string::npos);
  EXPECT_NE(svg.find(">iteration</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<path d=\"M"), 1u);
}

TEST(SvgLossCurve, NonPositiveLossFallsBackToLinear) {
  const std::vector<double> loss = {0.0, 0.0};
  const std::string svg = maya::viz::svg_loss_curve(loss, "flat", true);
  EXPECT_EQ(svg.find("log scale"), std::string::npos);
}

TEST(SvgTrajectoryPlot, DrawsAPathPerParticleAndLayerWithLegendAndTarget) {
  maya::io::Trajectory before;
  before.times = {0, 1, 2};
  before.num_particles = 2;
  before.positions = {0, 0, 1, 0, 1, 1, 2, 1, 2, 0, 3, 0};
  maya::io::Trajectory after = before;
  for (double& value : after.positions) {
    value *= 1.5;
  }
  const maya::viz::TrajectoryLayer layers[] = {{"before", &before, "#999999", true, 0.8},
                                               {"after", &after, "", false, 1.0}};
  const maya::viz::PlotMarker target{3, 0, "goal"};
  maya::viz::PlotOptions options;
  options.title = "throw <test>";
  options.ground_y = 0.0;
  const std::string svg = maya::viz::svg_trajectory_plot(layers, std::span(&target, 1), options);
  EXPECT_EQ(count(svg, "<path d=\"M"), 2u * 2u + 1u);  // two layers of two particles, a cross
  EXPECT_NE(svg.find(">before</text>"), std::string::npos);
  EXPECT_NE(svg.find(">after</text>"), std::string::npos);
  EXPECT_NE(svg.find(">goal</text>"), std::string::npos);
  EXPECT_NE(svg.find("throw &lt;test&gt;"), std::string::npos);
  EXPECT_NE(svg.find("url(#hatch)"), std::string::npos);
}

TEST(SvgLinePlot, MismatchedSeriesThrowShapeError) {
  maya::viz::PlotSeries series;
  series.x = {1, 2};
  series.y = {1};
  EXPECT_THROW((void)maya::viz::svg_line_plot(std::span(&series, 1), {}, {}), maya::ShapeError);
}
