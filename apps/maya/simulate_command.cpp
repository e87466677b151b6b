// maya simulate SCENE.json -o DIR: the trajectory as CSV and .npy, a plot and the viewer.
// Particles (and springs) and rigid bodies run side by side; each writes its own files.
#include <cstdio>

#include "commands.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/tasks/rigid_scene.hpp"
#include "maya/viz/scene_view.hpp"
#include "maya/viz/svg_plot.hpp"
#include "maya/viz/viewer.hpp"
#include "run_checks.hpp"

namespace maya::cli {

int simulate_command(const std::filesystem::path& scene_file, const std::filesystem::path& out,
                     bool quiet) {
  const io::SceneSpec scene = io::load_scene(scene_file);
  io::check_output_directory(out);
  check_memory(scene, 1, "simulate");
  warn_if_unstable(scene, "simulate");
  const bool has_particles = !scene.particles.empty();
  io::Trajectory trajectory = has_particles ? tasks::simulate(scene) : io::Trajectory{};
  if (!scene.bodies.empty()) {
    tasks::simulate_bodies(scene, trajectory);
  }
  check_trajectory(scene, trajectory, "simulate");
  const std::string title = scene.name.empty() ? scene_file.filename().string() : scene.name;

  io::OutputFiles files(out);
  std::string written;
  const auto add = [&](std::string name, std::string contents) {
    written += (written.empty() ? "" : ", ") + name;
    files.add(std::move(name), std::move(contents));
  };
  if (has_particles) {
    add("trajectory.csv", io::trajectory_csv(trajectory));
    add("positions.npy", io::positions_npy(trajectory));
    add("velocities.npy", io::velocities_npy(trajectory));
  }
  if (!scene.bodies.empty()) {
    add("bodies.csv", io::body_trajectory_csv(trajectory));
    const std::size_t shape[] = {trajectory.num_frames(), trajectory.num_bodies, 3};
    add("body_poses.npy", io::npy_bytes(trajectory.body_poses, shape));
  }
  add("times.npy", io::times_npy(trajectory));
  io::Trajectory body_paths;
  if (!scene.bodies.empty()) {
    body_paths.times = trajectory.times;
    body_paths.num_particles = trajectory.num_bodies;
    for (std::size_t k = 0; k < trajectory.body_poses.size(); k += 3) {
      body_paths.positions.push_back(trajectory.body_poses[k]);
      body_paths.positions.push_back(trajectory.body_poses[k + 1]);
    }
  }
  std::vector<viz::TrajectoryLayer> layers;
  if (has_particles) {
    layers.push_back({"particles", &trajectory, "#4e79a7", false, 1.0});
  }
  if (!scene.bodies.empty()) {
    layers.push_back({"body centres", &body_paths, "#e15759", false, 1.0});
  }
  viz::PlotOptions options;
  options.title = title;
  if (scene.ground) {
    options.ground_y = scene.ground->height;
  }
  add("trajectory.svg", viz::svg_trajectory_plot(layers, {}, options));
  viz::ViewerScene viewer;
  if (has_particles) {
    viewer = viz::viewer_scene(scene, trajectory, title);
  } else {
    viewer.title = title;
    viewer.trajectory = trajectory;
    if (scene.ground) {
      viewer.ground_height = scene.ground->height;
    }
  }
  if (!scene.bodies.empty()) {
    viewer.bodies = viz::viewer_bodies(tasks::make_rigid_world(scene));
  }
  add("viewer.html", viz::viewer_html(viewer));
  files.commit();
  if (!quiet) {
    std::printf(
        "simulated %zu particles, %zu springs, %zu rigid bodies, %zu steps of %g s (%g s)\n",
        scene.particles.size(), scene.springs.size(), scene.bodies.size(), scene.steps, scene.dt,
        scene.duration());
    std::printf("wrote %s/{%s}\n", out.string().c_str(), written.c_str());
  }
  return 0;
}

}  // namespace maya::cli
