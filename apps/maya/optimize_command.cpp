// maya optimize TASK.json -o DIR: fit the task's free parameters, then write what was found and
// how (fitted values, loss curve, trajectories before and after, a viewer).
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "maya/io/task_file.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/viz/scene_view.hpp"
#include "maya/viz/svg_plot.hpp"
#include "progress.hpp"
#include "run_checks.hpp"

namespace maya::cli {
namespace {

void print_parameters(const tasks::SpringTask& task, const FitRun& run) {
  const std::vector<std::vector<double>> truth = task.true_values();
  std::printf("  %-20s %14s %14s%s\n", "parameter", "initial", "fitted",
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
      if (!truth.empty()) {
        const double true_value = truth[p][i];
        std::printf(" %14.8g %13.2e", true_value,
                    std::abs(fitted[i] - true_value) / std::max(std::abs(true_value), 1e-300));
      }
      std::printf("\n");
    }
  }
}

}  // namespace

FitRun fit(const tasks::SpringTask& task, const std::string& label, bool quiet,
           std::optional<dynamics::CheckpointBudget> checkpoints) {
  const io::OptimizerSpec& spec = task.spec().optimizer;
  optim::ParameterSet parameters = task.parameters();
  FitRun run;
  run.initial.assign(parameters.values().begin(), parameters.values().end());
  run.before = tasks::simulate(task.spec().scene);
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
  run.after = tasks::simulate(fitted_scene);
  check_trajectory(fitted_scene, run.after, label + ": with the fitted parameters");
  return run;
}

std::string convergence_failure(const tasks::SpringTask& task, const FitRun& run) {
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

io::OutputFiles fit_outputs(const tasks::SpringTask& task, const FitRun& run,
                            const std::filesystem::path& directory) {
  const io::TaskSpec& spec = task.spec();
  const std::string title = spec.name.empty() ? "maya optimize" : spec.name;
  io::OutputFiles files(directory);
  files.add("fitted.json", tasks::fitted_parameters_json(task, run.fitted, run.result));
  files.add("fitted_scene.json", io::scene_json(task.scene_with(run.fitted)));
  files.add("loss.svg", viz::svg_loss_curve(run.result.loss_history, "loss: " + title, true));

  std::vector<viz::TrajectoryLayer> layers;
  for (const io::Trajectory& observed : task.observed()) {
    if (observed.num_frames() > 0) {
      layers.push_back({layers.empty() ? "observed" : "", &observed, "#222222", true, 0.9});
    }
  }
  layers.push_back({"before", &run.before, "#9aa3ad", true, 0.9});
  layers.push_back({"after", &run.after, "#e15759", false, 1.0});
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
  files.add("before.csv", io::trajectory_csv(run.before));
  files.add("after.csv", io::trajectory_csv(run.after));
  files.add("before_positions.npy", io::positions_npy(run.before));
  files.add("after_positions.npy", io::positions_npy(run.after));

  viz::ViewerScene viewer = viz::viewer_scene(task.scene_with(run.fitted), run.after, title);
  viewer.targets = task.targets();
  const auto observed = std::find_if(task.observed().begin(), task.observed().end(),
                                     [](const io::Trajectory& t) { return t.num_frames() > 0; });
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
  const tasks::SpringTask task(std::move(spec));
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
