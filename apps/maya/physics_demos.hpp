// The demos of the physics layers beyond mass-spring systems (rigid bodies with penalty contact,
// hard contact, FEM soft bodies): each is a small control or system-identification problem
// written in C++ against the library, and shares the helpers below for its progress, summary and
// output files with `maya demo`'s other demos.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "maya/io/trajectory.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/viz/svg_plot.hpp"
#include "maya/viz/viewer.hpp"

namespace maya::cli {

struct DemoContext {
  std::optional<std::filesystem::path> out;  // -o DIR: write files under DIR/<task>/
  bool quiet = false;
};

// Each prints its summary and returns whether it met its goal.
[[nodiscard]] bool rigid_demo(const DemoContext& context);
[[nodiscard]] bool contact_demo(const DemoContext& context);
[[nodiscard]] bool soft_demo(const DemoContext& context);
[[nodiscard]] bool robot_demo(const DemoContext& context);      // demo_robot.cpp
[[nodiscard]] bool arm_demo(const DemoContext& context);        // demo_robot.cpp
[[nodiscard]] bool walker_demo(const DemoContext& context);     // demo_walker.cpp
[[nodiscard]] bool quadruped_demo(const DemoContext& context);  // demo_quadruped.cpp

// ---- shared by the demos above ----

// L-BFGS on `loss` with the progress reporter of `maya optimize`; `parameters` ends at the
// optimum.
[[nodiscard]] optim::Result minimize_with_progress(optim::ParameterSet& parameters,
                                                   LossFunction loss,
                                                   const optim::MinimizeOptions& options,
                                                   const std::string& label, bool quiet);

// "  loss 1.2e+00 -> 3.4e-12 in 9 iterations (status)".
void print_loss_line(const optim::Result& result);

// A fitted parameter: initial -> fitted, with its hidden truth and relative error when known.
// Returns the relative error (0 without a truth).
double print_parameter(const std::string& name, double initial, double fitted,
                       std::optional<double> truth = std::nullopt, const char* unit = "");

// What a demo writes with -o: fitted.json, loss.svg, trajectories.svg, before/after (and
// observed) trajectories as CSV and .npy, and viewer.html.
struct DemoFiles {
  std::string task;  // subdirectory and file-name stem
  std::string title;
  std::string fitted_json;
  std::span<const double> loss_history;
  std::string trajectories_svg;
  const io::Trajectory* observed = nullptr;  // optional
  const io::Trajectory* before = nullptr;
  const io::Trajectory* after = nullptr;
  viz::ViewerScene viewer;
};
void write_demo_files(const DemoFiles& files, const std::filesystem::path& out);

// The paths of the body centres as particles (for trajectory plots and viewer paths).
[[nodiscard]] io::Trajectory body_centres(const io::Trajectory& trajectory);
[[nodiscard]] std::vector<std::array<double, 2>> centre_path(const io::Trajectory& trajectory,
                                                             std::size_t body);

}  // namespace maya::cli
