// Helpers shared by the rigid, contact and soft demos: progress, summary lines, output files.
#include "physics_demos.hpp"

#include <cmath>
#include <cstdio>
#include <utility>

#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/optim/lbfgs.hpp"
#include "progress.hpp"

namespace maya::cli {

optim::Result minimize_with_progress(optim::ParameterSet& parameters, LossFunction loss,
                                     const optim::MinimizeOptions& options,
                                     const std::string& label, bool quiet) {
  ProgressReporter reporter(label, options.max_iterations, quiet);
  optim::MinimizeOptions with_progress = options;
  with_progress.callback = [&](const optim::Progress& progress) { reporter.update(progress); };
  optim::Lbfgs lbfgs(parameters);
  optim::Result result = lbfgs.minimize(optim::tape_objective(std::move(loss)), with_progress);
  reporter.finish();
  return result;
}

void print_loss_line(const optim::Result& result) {
  std::printf("  loss %.3e -> %.3e in %zu iterations (%s)\n",
              result.loss_history.empty() ? result.loss : result.loss_history.front(), result.loss,
              result.iterations, std::string(optim::to_string(result.status)).c_str());
}

double print_parameter(const std::string& name, double initial, double fitted,
                       std::optional<double> truth, const char* unit) {
  std::printf("  %-18s %12.6g -> %12.6g %-6s", name.c_str(), initial, fitted, unit);
  double error = 0.0;
  if (truth) {
    error = std::abs(fitted - *truth) / std::abs(*truth);
    std::printf("   hidden truth %-10g relative error %.1e", *truth, error);
  }
  std::printf("\n");
  return error;
}

namespace {

void add_trajectory(io::OutputFiles& files, const std::string& stem,
                    const io::Trajectory& trajectory) {
  if (trajectory.num_bodies > 0) {
    files.add(stem + ".csv", io::body_trajectory_csv(trajectory));
    const std::size_t shape[] = {trajectory.num_frames(), trajectory.num_bodies, 3};
    files.add(stem + "_poses.npy", io::npy_bytes(trajectory.body_poses, shape));
  } else {
    files.add(stem + ".csv", io::trajectory_csv(trajectory));
    files.add(stem + "_positions.npy", io::positions_npy(trajectory));
  }
}

}  // namespace

void write_demo_files(const DemoFiles& demo, const std::filesystem::path& out) {
  const std::filesystem::path directory = out / demo.task;
  io::OutputFiles files(directory);
  files.add("fitted.json", demo.fitted_json);
  files.add("loss.svg", viz::svg_loss_curve(demo.loss_history, "loss: " + demo.title, true));
  files.add("trajectories.svg", demo.trajectories_svg);
  if (demo.observed != nullptr) {
    add_trajectory(files, "observed", *demo.observed);
  }
  add_trajectory(files, "before", *demo.before);
  add_trajectory(files, "after", *demo.after);
  files.add("times.npy", io::times_npy(*demo.after));
  files.add("viewer.html", viz::viewer_html(demo.viewer));
  files.commit();
  std::printf("  wrote %s/ (open viewer.html in a browser)\n", directory.string().c_str());
}

io::Trajectory body_centres(const io::Trajectory& trajectory) {
  io::Trajectory centres;
  centres.times = trajectory.times;
  centres.num_particles = trajectory.num_bodies;
  for (std::size_t k = 0; k < trajectory.body_poses.size(); k += 3) {
    centres.positions.push_back(trajectory.body_poses[k]);
    centres.positions.push_back(trajectory.body_poses[k + 1]);
  }
  return centres;
}

std::vector<std::array<double, 2>> centre_path(const io::Trajectory& trajectory, std::size_t body) {
  std::vector<std::array<double, 2>> points;
  for (std::size_t frame = 0; frame < trajectory.num_frames(); ++frame) {
    const std::size_t at = (frame * trajectory.num_bodies + body) * 3;
    points.push_back({trajectory.body_poses[at], trajectory.body_poses[at + 1]});
  }
  return points;
}

}  // namespace maya::cli
