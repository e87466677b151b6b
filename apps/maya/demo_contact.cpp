// maya demo contact: system identification through hard contact (the experiment of de Avila
// Belbute-Peres et al., NeurIPS 2018). On a top-down table a ball of known mass strikes a box of
// unknown mass three times, off-centre, with friction and restitution; the box's mass (and with it
// its inertia m (w^2 + h^2) / 12) is fitted to the observed poses of both bodies by L-BFGS through
// the interior-point contact solver, differentiated by the implicit function theorem.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "maya/maya.hpp"
#include "physics_demos.hpp"

namespace maya::cli {
namespace {

constexpr double kTrueMass = 2.7;
constexpr double kGuess = 1.0;
constexpr double kBoxWidth = 0.3;
constexpr double kBoxHeight = 0.2;
constexpr double kBallRadius = 0.1;
constexpr double kBallMass = 1.0;
constexpr double kDt = 0.01;
constexpr std::size_t kSteps = 80;
constexpr std::size_t kShots = 3;
constexpr double kTruthTolerance = 1e-4;

// The ball's start (x, y) and velocity (vx, vy) per shot; the box rests at the origin.
constexpr double kShot[kShots][4] = {
    {-0.6, 0.05, 3.0, 0.0}, {-0.5, -0.45, 2.0, 2.2}, {0.1, 0.7, -0.4, -3.5}};

contact::HardContactWorld2D make_table() {
  rigid::RigidWorldOptions table;
  table.gravity = {0.0, 0.0};
  table.grounds.clear();
  contact::HardContactOptions options;
  options.material = {.friction = 0.3, .restitution = 0.6};
  return contact::HardContactWorld2D(
      rigid::RigidWorld2D(
          {rigid::BodyShape::circle(kBallRadius), rigid::BodyShape::box(kBoxWidth, kBoxHeight)},
          table),
      {}, options);
}

// Both bodies' poses [T, 2, 3] after each step of one shot, for a box of mass `mass` [1]; the
// poses of every frame (the start included) are appended to `record` when given.
TensorVar shot_poses(const contact::HardContactWorld2D& world, TensorTape& tape, TensorVar mass,
                     const double shot[4], io::Trajectory* record, double start_time) {
  const TensorVar inertia = mass * ((kBoxWidth * kBoxWidth + kBoxHeight * kBoxHeight) / 12.0);
  const Tensor start = rigid::RigidWorld2D::make_state(
      Tensor::from_data({shot[0], shot[1], 0.0, 0.0, 0.0, 0.0}, {2, 3}),
      Tensor::from_data({shot[2], shot[3], 0.0, 0.0, 0.0, 0.0}, {2, 3}));
  const contact::HardContactParameterValues values = world.parameters({kBallMass, 1.0}, start);
  contact::HardContactParameters params = values.constants(tape);
  params.mass = concat({tape.constant(Tensor::from_data({kBallMass}, {1})), mass}, 0);
  params.inertia = concat({slice(params.inertia, 0, 0, 1), inertia}, 0);
  TensorVar state = tape.constant(start);
  const auto keep = [&](std::size_t t) {
    if (record != nullptr) {
      const auto s = state.view().data();
      record->times.push_back(start_time + kDt * static_cast<double>(t));
      record->body_poses.insert(record->body_poses.end(), s.begin(), s.begin() + 6);
    }
  };
  keep(0);
  std::vector<TensorVar> poses;
  for (std::size_t t = 0; t < kSteps; ++t) {
    state = world.step(state, params, kDt);
    poses.push_back(select(state, 0, 0));
    keep(t + 1);
  }
  return stack(poses, 0);
}

// The three shots one after another (times continue), for the viewer and the files.
io::Trajectory all_shots(const contact::HardContactWorld2D& world, double mass) {
  io::Trajectory record;
  record.num_bodies = 2;
  TensorTape tape;
  const TensorVar box_mass = tape.constant(Tensor::from_data({mass}, {1}));
  for (std::size_t s = 0; s < kShots; ++s) {
    static_cast<void>(shot_poses(world, tape, box_mass, kShot[s], &record,
                                 kDt * static_cast<double>(s * (kSteps + 1))));
  }
  return record;
}

// The box's centre in each shot as one particle per shot (for the trajectory plot).
io::Trajectory box_paths(const io::Trajectory& shots) {
  io::Trajectory paths;
  paths.num_particles = kShots;
  const std::size_t frames = kSteps + 1;
  for (std::size_t t = 0; t < frames; ++t) {
    paths.times.push_back(shots.times[t]);
    for (std::size_t s = 0; s < kShots; ++s) {
      const std::size_t at = ((s * frames + t) * 2 + 1) * 3;
      paths.positions.push_back(shots.body_poses[at]);
      paths.positions.push_back(shots.body_poses[at + 1]);
    }
  }
  return paths;
}

}  // namespace

bool contact_demo(const DemoContext& context) {
  const contact::HardContactWorld2D world = make_table();
  std::printf(
      "\n== mass from collisions: a 1 kg ball strikes a box of unknown mass three times "
      "(hard contact, friction 0.3, restitution 0.6)\n");
  std::vector<Tensor> observed;
  {
    TensorTape tape;
    const TensorVar truth = tape.constant(Tensor::from_data({kTrueMass}, {1}));
    for (const auto& shot : kShot) {
      observed.push_back(shot_poses(world, tape, truth, shot, nullptr, 0.0).value());
    }
  }
  const auto loss = [&](TensorTape& tape, std::span<const TensorVar> p) {
    TensorVar total = tape.constant(Tensor::scalar(0.0));
    for (std::size_t s = 0; s < kShots; ++s) {
      const TensorVar predicted = shot_poses(world, tape, p[0], kShot[s], nullptr, 0.0);
      total = total + mean(square(predicted - tape.constant(observed[s])));
    }
    return total;
  };
  optim::ParameterSet parameters;
  parameters.add("box_mass", Tensor::from_data({kGuess}, {1}), optim::Positive::exp());
  const optim::Result result =
      minimize_with_progress(parameters, loss, {.max_iterations = 30, .tolerance = 1e-14},
                             "mass_from_collisions", context.quiet);
  const double mass = parameters.value(0).item();

  print_loss_line(result);
  const double error = print_parameter("box mass", kGuess, mass, kTrueMass, "kg");
  const bool ok = error <= kTruthTolerance && std::isfinite(result.loss);
  if (ok) {
    std::printf("  ok\n");
  } else {
    std::printf("  FAILED: the recovered mass is off by more than %.0e\n", kTruthTolerance);
  }

  if (context.out) {
    const std::string title = "mass from collisions: fit the box's mass to three observed shots";
    const io::Trajectory truth = all_shots(world, kTrueMass);
    const io::Trajectory before = all_shots(world, kGuess);
    const io::Trajectory after = all_shots(world, mass);
    const io::Trajectory truth_paths = box_paths(truth);
    const io::Trajectory before_paths = box_paths(before);
    const io::Trajectory after_paths = box_paths(after);
    const viz::TrajectoryLayer layers[] = {{"observed", &truth_paths, "#222222", true, 0.9},
                                           {"before", &before_paths, "#9aa3ad", true, 0.9},
                                           {"after", &after_paths, "#e15759", false, 1.0}};
    viz::PlotOptions plot;
    plot.title = "path of the box in each shot";
    plot.equal_aspect = true;
    viz::ViewerScene viewer;
    viewer.title = title;
    viewer.trajectory = after;
    viz::ViewerBody ball;
    ball.radius = kBallRadius;
    viz::ViewerBody box;
    box.shape = viz::ViewerBody::Shape::kPolygon;
    for (const rigid::Vec2 vertex : world.bodies().shape(1).vertices()) {
      box.vertices.push_back({vertex.x, vertex.y});
    }
    viewer.bodies = {ball, box};
    viewer.paths = {{"before (box)", centre_path(before, 1), "#9aa3ad"}};
    nlohmann::ordered_json json;
    json["task"] = title;
    json["parameters"] = {
        {{"name", "box_mass"}, {"initial", kGuess}, {"fitted", mass}, {"true", kTrueMass}}};
    json["loss"] = {{"initial", result.loss_history.front()}, {"final", result.loss}};
    json["converged"] = ok;
    write_demo_files(
        {"mass_from_collisions", title, json.dump(2) + "\n", result.loss_history,
         viz::svg_trajectory_plot(layers, {}, plot), &truth, &before, &after, std::move(viewer)},
        *context.out);
  }
  return ok;
}

}  // namespace maya::cli
