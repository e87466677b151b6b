// maya demo rigid: control through penalty contact (examples/box_toss.cpp as a demo). A box thrown
// from 30 cm up must flip over once and come to rest upside down at x = 0.5 m; L-BFGS fits its
// initial velocity and spin through 2 s of bouncing, sliding contact with the ground.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numbers>

#include "maya/maya.hpp"
#include "physics_demos.hpp"

namespace maya::cli {
namespace {

constexpr double kWidth = 0.2;
constexpr double kHeight = 0.1;
constexpr double kTargetX = 0.5;
constexpr double kTargetAngle = std::numbers::pi;
constexpr int kSteps = 2000;
constexpr double kDt = 1e-3;
constexpr double kTolerance = 1e-3;  // m, rad and m/s at the end

struct BoxToss {
  rigid::RigidWorld2D world{{rigid::BodyShape::box(kWidth, kHeight)}};
  // 1 kg; zeta 0.3 gives a corner impact restitution of 0.37.
  rigid::RigidParameterValues values = world.parameters_from_masses({1.0}, {1e4, 60.0, 0.5});

  // The final state from the initial velocity (vx, vy, omega) [3], thrown level from (0, 0.3);
  // every pose is appended to `record` when given.
  TensorVar run(TensorTape& tape, TensorVar velocity, io::Trajectory* record) const {
    const rigid::RigidParameters params = values.constants(tape);
    const TensorVar pose = tape.constant(Tensor::from_data({0.0, 0.3, 0.0}, {1, 3}));
    TensorVar state = stack({pose, reshape(velocity, {1, 3})}, 0);
    const auto keep = [&](int t) {
      if (record != nullptr) {
        const auto s = state.view().data();
        record->times.push_back(kDt * t);
        record->body_poses.insert(record->body_poses.end(), s.begin(), s.begin() + 3);
      }
    };
    keep(0);
    for (int t = 0; t < kSteps; ++t) {
      state = world.step(state, params, kDt);
      keep(t + 1);
    }
    return state;
  }

  io::Trajectory trajectory(const Tensor& velocity) const {
    io::Trajectory record;
    record.num_bodies = 1;
    TensorTape tape;
    static_cast<void>(run(tape, tape.constant(velocity), &record));
    return record;
  }
};

}  // namespace

bool rigid_demo(const DemoContext& context) {
  const BoxToss toss;
  std::printf(
      "\n== box toss: throw a %gx%g m box so it flips once and rests upside down at x = %g\n",
      kWidth, kHeight, kTargetX);
  // At the target (x and angle) and at rest: every velocity component squared.
  const auto loss = [&](TensorTape& tape, std::span<const TensorVar> p) {
    const TensorVar state = toss.run(tape, p[0], nullptr);
    const TensorVar pose = select(dynamics::positions_of(state), 0, 0);
    const TensorVar target = tape.constant(Tensor::from_data({kTargetX, 0.0, kTargetAngle}, {3}));
    const TensorVar weight = tape.constant(Tensor::from_data({1.0, 0.0, 1.0}, {3}));
    return sum(square((pose - target) * weight)) + sum(square(dynamics::velocities_of(state)));
  };
  const Tensor initial = Tensor::from_data({0.5, 1.5, 6.0}, {3});  // lands near x = 0.1
  optim::ParameterSet parameters;
  parameters.add("initial_velocity", initial);
  const optim::Result result = minimize_with_progress(
      parameters, loss, {.max_iterations = 40, .tolerance = 1e-5}, "box_toss", context.quiet);
  const Tensor fitted = parameters.value(0);

  const io::Trajectory before = toss.trajectory(initial);
  const io::Trajectory after = toss.trajectory(fitted);
  const auto final_pose = [](const io::Trajectory& t) {
    const std::size_t at = t.body_poses.size() - 3;
    return std::array<double, 3>{t.body_poses[at], t.body_poses[at + 1], t.body_poses[at + 2]};
  };
  TensorTape tape;
  const auto end = toss.run(tape, tape.constant(fitted), nullptr).view().data();
  const double speed = std::sqrt(end[3] * end[3] + end[4] * end[4] + end[5] * end[5]);

  print_loss_line(result);
  const char* names[] = {"vx", "vy", "omega"};
  const char* units[] = {"m/s", "m/s", "rad/s"};
  for (std::size_t i = 0; i < 3; ++i) {
    print_parameter(std::string("throw ") + names[i], initial.data()[i], fitted.data()[i],
                    std::nullopt, units[i]);
  }
  const auto start_rest = final_pose(before);
  const auto rest = final_pose(after);
  std::printf("  rests at x         %12.6g -> %12.6g m        target %g, missed by %.1e\n",
              start_rest[0], rest[0], kTargetX, std::abs(rest[0] - kTargetX));
  std::printf("  rests at angle     %12.6g -> %12.6g rad      target pi, missed by %.1e\n",
              start_rest[2], rest[2], std::abs(rest[2] - kTargetAngle));
  std::printf("  speed at the end   %12.1e m/s\n", speed);
  const bool ok = std::abs(rest[0] - kTargetX) < kTolerance &&
                  std::abs(rest[2] - kTargetAngle) < kTolerance && speed < kTolerance &&
                  std::isfinite(result.loss);
  std::printf(ok ? "  ok\n" : "  FAILED: the box does not rest within %.0e of the target\n",
              kTolerance);

  if (context.out) {
    const std::string title = "box toss: flip once, rest upside down at x = 0.5 m";
    const io::Trajectory before_centre = body_centres(before);
    const io::Trajectory after_centre = body_centres(after);
    const viz::TrajectoryLayer layers[] = {{"before", &before_centre, "#9aa3ad", true, 0.9},
                                           {"after", &after_centre, "#e15759", false, 1.0}};
    const viz::PlotMarker target[] = {{kTargetX, kHeight / 2, "target"}};
    viz::PlotOptions plot;
    plot.title = title + " (path of the centre)";
    plot.ground_y = 0.0;
    plot.equal_aspect = true;
    viz::ViewerScene viewer;
    viewer.title = title;
    viewer.trajectory = after;
    viz::ViewerBody box;
    box.shape = viz::ViewerBody::Shape::kPolygon;
    for (const rigid::Vec2 vertex : toss.world.shape(0).vertices()) {
      box.vertices.push_back({vertex.x, vertex.y});
    }
    viewer.bodies = {box};
    viewer.ground_height = 0.0;
    viewer.targets = {{kTargetX, kHeight / 2}};
    viewer.paths = {{"before", centre_path(before, 0), "#9aa3ad"}};
    nlohmann::ordered_json json;
    json["task"] = title;
    json["parameters"] = {
        {{"name", "initial_velocity"},
         {"components", {"vx", "vy", "omega"}},
         {"initial", std::vector<double>(initial.data().begin(), initial.data().end())},
         {"fitted", std::vector<double>(fitted.data().begin(), fitted.data().end())}}};
    json["rest_pose"] = {{"x", rest[0]}, {"y", rest[1]}, {"angle", rest[2]}};
    json["loss"] = {{"initial", result.loss_history.front()}, {"final", result.loss}};
    json["converged"] = ok;
    write_demo_files({"box_toss", title, json.dump(2) + "\n", result.loss_history,
                      viz::svg_trajectory_plot(layers, target, plot), nullptr, &before, &after,
                      std::move(viewer)},
                     *context.out);
  }
  return ok;
}

}  // namespace maya::cli
