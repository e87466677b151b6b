// The subcommands of the maya program. Each returns the exit status (0 success, 1 failure to
// converge); bad input surfaces as maya::Error exceptions, which main() turns into status 2.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "maya/io/output_files.hpp"
#include "maya/io/spring_scene.hpp"
#include "maya/optim/objective.hpp"

namespace maya::cli {

struct OptimizeOverrides {
  std::optional<std::size_t> iterations;
  std::optional<std::string> method;
};

int simulate_command(const std::filesystem::path& scene_file, const std::filesystem::path& out,
                     bool quiet);
int optimize_command(const std::filesystem::path& task_file, const std::filesystem::path& out,
                     const OptimizeOverrides& overrides, bool quiet);
int gradcheck_command(const std::filesystem::path& task_file, std::optional<double> step,
                      std::optional<double> tolerance);
int demo_command(const std::string& name, bool list,
                 const std::optional<std::filesystem::path>& out, bool quiet);

// ---- shared by optimize and demo ----

struct FitRun {
  optim::Result result;
  std::vector<Tensor> initial;
  std::vector<Tensor> fitted;
  io::Trajectory before;
  io::Trajectory after;
};

// Fits the task's parameters with its optimizer, reporting progress on stderr.
[[nodiscard]] FitRun fit(const io::SpringTask& task, const std::string& label, bool quiet);
// fitted.json, fitted_scene.json, loss.svg, trajectories.svg, before/after CSV and .npy, and
// viewer.html, staged for `directory`.
[[nodiscard]] io::OutputFiles fit_outputs(const io::SpringTask& task, const FitRun& run,
                                          const std::filesystem::path& directory);
// Why a run counts as not converged (empty when it converged): a final loss above the task's
// converge_below, or a non-finite loss.
[[nodiscard]] std::string convergence_failure(const io::SpringTask& task, const FitRun& run);

}  // namespace maya::cli
