// maya optimize / maya gradcheck on a robot task (a task file with "robot"): the fit through the
// fused multibody steps, and its outputs: fitted values, the loss curve, joint trajectories before
// and after, the fitted controls and the 3-D viewer of the fitted motion.
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "maya/core/check.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/io/robot_task_file.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/tasks/robot_task.hpp"
#include "maya/viz/svg_plot.hpp"
#include "maya/viz/viewer3d.hpp"
#include "progress.hpp"

namespace maya::cli {
namespace {

std::string joint_positions_npy(const multibody::Model& model, const std::vector<double>& states,
                                std::size_t steps) {
  std::vector<double> q;
  for (std::size_t t = 0; t <= steps; ++t) {
    q.insert(q.end(), states.begin() + static_cast<long>(t * model.nx()),
             states.begin() + static_cast<long>(t * model.nx() + model.nq()));
  }
  const std::size_t shape[] = {steps + 1, model.nq()};
  return io::npy_bytes(q, shape);
}

// The compared joints of the match_joints terms over time: observed, before and after.
std::string joints_plot(const tasks::RobotTask& task, const std::vector<double>& before,
                        const std::vector<double>& after, const std::string& title) {
  const io::RobotTaskSpec& spec = task.spec();
  const std::size_t nx = task.model().nx();
  std::vector<viz::PlotSeries> series;
  for (const io::RobotLossSpec& term : spec.loss) {
    if (term.kind != io::RobotLossSpec::Kind::kMatchJoints) continue;
    for (std::size_t c = 0; c < term.coordinates.size(); ++c) {
      const std::size_t coordinate = term.coordinates[c];
      viz::PlotSeries observed{series.empty() ? "observed" : "", {}, {}, "#222222", 1.5, true};
      for (std::size_t f = 0; f < term.frames.size(); ++f) {
        observed.x.push_back(static_cast<double>(term.frames[f]) * spec.dt);
        observed.y.push_back(term.observed[f * term.coordinates.size() + c]);
      }
      viz::PlotSeries was{series.empty() ? "before" : "", {}, {}, "#9aa3ad"};
      viz::PlotSeries now{series.empty() ? "after" : "", {}, {}, "#e15759"};
      for (std::size_t t = 0; t <= spec.steps; ++t) {
        was.x.push_back(static_cast<double>(t) * spec.dt);
        was.y.push_back(before[t * nx + coordinate]);
        now.x.push_back(was.x.back());
        now.y.push_back(after[t * nx + coordinate]);
      }
      series.push_back(std::move(observed));
      series.push_back(std::move(was));
      series.push_back(std::move(now));
    }
  }
  viz::PlotOptions options;
  options.title = title;
  options.x_label = "time (s)";
  options.y_label = "joint position (rad or m)";
  return viz::svg_line_plot(series, {}, options);
}

void print_parameters(const tasks::RobotTask& task, std::span<const Tensor> initial,
                      std::span<const Tensor> fitted) {
  const std::vector<std::vector<double>> truth = task.true_values();
  std::printf("  %-24s %14s %14s%s\n", "parameter", "initial", "fitted",
              truth.empty() ? "" : "           true    rel. error");
  for (std::size_t p = 0; p < fitted.size(); ++p) {
    const io::RobotParameterSpec& spec = task.spec().parameters[p];
    if (spec.target == io::RobotParameterSpec::Target::kControls) {
      std::printf("  %-24s %zu knots x %zu actuators (controls.npy)\n", spec.name.c_str(),
                  spec.shape[0], spec.shape[1]);
      continue;
    }
    for (std::size_t i = 0; i < fitted[p].numel(); ++i) {
      std::string name = spec.name;
      if (fitted[p].numel() > 1) name += "[" + std::to_string(i) + "]";
      std::printf("  %-24s %14.8g %14.8g", name.c_str(), initial[p].data()[i], fitted[p].data()[i]);
      if (!truth.empty()) {
        const double true_value = truth[p][i];
        std::printf(
            " %14.8g %13.2e", true_value,
            std::abs(fitted[p].data()[i] - true_value) / std::max(std::abs(true_value), 1e-300));
      }
      std::printf("\n");
    }
  }
}

}  // namespace

int optimize_robot_command(const std::filesystem::path& task_file, const std::filesystem::path& out,
                           const OptimizeOverrides& overrides, bool quiet) {
  io::RobotTaskSpec spec = io::load_robot_task(task_file);
  if (overrides.iterations) spec.optimizer.iterations = *overrides.iterations;
  if (overrides.method) {
    spec.optimizer.method = *overrides.method == "adam" ? io::OptimizerSpec::Method::kAdam
                                                        : io::OptimizerSpec::Method::kLbfgs;
  }
  if (overrides.checkpoints != "auto" && overrides.checkpoints != "none") {
    throw ValueError("optimize: --checkpoints applies to mass-spring tasks, not to robot tasks");
  }
  io::check_output_directory(out);
  const tasks::RobotTask task(std::move(spec));
  const io::RobotTaskSpec& task_spec = task.spec();
  optim::ParameterSet parameters = task.parameters();
  const std::vector<Tensor> initial(parameters.values().begin(), parameters.values().end());
  // A run that blows up throws here, naming the step and the body, before any optimizing.
  const std::vector<double> before = task.rollout(initial);

  ProgressReporter reporter("optimize", task_spec.optimizer.iterations, quiet);
  optim::MinimizeOptions options;
  options.max_iterations = task_spec.optimizer.iterations;
  options.tolerance = task_spec.optimizer.tolerance;
  options.loss_tolerance = task_spec.optimizer.loss_tolerance;
  options.callback = [&](const optim::Progress& progress) { reporter.update(progress); };
  const optim::Objective objective = task.objective();
  optim::Result result;
  if (task_spec.optimizer.method == io::OptimizerSpec::Method::kAdam) {
    optim::AdamOptions adam;
    adam.learning_rate = task_spec.optimizer.learning_rate;
    optim::Adam optimizer(parameters, adam);
    result = optimizer.minimize(objective, options);
  } else {
    optim::Lbfgs optimizer(parameters);
    result = optimizer.minimize(objective, options);
  }
  reporter.finish();
  const std::vector<Tensor> fitted(parameters.values().begin(), parameters.values().end());
  const std::vector<double> after = task.rollout(fitted);
  const tasks::RobotInputs inputs = task.inputs(fitted);

  const multibody::Model& model = task.model();
  const std::string title = task_spec.name.empty() ? "maya optimize" : task_spec.name;
  io::OutputFiles files(out);
  files.add("fitted.json", tasks::robot_fitted_json(task, fitted, result));
  files.add("loss.svg", viz::svg_loss_curve(result.loss_history, "loss: " + title, true));
  files.add("before_joint_positions.npy", joint_positions_npy(model, before, task_spec.steps));
  files.add("after_joint_positions.npy", joint_positions_npy(model, after, task_spec.steps));
  const std::vector<double> controls = task.step_controls(inputs.controls);
  const std::size_t control_shape[] = {task_spec.steps, model.nu()};
  if (model.nu() > 0) files.add("controls.npy", io::npy_bytes(controls, control_shape));
  const bool matches = std::any_of(task_spec.loss.begin(), task_spec.loss.end(), [](const auto& t) {
    return t.kind == io::RobotLossSpec::Kind::kMatchJoints;
  });
  if (matches) files.add("joints.svg", joints_plot(task, before, after, title));
  viz::Viewer3DScene view =
      robot_view(model, title, after, task_spec.steps, task_spec.dt, inputs.params);
  view.targets = task.targets();
  files.add("viewer.html", viz::viewer3d_html(view));
  files.commit();

  if (!quiet) {
    std::printf("%s\n", task_spec.name.empty() ? task_file.string().c_str() : title.c_str());
    std::printf("  loss %.6e -> %.6e in %zu iterations (%zu evaluations): %s\n",
                result.loss_history.empty() ? result.loss : result.loss_history.front(),
                result.loss, result.iterations, result.evaluations,
                std::string(optim::to_string(result.status)).c_str());
    print_parameters(task, initial, fitted);
    std::printf(
        "wrote %s/{fitted.json, loss.svg, before_joint_positions.npy, after_joint_positions.npy, "
        "%s%sviewer.html}\n",
        out.string().c_str(), model.nu() > 0 ? "controls.npy, " : "",
        matches ? "joints.svg, " : "");
  }
  const auto& threshold = task_spec.optimizer.converge_below;
  if (!std::isfinite(result.loss)) {
    std::fprintf(stderr, "maya: optimize: did not converge: the loss became %g\n", result.loss);
    return 1;
  }
  if (threshold && !(result.loss <= *threshold)) {
    std::fprintf(stderr,
                 "maya: optimize: did not converge: final loss %.3e is above converge_below = "
                 "%.3e after %zu iterations (%s)\n",
                 result.loss, *threshold, result.iterations,
                 std::string(optim::to_string(result.status)).c_str());
    return 1;
  }
  return 0;
}

int gradcheck_robot_command(const std::filesystem::path& task_file, std::optional<double> step,
                            std::optional<double> tolerance) {
  const tasks::RobotTask task(io::load_robot_task(task_file));
  const double h =
      check_in_range(step.value_or(task.spec().gradcheck.step), io::GradcheckSpec::kMinStep,
                     io::GradcheckSpec::kMaxStep, "gradcheck: the step");
  const double accepted = check_positive(tolerance.value_or(task.spec().gradcheck.tolerance),
                                         "gradcheck: the tolerance");
  const tasks::GradcheckSummary summary = tasks::gradcheck_robot_task(task, h);
  return report_gradcheck(task_file, summary, h, accepted);
}

}  // namespace maya::cli
