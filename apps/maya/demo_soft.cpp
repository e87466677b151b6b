// maya demo soft: system identification of an elastic material. A soft block (linear triangles,
// stable neo-Hookean, plane strain) is dropped tilted onto the ground, bounces and rocks; its
// Young's modulus and Poisson's ratio are recovered from the observed vertex positions by L-BFGS
// through 0.3 s of semi-implicit Euler steps with penalty ground contact.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "maya/maya.hpp"
#include "physics_demos.hpp"

namespace maya::cli {
namespace {

constexpr double kWidth = 0.2;
constexpr double kHeight = 0.1;
constexpr double kDensity = 1000.0;  // kg/m^3
constexpr double kTrueYoungs = 5e4;  // Pa
constexpr double kTruePoisson = 0.3;
constexpr double kGuessYoungs = 2e4;
constexpr double kGuessPoisson = 0.2;
constexpr double kDt = 5e-4;
constexpr std::size_t kSteps = 600;
constexpr std::size_t kEvery = 10;        // frames compared by the loss
constexpr double kTruthTolerance = 1e-4;  // relative error of the recovered parameters
constexpr double kLossScale = 1e4;        // m^2 -> cm^2

fem::SoftBody make_block() {
  fem::SoftBodyOptions options;
  options.ground = {.enabled = true,
                    .height = 0.0,
                    .up_axis = 1,
                    .stiffness = 2e4,
                    .damping = 200.0,
                    .friction = 0.3,
                    .slip_velocity = 0.05};
  return fem::SoftBody(fem::rectangle_mesh({.width = kWidth,
                                            .height = kHeight,
                                            .cells_x = 4,
                                            .cells_y = 2,
                                            .origin_x = -kWidth / 2,
                                            .origin_y = -kHeight / 2}),
                       options);
}

// The block at rest, tilted by 0.4 rad with its lowest corner 5 cm up, moving right and down.
Tensor drop_state(const fem::SoftBody& body) {
  const Tensor& rest = body.mesh().rest_positions();
  const double angle = 0.4;
  const double c = std::cos(angle);
  const double s = std::sin(angle);
  std::vector<double> positions;
  std::vector<double> velocities;
  double lowest = 1e300;
  for (std::size_t i = 0; i < body.num_vertices(); ++i) {
    const double x = rest.data()[2 * i];
    const double y = rest.data()[2 * i + 1];
    positions.push_back(c * x - s * y);
    positions.push_back(s * x + c * y);
    lowest = std::min(lowest, positions.back());
    velocities.push_back(0.4);
    velocities.push_back(-0.5);
  }
  for (std::size_t i = 1; i < positions.size(); i += 2) {
    positions[i] += 0.05 - lowest;
  }
  const Shape shape{body.num_vertices(), 2};
  return fem::SoftBody::make_state(Tensor::from_data(std::move(positions), shape),
                                   Tensor::from_data(std::move(velocities), shape));
}

struct Drop {
  fem::SoftBody body = make_block();
  Tensor start = drop_state(body);

  // The positions [F, N, 2] of every kEvery-th frame for E and nu ([1] each); every frame is
  // appended to `record` when given.
  TensorVar run(TensorTape& tape, TensorVar youngs, TensorVar poisson,
                io::Trajectory* record) const {
    const fem::BodyParameters params =
        body.parameters(tape.constant(body.mesh().rest_positions()), youngs, poisson,
                        tape.constant(Tensor::from_data({kDensity}, {1})));
    TensorVar state = tape.constant(start);
    std::vector<TensorVar> frames;
    for (std::size_t t = 0;; ++t) {
      if (record != nullptr) {
        const auto values = state.view().data();
        const std::size_t half = values.size() / 2;
        record->times.push_back(kDt * static_cast<double>(t));
        record->positions.insert(record->positions.end(), values.begin(),
                                 values.begin() + static_cast<long>(half));
        record->velocities.insert(record->velocities.end(),
                                  values.begin() + static_cast<long>(half), values.end());
      }
      if (t % kEvery == 0) {
        frames.push_back(dynamics::positions_of(state));
      }
      if (t == kSteps) {
        break;
      }
      state = body.step_explicit(state, params, kDt);
    }
    return stack(frames, 0);
  }

