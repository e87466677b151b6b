// maya demo walker: mass-spring robots learn to walk (the DiffTaichi mass_spring task). A batch of
// 2-D robots, each with its own controller network, is trained by Adam through 1000 steps (2 s)
// of the mass-spring step with ground contact and friction; the best must walk at least two body
// lengths. On a GPU 1024 robots train at once (one thread block each), on the CPU 16 (the tensor
// tape through the batched step); MAYA_WALKER_DEVICE=cpu or =cuda forces one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/io/output_files.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/tasks/walker.hpp"
#include "maya/viz/svg_plot.hpp"
#include "maya/viz/viewer.hpp"
#include "physics_demos.hpp"

namespace maya::cli {
namespace {

constexpr std::size_t kRobots = 16;       // the CPU batch
constexpr std::size_t kGpuRobots = 1024;  // the GPU batch
constexpr std::size_t kIterations = 100;
constexpr double kGoal = 2.0;  // body lengths in the walk's 2 s

// The learning curves: each robot's distance (body lengths) per iteration, the best in colour.
std::string learning_curves(const tasks::WalkerTraining& training, std::size_t best) {
  const auto& history = training.history();
  const double length = training.robot().body_length;
  std::vector<viz::PlotSeries> series;
  // At most kDrawn robots' curves (the best among them), and with more robots their mean.
  constexpr std::size_t kDrawn = 64;
  const std::size_t robots = training.options().robots;
  for (std::size_t e = 0; e < robots; ++e) {
    if (e >= kDrawn && e != best) continue;
    viz::PlotSeries curve;
    curve.color = e == best ? "#e15759" : "#9aa3ad";
    curve.width = e == best ? 2.5 : 1.0;
    curve.opacity = e == best ? 1.0 : 0.6;
    if (e == best) curve.label = "best robot (" + std::to_string(e) + ")";
    for (std::size_t k = 0; k < history.size(); ++k) {
      curve.x.push_back(static_cast<double>(k));
      curve.y.push_back(history[k][e] / length);
    }
    series.push_back(std::move(curve));
  }
  if (robots > kDrawn) {
    viz::PlotSeries mean;
    mean.label = "mean of all " + std::to_string(robots);
    mean.color = "#4e79a7";
    mean.width = 2.0;
    for (std::size_t k = 0; k < history.size(); ++k) {
      double sum = 0.0;
      for (const double d : history[k]) sum += d;
      mean.x.push_back(static_cast<double>(k));
      mean.y.push_back(sum / static_cast<double>(robots) / length);
    }
    series.push_back(std::move(mean));
  }
  const std::size_t best_curve = best < kDrawn ? best : std::min(robots, kDrawn);
  std::swap(series[best_curve], series.back());  // drawn last, on top
  series.push_back({"goal: 2 body lengths",
                    {0.0, static_cast<double>(history.size() - 1)},
                    {kGoal, kGoal},
                    "#222222",
                    1.5,
                    true});
  viz::PlotOptions plot;
  plot.title = "learning curves: " + std::to_string(training.options().robots) +
               " robots, distance walked in 2 s";
  plot.x_label = "training iteration";
  plot.y_label = "distance (body lengths)";
  return viz::svg_line_plot(series, {}, plot);
}

// The mean x of the robot's particles over time.
viz::PlotSeries centre_x(const io::Trajectory& trajectory, std::string label, std::string color,
                         bool dashed, double length) {
  viz::PlotSeries series;
  series.label = std::move(label);
  series.color = std::move(color);
  series.dashed = dashed;
  for (std::size_t f = 0; f < trajectory.num_frames(); ++f) {
    double x = 0.0;
    for (std::size_t i = 0; i < trajectory.num_particles; ++i) x += trajectory.position(f, i, 0);
    series.x.push_back(trajectory.times[f]);
    series.y.push_back(x / static_cast<double>(trajectory.num_particles) / length);
  }
  return series;
}

// The GPU where one answers, unless MAYA_WALKER_DEVICE says cpu or cuda.
Device walker_device() {
  const char* forced = std::getenv("MAYA_WALKER_DEVICE");
  const std::string name = forced != nullptr ? forced : "";
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") return Device::kCuda;
  if (!name.empty()) {
    throw ValueError("demo walker: MAYA_WALKER_DEVICE must be cpu or cuda, got '" + name + "'");
  }
  return tasks::walker_cuda_devices() > 0 ? Device::kCuda : Device::kCpu;
}

}  // namespace

bool walker_demo(const DemoContext& context) {
  tasks::WalkerOptions options;
  options.device = walker_device();
  options.robots = options.device == Device::kCuda ? kGpuRobots : kRobots;
  tasks::WalkerTraining training(options);
  const tasks::WalkerRobot& robot = training.robot();
  const double length = robot.body_length;
  std::printf(
      "\n== walker: %zu mass-spring robots (%zu particles, %zu springs, %zu muscles, body %g m) "
      "learn to walk on the %s; %zu steps of %g s, Adam through the whole rollout\n",
      options.robots, robot.model.num_particles(), robot.model.num_springs(), robot.actuated.size(),
      length, options.device == Device::kCuda ? "GPU" : "CPU", options.steps, options.dt);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < kIterations; ++k) {
    const std::vector<double> walked = training.iterate();
    if (!context.quiet && (k % 10 == 0 || k + 1 == kIterations)) {
      const double best = *std::max_element(walked.begin(), walked.end());
      double mean = 0.0;
      for (const double d : walked) mean += d / static_cast<double>(walked.size());
      std::printf("  iteration %3zu: best %5.2f, mean %5.2f body lengths\n", k, best / length,
                  mean / length);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<double>& walked = training.best_distances();
  const auto best =
      static_cast<std::size_t>(std::max_element(walked.begin(), walked.end()) - walked.begin());
  // The best robot walked again with the controller of its best iteration: the distance is
  // measured on this rollout, not taken from the training's record.
  const io::Trajectory after = training.record_best(best);
  const std::size_t last = after.num_frames() - 1;
  double distance = 0.0;
  for (std::size_t i = 0; i < after.num_particles; ++i) {
    distance += (after.position(last, i, 0) - after.position(0, i, 0)) /
                static_cast<double>(after.num_particles);
  }
  const double best_lengths = distance / length;
  std::printf("  trained in %.1f s (%zu iterations)\n", seconds, kIterations);
  std::printf(
      "  best robot %zu (its controller of iteration %zu) walks %.3f m = %.2f body lengths "
      "in %g s (goal %g)\n",
      best, training.best_iterations()[best], distance, best_lengths,
      options.dt * static_cast<double>(options.steps), kGoal);
  const bool ok = best_lengths >= kGoal;
  std::printf(ok ? "  ok\n" : "  FAILED: the best robot walked less than the goal\n");

  if (context.out) {
    tasks::WalkerTraining untrained(options);
    const io::Trajectory before = untrained.record(best);
    const viz::PlotSeries paths[] = {centre_x(before, "before training", "#9aa3ad", true, length),
                                     centre_x(after, "after training", "#e15759", false, length)};
    viz::PlotOptions plot;
    plot.title = "the best robot's centre";
    plot.x_label = "time (s)";
    plot.y_label = "x (body lengths)";
    viz::ViewerScene viewer;
    viewer.title = "walker: the best of " + std::to_string(options.robots) +
                   " robots, its controller of iteration " +
                   std::to_string(training.best_iterations()[best]) + " (faded: before training)";
    viewer.trajectory = after;
    viewer.particle_radius.assign(after.num_particles, 0.008);
    const auto rest = robot.rest_length.data();
    for (std::size_t s = 0; s < robot.model.num_springs(); ++s) {
      viewer.springs.push_back({static_cast<std::size_t>(robot.model.end_a()[s]),
                                static_cast<std::size_t>(robot.model.end_b()[s]), rest[s]});
    }
    viewer.ground_height = 0.0;
    viewer.ghost_label = "before training";
    viewer.ghost = before;
    nlohmann::ordered_json json;
    json["task"] = "walker";
    json["robots"] = options.robots;
    json["device"] = std::string(to_string(options.device));
    json["iterations"] = kIterations;
    json["steps"] = options.steps;
    json["dt"] = options.dt;
    json["body_length"] = length;
    json["training_seconds"] = seconds;
    json["best_robot"] = best;
    json["best_iteration"] = training.best_iterations()[best];
    json["best_distance"] = distance;
    json["best_body_lengths"] = best_lengths;
    json["best_distances"] = walked;
    json["final_distances"] = training.distances();
    json["history"] = training.history();
    json["walks"] = ok;
    io::OutputFiles files(*context.out / "walker");
    files.add("walker.json", json.dump(2) + "\n");
    files.add("learning.svg", learning_curves(training, best));
    files.add("trajectories.svg", viz::svg_line_plot(paths, {}, plot));
    files.add("before.csv", io::trajectory_csv(before));
    files.add("after.csv", io::trajectory_csv(after));
    files.add("times.npy", io::times_npy(after));
    files.add("viewer.html", viz::viewer_html(viewer));
    files.commit();
    std::printf("  wrote %s/ (open viewer.html in a browser)\n",
                (*context.out / "walker").string().c_str());
  }
  return ok;
}

}  // namespace maya::cli
