// maya optimize TASK.json -o DIR: fit the task's free parameters, then write what was found and
// how (fitted values, loss curve, trajectories before and after, a viewer).
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "maya/io/robot_task_file.hpp"
#include "maya/io/task_file.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/viz/scene_view.hpp"
#include "maya/viz/svg_plot.hpp"
#include "physics_demos.hpp"
#include "progress.hpp"
#include "run_checks.hpp"

namespace maya::cli {
namespace {

void print_parameters(const tasks::Task& task, const FitRun& run) {
  const std::vector<std::vector<double>> truth = task.true_values();
  const bool errors = run.uncertainty.available;
  std::printf("  %-20s %14s %14s%s%s\n", "parameter", "initial", "fitted",
              errors ? "     std. error  95% interval" : "",
              truth.empty() ? "" : "           true    rel. error");
  for (std::size_t p = 0; p < run.fitted.size(); ++p) {
    const auto initial = run.initial[p].data();
    const auto fitted = run.fitted[p].data();
    for (std::size_t i = 0; i < fitted.size(); ++i) {
      std::string name = task.spec().parameters[p].name;
      if (fitted.size() > 1) {
        name += "[" + std::to_string(i) + "]";
      }
      std::printf("  %-20s %14.8g %14.8g", name.c_str(), initial[i], fitted[i]);
      if (errors) {
        const double error = run.uncertainty.standard_error[p][i];
        const double half = tasks::Uncertainty::kZ95 * error;
        std::printf(" %14.4g  [%.6g, %.6g]", error, fitted[i] - half, fitted[i] + half);
      }
      if (!truth.empty()) {
        const double true_value = truth[p][i];
        std::printf(" %14.8g %13.2e", true_value,
                    std::abs(fitted[i] - true_value) / std::max(std::abs(true_value), 1e-300));
      }
      std::printf("\n");
    }
  }
  if (errors) {
    std::printf(
        "  standard errors: Gauss-Newton (Laplace) covariance, %zu residuals, noise "
        "sigma %.4g\n",
        run.uncertainty.residuals, run.uncertainty.sigma);
  }
}

}  // namespace

FitRun fit(const tasks::Task& task, const std::string& label, bool quiet,
           std::optional<dynamics::CheckpointBudget> checkpoints) {
  const io::OptimizerSpec& spec = task.spec().optimizer;
  optim::ParameterSet parameters = task.parameters();
  FitRun run;
  run.initial.assign(parameters.values().begin(), parameters.values().end());
  run.before = task.run(task.spec().scene);
  // A run that blows up has no gradient worth following (the tape's may be 0 where central
  // differences give 1e104): stop before optimizing, naming the step and particle.
  check_trajectory(task.spec().scene, run.before, label);
  ProgressReporter reporter(label, spec.iterations, quiet);
  optim::MinimizeOptions options;
  options.max_iterations = spec.iterations;
  options.tolerance = spec.tolerance;
  options.loss_tolerance = spec.loss_tolerance;
  options.callback = [&](const optim::Progress& progress) { reporter.update(progress); };
  const optim::Objective objective = checkpoints ? checkpointed_objective(task, *checkpoints)
                                                 : optim::tape_objective(task.loss_function());
  if (spec.method == io::OptimizerSpec::Method::kAdam) {
    optim::AdamOptions adam;
    adam.learning_rate = spec.learning_rate;
    optim::Adam optimizer(parameters, adam);
    run.result = optimizer.minimize(objective, options);
  } else {
    optim::Lbfgs optimizer(parameters);
    run.result = optimizer.minimize(objective, options);
  }
  reporter.finish();
  run.fitted.assign(parameters.values().begin(), parameters.values().end());
  const io::SceneSpec fitted_scene = task.scene_with(run.fitted);
  run.after = task.run(fitted_scene);
  check_trajectory(fitted_scene, run.after, label + ": with the fitted parameters");
  run.uncertainty = task.uncertainty(run.fitted);
  return run;
}

std::string convergence_failure(const tasks::Task& task, const FitRun& run) {
  const double loss = run.result.loss;
  if (!std::isfinite(loss)) {
    return "the loss became " + std::to_string(loss);
  }
  const auto& threshold = task.spec().optimizer.converge_below;
  if (threshold && !(loss <= *threshold)) {
    char text[200];
    std::snprintf(text, sizeof(text),
                  "final loss %.3e is above converge_below = %.3e after %zu "
                  "iterations (%s)",
                  loss, *threshold, run.result.iterations,
                  std::string(optim::to_string(run.result.status)).c_str());
    return text;
  }
  return {};
}

io::OutputFiles fit_outputs(const tasks::Task& task, const FitRun& run,
                            const std::filesystem::path& directory) {
  const io::TaskSpec& spec = task.spec();
  const std::string title = spec.name.empty() ? "maya optimize" : spec.name;
  io::OutputFiles files(directory);
  files.add("fitted.json",
            tasks::fitted_parameters_json(task, run.fitted, run.result, &run.uncertainty));
  files.add("fitted_scene.json", io::scene_json(task.scene_with(run.fitted)));
  files.add("loss.svg", viz::svg_loss_curve(run.result.loss_history, "loss: " + title, true));

  std::vector<viz::TrajectoryLayer> layers;
  for (const io::Trajectory& observed : task.observed()) {
    if (observed.num_frames() > 0) {
      layers.push_back({layers.empty() ? "observed" : "", &observed, "#222222", true, 0.9});
    }
  }
  // A body task's plot shows the bodies' centres.
  const bool bodies = run.after.num_particles == 0 && run.after.num_bodies > 0;
  const io::Trajectory before_centres = bodies ? body_centres(run.before) : io::Trajectory{};
  const io::Trajectory after_centres = bodies ? body_centres(run.after) : io::Trajectory{};
  layers.push_back({"before", bodies ? &before_centres : &run.before, "#9aa3ad", true, 0.9});
  layers.push_back({"after", bodies ? &after_centres : &run.after, "#e15759", false, 1.0});
  std::vector<viz::PlotMarker> markers;
  for (const auto& target : task.targets()) {
    markers.push_back({target[0], target[1], "target"});
  }
  viz::PlotOptions options;
  options.title = title;
  if (spec.scene.ground) {
    options.ground_y = spec.scene.ground->height;
  }
  files.add("trajectories.svg", viz::svg_trajectory_plot(layers, markers, options));
  files.add("before.csv",
            bodies ? io::body_trajectory_csv(run.before) : io::trajectory_csv(run.before));
  files.add("after.csv",
            bodies ? io::body_trajectory_csv(run.after) : io::trajectory_csv(run.after));
  files.add("before_positions.npy", io::positions_npy(bodies ? before_centres : run.before));
  files.add("after_positions.npy", io::positions_npy(bodies ? after_centres : run.after));

  viz::ViewerScene viewer = viz::viewer_scene(task.scene_with(run.fitted), run.after, title);
  viewer.targets = task.targets();
  // The observation is the viewer's ghost when it holds every particle at every frame; else its
  // points are drawn as paths.
  const auto observed =
      std::find_if(task.observed().begin(), task.observed().end(), [&](const io::Trajectory& t) {
        return t.num_frames() == run.after.num_frames() &&
               t.num_particles == run.after.num_particles;
      });
  for (std::size_t k = 0; k < task.observations().size(); ++k) {
    const tasks::ObservedFrames& frames = task.observations()[k];
    if (observed != task.observed().end() || frames.num_frames() == 0) continue;
    for (std::size_t c = 0; c < frames.num_points(); ++c) {
      viz::ViewerPath path;
      path.label = "observed particle " + std::to_string(frames.points[c]);
      for (std::size_t row = 0; row < frames.num_frames(); ++row) {
        const std::size_t at = (row * frames.num_points() + c) * 2;
        path.points.push_back({frames.positions[at], frames.positions[at + 1]});
      }
      viewer.paths.push_back(std::move(path));
    }
  }
  if (observed != task.observed().end()) {
    viewer.ghost = *observed;
    viewer.ghost_label = "observed";
  } else {
    viewer.ghost = run.before;
    viewer.ghost_label = "before optimization";
  }
  files.add("viewer.html", viz::viewer_html(viewer));
  return files;
}

int optimize_command(const std::filesystem::path& task_file, const std::filesystem::path& out,
                     const OptimizeOverrides& overrides, bool quiet) {
  if (io::is_robot_task_file(task_file)) {
    return optimize_robot_command(task_file, out, overrides, quiet);
  }
  io::TaskSpec spec = io::load_task(task_file);
  if (overrides.iterations) {
    spec.optimizer.iterations = *overrides.iterations;
  }
  if (overrides.method) {
    spec.optimizer.method = *overrides.method == "adam" ? io::OptimizerSpec::Method::kAdam
                                                        : io::OptimizerSpec::Method::kLbfgs;
  }
  const std::optional<dynamics::CheckpointBudget> checkpoints =
      checkpoint_budget(overrides.checkpoints, spec.scene);
  io::check_output_directory(out);
  // The before/after trajectories, an observed one per term, and the tape's copy of the states.
  check_memory(spec.scene, 3 + spec.loss.size(), "optimize");
  warn_if_unstable(spec.scene, "optimize");
  const tasks::Task task(std::move(spec));
  for (const io::Trajectory& observed : task.observed()) {
    if (observed.num_frames() > 0) {
      check_trajectory(task.spec().scene, observed, "optimize: the observed trajectory", false);
    }
  }
  const FitRun run = fit(task, "optimize", quiet, checkpoints);
  fit_outputs(task, run, out).commit();
  if (!quiet) {
    std::printf("%s\n",
                task.spec().name.empty() ? task_file.string().c_str() : task.spec().name.c_str());
    std::printf("  loss %.6e -> %.6e in %zu iterations (%zu evaluations): %s\n",
                run.result.loss_history.empty() ? run.result.loss : run.result.loss_history.front(),
                run.result.loss, run.result.iterations, run.result.evaluations,
                std::string(optim::to_string(run.result.status)).c_str());
    print_parameters(task, run);
    std::printf(
        "wrote %s/{fitted.json, fitted_scene.json, loss.svg, trajectories.svg, "
        "before.csv, after.csv, before_positions.npy, after_positions.npy, viewer.html}\n",
        out.string().c_str());
  }
  if (const std::string failure = convergence_failure(task, run); !failure.empty()) {
    std::fprintf(stderr, "maya: optimize: did not converge: %s\n", failure.c_str());
    return 1;
  }
  return 0;
}

}  // namespace maya::cli
