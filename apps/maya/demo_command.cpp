// maya demo [NAME]: built-in tasks that need no files, one per physics layer: the springs demo
// runs the task files of examples/scenes/ (compiled in), the others are written in C++
// (physics_demos.hpp). Each demo asserts its result: recovered parameters match the hidden truth,
// controls reach their target; otherwise the exit status is 1.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "embedded_scenes.hpp"
#include "maya/core/error.hpp"
#include "maya/io/json.hpp"
#include "maya/io/task_file.hpp"
#include "physics_demos.hpp"

namespace maya::cli {
namespace {

struct Demo {
  std::string_view name;
  std::string_view summary;
  std::vector<std::string_view> task_files;   // in examples/scenes/, or empty
  bool (*run)(const DemoContext&) = nullptr;  // when there are no task files
};

const std::vector<Demo>& demos() {
  static const std::vector<Demo> list = {
      {"springs",
       "mass-spring systems: recover a lattice's hidden stiffness and damping from its observed "
       "fall (system identification), then find the throw that sends a dumbbell through a target "
       "(control)",
       {"spring_sysid.json", "dumbbell_throw.json"}},
      {"noisy",
       "measured data: recover a lattice's stiffness and damping from noisy measurements of its "
       "four corners, each with a standard error; the hidden truth lies inside the 95% intervals",
       {"spring_noisy_sysid.json"}},
      {"rigid",
       "rigid bodies with penalty contact: find the throw (velocity and spin) that flips a box "
       "once and brings it to rest upside down on a target (control)",
       {},
       rigid_demo},
      {"contact",
       "hard contact (interior-point solver): recover a box's mass from three observed "
       "collisions with a ball (system identification)",
       {},
       contact_demo},
      {"soft",
       "FEM soft bodies: recover a block's Young's modulus and Poisson's ratio from its observed "
       "drop and bounce (system identification)",
       {},
       soft_demo},
      {"robot",
       "articulated robots (3-D multibody): swing a cart-pole up from hanging by trajectory "
       "optimization through the differentiable simulator (control)",
       {},
       robot_demo},
      {"arm",
       "articulated robots (3-D multibody, URDF): a 7-DOF arm learns the joint torques that bring "
       "its tool to a target (control)",
       {},
       arm_demo},
      {"walker",
       "mass-spring robots learn to walk: 1024 robots on a GPU (16 on the CPU), each with its own "
       "controller network, trained at once by gradient descent through 2 s of contact with "
       "friction (control)",
       {},
       walker_demo},
      {"quadruped",
       "articulated robots (3-D multibody, URDF): a quadruped learns an open-loop walking gait, "
       "its joints' periodic servo targets optimized by L-BFGS through 1.2 s of hard contact "
       "(control)",
       {},
       quadruped_demo},
  };
  return list;
}

constexpr double kTruthTolerance = 1e-4;  // relative error of recovered parameters

std::string_view embedded(std::string_view file) {
  for (const EmbeddedFile& scene : kEmbeddedScenes) {
    if (scene.name == file) {
      return scene.contents;
    }
  }
  throw Error("demo: no embedded file " + std::string(file));
}

// Runs one task; returns whether it met its goal.
bool run_task(std::string_view file, const std::optional<std::filesystem::path>& out, bool quiet) {
  io::TaskSpec spec = io::parse_task_text(embedded(file), "demo:" + std::string(file));
  const tasks::Task task(std::move(spec));
  std::printf("\n== %s\n", task.spec().name.c_str());
  const FitRun run = fit(task, std::string(file.substr(0, file.find('.'))), quiet);
  std::printf("  loss %.3e -> %.3e in %zu iterations (%s)\n",
              run.result.loss_history.empty() ? run.result.loss : run.result.loss_history.front(),
              run.result.loss, run.result.iterations,
              std::string(optim::to_string(run.result.status)).c_str());
  bool ok = true;
  const std::vector<std::vector<double>> truth = task.true_values();
  // A task with noisy observations is judged by its intervals, one without by its accuracy.
  const bool noisy = std::any_of(task.spec().loss.begin(), task.spec().loss.end(),
                                 [](const io::LossTermSpec& term) { return term.noise_std > 0; });
  for (std::size_t p = 0; p < run.fitted.size(); ++p) {
    const auto fitted = run.fitted[p].data();
    const auto initial = run.initial[p].data();
    for (std::size_t i = 0; i < fitted.size(); ++i) {
      std::string name = task.spec().parameters[p].name;
      if (fitted.size() > 1) {
        name += "[" + std::to_string(i) + "]";
      }
      if (truth.empty()) {
        std::printf("  %-18s %12.6g -> %12.6g\n", name.c_str(), initial[i], fitted[i]);
        continue;
      }
      if (run.uncertainty.available && run.uncertainty.sigma > 0.0 && noisy) {
        // Noisy data: the truth must lie in the 95% interval the fit reports.
        const double half = tasks::Uncertainty::kZ95 * run.uncertainty.standard_error[p][i];
        ok = ok && std::abs(fitted[i] - truth[p][i]) <= half;
        std::printf("  %-18s %12.6g -> %12.6g +- %-10.4g hidden truth %-10g %s the 95%% interval\n",
                    name.c_str(), initial[i], fitted[i], half, truth[p][i],
                    std::abs(fitted[i] - truth[p][i]) <= half ? "inside" : "OUTSIDE");
        continue;
      }
      const double error = std::abs(fitted[i] - truth[p][i]) / std::abs(truth[p][i]);
      ok = ok && error <= kTruthTolerance;
      std::printf("  %-18s %12.6g -> %12.6g   hidden truth %-10g relative error %.1e\n",
                  name.c_str(), initial[i], fitted[i], truth[p][i], error);
    }
  }
  for (const auto& target : task.targets()) {
    std::printf("  target (%g, %g) missed by %.2e (root of the loss)\n", target[0], target[1],
                std::sqrt(run.result.loss));
  }
  if (const std::string failure = convergence_failure(task, run); !failure.empty()) {
    std::printf("  FAILED: %s\n", failure.c_str());
    ok = false;
  } else if (!truth.empty() && !ok) {
    std::printf(noisy ? "  FAILED: a hidden truth lies outside its 95%% interval\n"
                      : "  FAILED: a recovered parameter is off by more than %.0e\n",
                kTruthTolerance);
  } else {
    std::printf("  ok\n");
  }
  if (out) {
    const std::filesystem::path directory = *out / std::string(file.substr(0, file.find('.')));
    fit_outputs(task, run, directory).commit();
    std::printf("  wrote %s/ (open viewer.html in a browser)\n", directory.string().c_str());
  }
  return ok;
}

}  // namespace

int demo_command(const std::string& name, bool list,
                 const std::optional<std::filesystem::path>& out, bool quiet) {
  if (list) {
    for (const Demo& demo : demos()) {
      std::printf("%-10s %s%s\n", std::string(demo.name).c_str(), std::string(demo.summary).c_str(),
                  demo.name == demos().front().name ? " (default)" : "");
    }
    return 0;
  }
  const std::string wanted = name.empty() ? std::string(demos().front().name) : name;
  const auto found = std::find_if(demos().begin(), demos().end(),
                                  [&](const Demo& demo) { return demo.name == wanted; });
  if (found == demos().end()) {
    std::vector<std::string_view> names;
    std::string valid;
    for (const Demo& demo : demos()) {
      names.push_back(demo.name);
      valid += (valid.empty() ? "" : ", ") + std::string(demo.name);
    }
    const auto suggestion = io::nearest_word(wanted, names);
    throw ValueError("demo: no demo named '" + wanted + "'" +
                     (suggestion ? "; did you mean '" + *suggestion + "'?" : "") +
                     " (available: " + valid + "; see maya demo --list)");
  }
  if (out) {
    io::check_output_directory(*out);
  }
  std::printf("maya demo %s: %s\n", std::string(found->name).c_str(),
              std::string(found->summary).c_str());
  bool ok = true;
  for (const std::string_view file : found->task_files) {
    ok = run_task(file, out, quiet) && ok;
  }
  if (found->run != nullptr) {
    ok = found->run(DemoContext{out, quiet}) && ok;
  }
  if (!out) {
    std::printf("\n(add -o DIR to write plots, trajectories and a viewer for each task)\n");
  }
  return ok ? 0 : 1;
}

}  // namespace maya::cli