  io::Trajectory trajectory(double youngs, double poisson) const {
    io::Trajectory record;
    record.num_particles = body.num_vertices();
    TensorTape tape;
    static_cast<void>(run(tape, tape.constant(Tensor::from_data({youngs}, {1})),
                          tape.constant(Tensor::from_data({poisson}, {1})), &record));
    return record;
  }
};

// Height of the centre of the vertices over time, for the plot.
viz::PlotSeries centre_height(const io::Trajectory& trajectory, std::string label,
                              std::string color, bool dashed) {
  viz::PlotSeries series;
  series.label = std::move(label);
  series.color = std::move(color);
  series.dashed = dashed;
  for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
    double height = 0.0;
    for (std::size_t i = 0; i < trajectory.num_particles; ++i) {
      height += trajectory.position(frame, i, 1);
    }
    series.x.push_back(trajectory.times[frame]);
    series.y.push_back(height / static_cast<double>(trajectory.num_particles));
  }
  return series;
}

// Every edge of the mesh once, as a spring of the viewer (tinted by its strain).
std::vector<viz::ViewerSpring> mesh_edges(const fem::Mesh& mesh) {
  std::set<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    const auto element = mesh.element(e);
    for (std::size_t k = 0; k < element.size(); ++k) {
      const auto a = static_cast<std::size_t>(element[k]);
      const auto b = static_cast<std::size_t>(element[(k + 1) % element.size()]);
      edges.insert({std::min(a, b), std::max(a, b)});
    }
  }
  const auto rest = mesh.rest_positions().data();
  std::vector<viz::ViewerSpring> springs;
  for (const auto& [a, b] : edges) {
    springs.push_back(
        {a, b, std::hypot(rest[2 * b] - rest[2 * a], rest[2 * b + 1] - rest[2 * a + 1])});
  }
  return springs;
}

}  // namespace

bool soft_demo(const DemoContext& context) {
  const Drop drop;
  std::printf(
      "\n== soft block drop: recover Young's modulus and Poisson's ratio of a %gx%g m "
      "block (%zu triangles) from its observed bounce\n",
      kWidth, kHeight, drop.body.num_elements());
  Tensor observed;
  {
    TensorTape tape;
    observed = drop.run(tape, tape.constant(Tensor::from_data({kTrueYoungs}, {1})),
                        tape.constant(Tensor::from_data({kTruePoisson}, {1})), nullptr)
                   .value();
  }
  const auto loss = [&](TensorTape& tape, std::span<const TensorVar> p) {
    const TensorVar predicted = drop.run(tape, p[0], p[1], nullptr);
    return mean(square(predicted - tape.constant(observed))) * kLossScale;
  };
  optim::ParameterSet parameters;
  parameters.add("youngs_modulus", Tensor::from_data({kGuessYoungs}, {1}), optim::Positive::exp());
  parameters.add("poisson_ratio", Tensor::from_data({kGuessPoisson}, {1}),
                 optim::Bounds::between(0.0, 0.45));
  const optim::Result result = minimize_with_progress(
      parameters, loss, {.max_iterations = 40, .tolerance = 1e-12}, "soft_drop", context.quiet);
  const double youngs = parameters.value(0).item();
  const double poisson = parameters.value(1).item();

  print_loss_line(result);
  const double youngs_error =
      print_parameter("Young's modulus", kGuessYoungs, youngs, kTrueYoungs, "Pa");
  const double poisson_error =
      print_parameter("Poisson's ratio", kGuessPoisson, poisson, kTruePoisson);
  const bool ok = youngs_error <= kTruthTolerance && poisson_error <= kTruthTolerance &&
                  std::isfinite(result.loss);
  if (ok) {
    std::printf("  ok\n");
  } else {
    std::printf("  FAILED: a recovered parameter is off by more than %.0e\n", kTruthTolerance);
  }

  if (context.out) {
    const std::string title = "soft block drop: fit Young's modulus and Poisson's ratio";
    const io::Trajectory truth = drop.trajectory(kTrueYoungs, kTruePoisson);
    const io::Trajectory before = drop.trajectory(kGuessYoungs, kGuessPoisson);
    const io::Trajectory after = drop.trajectory(youngs, poisson);
    const viz::PlotSeries series[] = {centre_height(truth, "observed", "#222222", true),
                                      centre_height(before, "before", "#9aa3ad", true),
                                      centre_height(after, "after", "#e15759", false)};
    viz::PlotOptions plot;
    plot.title = "height of the block's centre";
    plot.x_label = "time (s)";
    plot.y_label = "height (m)";
    plot.ground_y = 0.0;
    viz::ViewerScene viewer;
    viewer.title = title;
    viewer.trajectory = after;
    viewer.particle_radius.assign(after.num_particles, 0.004);
    viewer.springs = mesh_edges(drop.body.mesh());
    viewer.ground_height = 0.0;
    viewer.ghost_label = "observed";
    viewer.ghost = truth;
    nlohmann::ordered_json json;
    json["task"] = title;
    json["parameters"] = {{{"name", "youngs_modulus"},
                           {"initial", kGuessYoungs},
                           {"fitted", youngs},
                           {"true", kTrueYoungs}},
                          {{"name", "poisson_ratio"},
                           {"initial", kGuessPoisson},
                           {"fitted", poisson},
                           {"true", kTruePoisson}}};
    json["loss"] = {{"initial", result.loss_history.front()}, {"final", result.loss}};
    json["converged"] = ok;
    write_demo_files(
        {"soft_drop", title, json.dump(2) + "\n", result.loss_history,
         viz::svg_line_plot(series, {}, plot), &truth, &before, &after, std::move(viewer)},
        *context.out);
  }
  return ok;
}

}  // namespace maya::cli
