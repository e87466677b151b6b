// maya simulate SCENE.json -o DIR: the trajectory as CSV and .npy, a plot and the viewer.
#include <cstdio>

#include "commands.hpp"
#include "maya/io/scene_file.hpp"
#include "maya/io/svg_plot.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/io/viewer.hpp"

namespace maya::cli {

int simulate_command(const std::filesystem::path& scene_file, const std::filesystem::path& out,
                     bool quiet) {
  const io::SceneSpec scene = io::load_scene(scene_file);
  io::check_output_directory(out);
  const io::Trajectory trajectory = io::simulate(scene);
  const std::string title = scene.name.empty() ? scene_file.filename().string() : scene.name;

  io::OutputFiles files(out);
  files.add("trajectory.csv", io::trajectory_csv(trajectory));
  files.add("positions.npy", io::positions_npy(trajectory));
  files.add("velocities.npy", io::velocities_npy(trajectory));
  files.add("times.npy", io::times_npy(trajectory));
  const io::TrajectoryLayer layer{"particles", &trajectory, "#4e79a7", false, 1.0};
  io::PlotOptions options;
  options.title = title;
  if (scene.ground) {
    options.ground_y = scene.ground->height;
  }
  files.add("trajectory.svg", io::svg_trajectory_plot(std::span(&layer, 1), {}, options));
  files.add("viewer.html", io::viewer_html(io::viewer_scene(scene, trajectory, title)));
  files.commit();
  if (!quiet) {
    std::printf("simulated %zu particles, %zu springs, %zu steps of %g s (%g s)\n",
                scene.particles.size(), scene.springs.size(), scene.steps, scene.dt,
                scene.duration());
    std::printf(
        "wrote %s/{trajectory.csv, positions.npy, velocities.npy, times.npy, "
        "trajectory.svg, viewer.html}\n",
        out.string().c_str());
  }
  return 0;
}

}  // namespace maya::cli
