// maya demo quadruped: the quadruped of examples/robots/quadruped.urdf (compiled in) learns to
// walk. From its standing pose, each joint's PD servo follows a periodic target (a mean, one
// sine and one cosine term at 2 Hz); L-BFGS learns those 36 numbers through the whole rollout
// with hard ground contact (maya/tasks/quadruped_gait.hpp). Asserts, on a replay by the plain
// simulator, that it walks forward (a body length at least, half of it or more in the second
// half of the time), stays up and level with its trunk off the ground, and steps: every foot
// lifts and lands again at least twice, and a loaded foot slips at under a quarter of the trunk's
// speed (it walks, it does not slide).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/tasks/quadruped_gait.hpp"
#include "maya/viz/svg_plot.hpp"
#include "maya/viz/viewer3d.hpp"
#include "physics_demos.hpp"
#include "progress.hpp"

namespace maya::cli {

extern const std::string_view kQuadrupedUrdf;  // generated from examples/robots/quadruped.urdf

namespace {

constexpr std::size_t kIterations = 60;
constexpr double kGoal = 1.0;  // body lengths

// The loss and the distance walked (body lengths) per iteration.
std::string learning_curve(const tasks::GaitTraining& training, double body_length) {
  viz::PlotSeries loss, walked;
  loss.label = "loss";
  loss.color = "#4e79a7";
  walked.label = "distance walked (body lengths)";
  walked.color = "#e15759";
  for (std::size_t k = 0; k < training.result.loss_history.size(); ++k) {
    loss.x.push_back(static_cast<double>(k));
    loss.y.push_back(training.result.loss_history[k]);
  }
  for (std::size_t k = 0; k < training.distances.size(); ++k) {
    walked.x.push_back(static_cast<double>(k));
    walked.y.push_back(training.distances[k] / body_length);
  }
  const viz::PlotSeries series[] = {loss, walked};
  viz::PlotOptions plot;
  plot.title = "quadruped gait: L-BFGS through the walk with hard contact";
  plot.x_label = "iteration";
  plot.y_label = "loss / body lengths";
  return viz::svg_line_plot(series, {}, plot);
}

}  // namespace

bool quadruped_demo(const DemoContext& context) {
  namespace mb = multibody;
  if (!mb::urdf_available()) {
    std::printf("quadruped: skipped, this maya was built without urdfdom (URDF)\n");
    return true;
  }
  mb::UrdfOptions urdf;
  urdf.floating_base = true;
  urdf.ground_plane = true;
  const mb::Model file = mb::parse_urdf(std::string(kQuadrupedUrdf), "quadruped.urdf", urdf);
  tasks::QuadrupedGaitOptions options;
  const tasks::Quadruped robot = tasks::make_quadruped(file, options);
  const Tensor start = tasks::trot_in_place(robot, options);

  ProgressReporter reporter("quadruped", kIterations, context.quiet);
  const tasks::GaitTraining training =
      tasks::train_gait(robot, options, start, kIterations,
                        [&](const optim::Progress& progress) { reporter.update(progress); });
  reporter.finish();

  const tasks::GaitReplay before = tasks::replay_gait(robot, options, start);
  const tasks::GaitReplay after = tasks::replay_gait(robot, options, training.gait);
  const double seconds = static_cast<double>(options.steps) * options.dt;
  const std::size_t fewest_steps =
      *std::min_element(after.touchdowns.begin(), after.touchdowns.end());
  const bool walks = after.body_lengths >= kGoal && after.second_half >= 0.4 * after.distance &&
                     after.min_height > 0.25 && after.max_tilt < 0.35 && !after.trunk_touched &&
                     fewest_steps >= 2 && after.stance_slip < 0.25 * after.distance / seconds;
  std::printf(
      "quadruped: a 12-joint quadruped (URDF) learns an open-loop gait (%zu Fourier "
      "coefficients) through %.1f s of hard contact\n",
      start.numel(), seconds);
  print_loss_line(training.result);
  std::printf("  trained in %.1f s (%zu iterations, %zu walks simulated)\n", training.seconds,
              training.result.iterations, training.result.evaluations);
  std::printf(
      "  walks %.3f m = %.2f body lengths in %.1f s (%.3f m in the second half; the trot in "
      "place it started from: %.3f m)\n",
      after.distance, after.body_lengths, seconds, after.second_half, before.distance);
  std::printf(
      "  trunk height %.3f m on average, lowest %.3f m (stands at %.2f m), tilt at most %.3f "
      "rad, drift sideways %.3f m\n",
      after.mean_height, after.min_height, options.stand_height, after.max_tilt, after.lateral);
  std::printf(
      "  steps per foot (FL FR HL HR): %zu %zu %zu %zu, a loaded foot slips at %.3f m/s on "
      "average (the trunk moves at %.3f m/s); largest servo torque %.1f N m: %s\n",
      after.touchdowns[0], after.touchdowns[1], after.touchdowns[2], after.touchdowns[3],
      after.stance_slip, after.distance / seconds, after.max_torque,
      walks ? "walks" : "does NOT walk");

  if (context.out) {
    const mb::Model& model = robot.model;
    const std::size_t steps = options.steps;
    io::OutputFiles files(*context.out / "quadruped");
    std::vector<double> q;
    for (std::size_t t = 0; t <= steps; ++t) {
      q.insert(q.end(), after.states.begin() + static_cast<long>(t * model.nx()),
               after.states.begin() + static_cast<long>(t * model.nx() + model.nq()));
    }
    const std::size_t q_shape[] = {steps + 1, model.nq()}, contact_shape[] = {steps + 1, 4};
    const std::size_t gait_shape[] = {training.gait.shape()[0], training.gait.shape()[1]};
    const std::vector<double> gait(training.gait.data().begin(), training.gait.data().end());
    files.add("joint_positions.npy", io::npy_bytes(q, q_shape));
    files.add("foot_contact.npy", io::npy_bytes(after.contact, contact_shape));
    files.add("gait.npy", io::npy_bytes(gait, gait_shape));
    files.add("learning.svg", learning_curve(training, robot.body_length));
    files.add("viewer.html", viz::viewer3d_html(robot_view(model, "quadruped: learned gait",
                                                           after.states, steps, options.dt)));
    nlohmann::ordered_json json;
    json["task"] = "quadruped";
    json["steps"] = steps;
    json["dt"] = options.dt;
    json["frequency"] = options.frequency;
    json["iterations"] = training.result.iterations;
    json["evaluations"] = training.result.evaluations;
    json["training_seconds"] = training.seconds;
    json["distance"] = after.distance;
    json["body_lengths"] = after.body_lengths;
    json["second_half"] = after.second_half;
    json["initial_distance"] = before.distance;
    json["mean_height"] = after.mean_height;
    json["min_height"] = after.min_height;
    json["max_tilt"] = after.max_tilt;
    json["touchdowns"] = after.touchdowns;
    json["stance_slip"] = after.stance_slip;
    json["max_torque"] = after.max_torque;
    json["loss_history"] = training.result.loss_history;
    json["distances"] = training.distances;
    json["walks"] = walks;
    files.add("quadruped.json", json.dump(2) + "\n");
    files.commit();
    std::printf("  wrote %s/ (open viewer.html in a browser)\n",
                (*context.out / "quadruped").string().c_str());
  }
  return walks;
}

}  // namespace maya::cli
