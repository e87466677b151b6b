// A quadruped from URDF learns to walk. From its standing pose, each of its twelve joints follows
// a PD servo (80 N m/rad, 3 N m s/rad) towards a periodic target: a mean angle plus one sine and
// one cosine term of a shared 2 Hz gait, 36 numbers in all. L-BFGS learns them through 0.8 s of
// simulation with hard ground contact (the interior-point step, feet sticking by Coulomb's law),
// the gradient exact through every contact, servo and multibody step. The loss rewards the
// trunk's forward displacement and keeps it at its standing height, level and on its heading,
// with a small effort term. Asserts, on a replay by the plain simulator, that the learned gait
// walks forward at least half a body length (the trot in place it starts from does not move),
// with the trunk up and off the ground, every foot stepping, and the loaded feet slipping at under
// a quarter of the trunk's speed.
#include <algorithm>
#include <cstdio>
#include <maya/multibody/loaders.hpp>
#include <maya/tasks/quadruped_gait.hpp>
#include <string>

int main() {
  namespace mb = maya::multibody;
  mb::UrdfOptions urdf;
  urdf.floating_base = true;
  urdf.ground_plane = true;
  const mb::Model file =
      mb::load_urdf(std::string(MAYA_EXAMPLES_DIR) + "/robots/quadruped.urdf", urdf);
  maya::tasks::QuadrupedGaitOptions options;  // hard contact, dt = 2 ms
  options.steps = 400;
  const maya::tasks::Quadruped robot = maya::tasks::make_quadruped(file, options);
  const maya::Tensor start = maya::tasks::trot_in_place(robot, options);

  const maya::tasks::GaitTraining training = maya::tasks::train_gait(robot, options, start, 25);
  std::printf("L-BFGS: %zu iterations, %zu walks simulated, loss %.3g -> %.3g, %.1f s\n",
              training.result.iterations, training.result.evaluations,
              training.result.loss_history.front(), training.result.loss, training.seconds);

  const maya::tasks::GaitReplay before = maya::tasks::replay_gait(robot, options, start);
  const maya::tasks::GaitReplay after = maya::tasks::replay_gait(robot, options, training.gait);
  const double seconds = static_cast<double>(options.steps) * options.dt;
  std::printf("walked %.3f m = %.2f body lengths in %.1f s (the trot in place: %.3f m)\n",
              after.distance, after.body_lengths, seconds, before.distance);
  std::printf("trunk %.3f m high on average, lowest %.3f m, tilt at most %.3f rad\n",
              after.mean_height, after.min_height, after.max_tilt);
  std::printf("steps per foot (front left, front right, hind left, hind right): %zu %zu %zu %zu\n",
              after.touchdowns[0], after.touchdowns[1], after.touchdowns[2], after.touchdowns[3]);
  const std::size_t fewest = *std::min_element(after.touchdowns.begin(), after.touchdowns.end());
  std::printf("a loaded foot slips at %.3f m/s on average, the trunk moves at %.3f m/s\n",
              after.stance_slip, after.distance / seconds);
  const bool walked = after.body_lengths >= 0.5 && after.min_height > 0.25 &&
                      !after.trunk_touched && fewest >= 1 &&
                      after.stance_slip < 0.25 * after.distance / seconds;
  std::printf(walked ? "walks\n" : "FAILED to walk\n");
  return walked ? 0 : 1;
}
