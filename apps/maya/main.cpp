// The maya command-line program: parses arguments (CLI11), calls the library, writes files.
// Exit status: 0 success, 2 bad input (one line on stderr), 1 failure to converge or an
// internal error.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "commands.hpp"
#include "maya/core/error.hpp"
#include "maya/core/threads.hpp"

namespace {

constexpr int kBadInput = 2;
constexpr int kFailure = 1;

// One line: the message up to its first newline.
std::string one_line(const std::string& message) {
  const std::size_t newline = message.find('\n');
  return newline == std::string::npos ? message : message.substr(0, newline);
}

// CLI11 reads "-5" into an unsigned option as 2^64 - 5; a count flag must be digits only.
const CLI::Validator kCount(
    [](const std::string& text) -> std::string {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        return "expected a count (0, 1, 2, ...), got '" + text + "'";
      }
      return {};
    },
    "COUNT", "count");

// A positive finite number; CLI::PositiveNumber lets "nan" through (every comparison with it is
// false).
const CLI::Validator kPositiveFinite(
    [](const std::string& text) -> std::string {
      double value = 0.0;
      if (!CLI::detail::lexical_cast(text, value) || !(value > 0.0) || !std::isfinite(value)) {
        return "expected a positive finite number, got '" + text + "'";
      }
      return {};
    },
    "POSITIVE", "positive finite");

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "maya: differentiable physics from the command line.\n"
      "Simulate scenes, fit their parameters by gradient descent through the simulator, "
      "and check gradients.\nScene and task files: docs/scene-format.md.",
      "maya"};
  app.require_subcommand(1);
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no progress output")->configurable(false);
  std::size_t threads = 1;
  app.add_option("-j,--threads", threads,
                 "threads for the simulator steps that split large systems (default 1)")
      ->check(kCount & CLI::Range(std::size_t{1}, std::size_t{1024}));

  std::string demo_name;
  bool demo_list = false;
  std::string demo_out;
  CLI::App* demo = app.add_subcommand("demo", "run a built-in showcase (needs no files)");
  demo->add_option("NAME", demo_name, "which demo (default: the first of --list)");
  demo->add_flag("--list", demo_list, "list the demos and exit");
  demo->add_option("-o,--output", demo_out, "also write plots, trajectories and viewers here");
  demo->add_flag("-q,--quiet", quiet, "no progress output");

  std::string scene_file;
  std::string simulate_out;
  CLI::App* simulate = app.add_subcommand(
      "simulate",
      "run a scene or a robot (.urdf, MJCF .xml); write its trajectory (.npy), plots and a viewer");
  simulate->add_option("SCENE", scene_file, "scene file (JSON), or a robot: ROBOT.urdf|ROBOT.xml")
      ->required();
  simulate->add_option("-o,--output", simulate_out, "output directory (created if missing)")
      ->required();
  simulate->add_flag("-q,--quiet", quiet, "print nothing on success");
  maya::cli::RobotRunOptions robot;
  std::string torques_file;
  simulate->add_option("--steps", robot.steps, "robots: number of steps (default 1000)")
      ->check(kCount);
  simulate->add_option("--dt", robot.dt, "robots: step in seconds (default: the model's)");
  simulate
      ->add_option("--integrator", robot.integrator, "robots: euler or rk4 (default: the model's)")
      ->check(CLI::IsMember({"euler", "rk4"}));
  simulate->add_option("--torques", torques_file,
                       "robots: controls .npy [steps, actuators] (default zero)");
  simulate->add_flag("--floating-base", robot.floating_base,
                     "URDF: a free joint on the root link (default: welded to the world)");
  simulate->add_flag("--ground", robot.ground, "URDF: a ground plane z = 0");
  simulate->add_flag("--self-collision", robot.self_collision,
                     "URDF: contact between the links' shapes (MJCF files have it on)");
  simulate->add_option("--height", robot.height, "robots: a free root's starting height in m");
  simulate
      ->add_option("--contact", robot.contact,
                   "robots: penalty or hard (the interior-point solver; semi-implicit Euler) "
                   "contact (default: the file's, else penalty)")
      ->check(CLI::IsMember({"hard", "penalty"}));

  std::string task_file;
  std::string optimize_out;
  std::optional<std::size_t> iterations;
  std::optional<std::string> method;
  CLI::App* optimize = app.add_subcommand(
      "optimize", "fit a task's free parameters; write them, the loss curve and trajectories");
  optimize->add_option("TASK", task_file, "task file (JSON)")->required();
  optimize->add_option("-o,--output", optimize_out, "output directory (created if missing)")
      ->required();
  optimize->add_option("--iterations", iterations, "override the task's iteration count")
      ->check(kCount);
  optimize->add_option("--method", method, "override the task's optimizer")
      ->check(CLI::IsMember({"adam", "lbfgs"}));
  std::string checkpoints = "auto";
  optimize
      ->add_option("--checkpoints", checkpoints,
                   "snapshots kept for the gradient: N, auto (checkpoint when the full tape "
                   "would pass 256 MiB) or none (default auto)")
      ->default_str("auto");
  optimize->add_flag("-q,--quiet", quiet, "no progress output");

  std::string gradcheck_file;
  std::optional<double> step;
  std::optional<double> tolerance;
  CLI::App* gradcheck = app.add_subcommand(
      "gradcheck", "compare a task's gradient with central differences, per parameter");
  gradcheck->add_option("TASK", gradcheck_file, "task file (JSON)")->required();
  gradcheck->add_option("--step", step, "relative finite-difference step")->check(kPositiveFinite);
  gradcheck->add_option("--tolerance", tolerance, "worst relative error accepted")
      ->check(kPositiveFinite);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "maya: %s (see maya --help)\n", one_line(error.what()).c_str());
    return kBadInput;
  }

  try {
    maya::set_num_threads(threads);
    if (demo->parsed()) {
      return maya::cli::demo_command(
          demo_name, demo_list,
          demo_out.empty() ? std::nullopt : std::optional<std::filesystem::path>(demo_out), quiet);
    }
    if (simulate->parsed()) {
      if (maya::cli::is_robot_file(scene_file)) {
        if (!torques_file.empty()) robot.torques = torques_file;
        return maya::cli::simulate_robot_command(scene_file, simulate_out, robot, quiet);
      }
      return maya::cli::simulate_command(scene_file, simulate_out, quiet);
    }
    if (optimize->parsed()) {
      return maya::cli::optimize_command(task_file, optimize_out, {iterations, method, checkpoints},
                                         quiet);
    }
    if (gradcheck->parsed()) {
      return maya::cli::gradcheck_command(gradcheck_file, step, tolerance);
    }
  } catch (const maya::BlowUpError& error) {
    std::fprintf(stderr, "maya: %s\n", one_line(error.what()).c_str());
    return kBadInput;
  } catch (const maya::ConvergenceError& error) {
    std::fprintf(stderr, "maya: did not converge: %s\n", one_line(error.what()).c_str());
    return kFailure;
  } catch (const maya::NonFiniteError& error) {
    std::fprintf(stderr, "maya: %s\n", one_line(error.what()).c_str());
    return kFailure;
  } catch (const maya::Error& error) {
    std::fprintf(stderr, "maya: %s\n", one_line(error.what()).c_str());
    return kBadInput;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "maya: internal error: %s\n", one_line(error.what()).c_str());
    return kFailure;
  }
  return kFailure;
}
