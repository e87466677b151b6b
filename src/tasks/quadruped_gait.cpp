// A quadruped's open-loop gait learned through contact: the robot with a PD servo per joint, the
// periodic servo targets as one matrix product with a Fourier basis, the walk recorded as fused
// multibody steps, and L-BFGS on the Fourier coefficients.
#include "maya/tasks/quadruped_gait.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks {
namespace {

namespace mb = multibody;

constexpr std::array<const char*, 4> kLegs = {"front_left", "front_right", "hind_left",
                                              "hind_right"};
constexpr std::array<const char*, 3> kJoints = {"hip_abduction", "hip_flexion", "knee"};
constexpr std::size_t kJointCount = 12;
constexpr double kLoaded = 1.0;  // N: a foot (or a trunk corner) carrying more touches the ground

std::size_t joint_body(const mb::Model& file, const std::string& name) {
  for (std::size_t b = 0; b < file.num_bodies(); ++b) {
    if (file.body(b).joint_name == name && file.body(b).joint == mb::JointType::kRevolute) {
      return b;
    }
  }
  throw ValueError("make_quadruped: the model has no revolute joint '" + name +
                   "' (legs front_left, front_right, hind_left, hind_right, each with "
                   "hip_abduction, hip_flexion and knee)");
}

double norm(const mb::Vec3& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

// The world position of `point` (body frame) of a body with pose [position, quaternion (w, x, y,
// z)]: p + R point, R's rows from the quaternion.
mb::Vec3 world_point(const double* pose, const mb::Vec3& point) {
  const double w = pose[3], x = pose[4], y = pose[5], z = pose[6];
  return {pose[0] + (1.0 - 2.0 * (y * y + z * z)) * point[0] + 2.0 * (x * y - w * z) * point[1] +
              2.0 * (x * z + w * y) * point[2],
          pose[1] + 2.0 * (x * y + w * z) * point[0] + (1.0 - 2.0 * (x * x + z * z)) * point[1] +
              2.0 * (y * z - w * x) * point[2],
          pose[2] + 2.0 * (x * z - w * y) * point[0] + 2.0 * (y * z + w * x) * point[1] +
              (1.0 - 2.0 * (x * x + y * y)) * point[2]};
}

// The joint angles [J] that put each foot straight under its hip with the trunk at `height`: at
// depth d = height - radius, with thigh l1 and calf l2, the knee's angle k has
// |foot - hip|^2 = l1^2 + l2^2 + 2 l1 l2 cos k = d^2 (k < 0, the knees' range), and the hip's a
// turns the foot vertical: tan a = -l2 sin k / (l1 + l2 cos k). No abduction.
std::vector<double> leg_posture(double thigh, double calf, double radius, double height,
                                const char* what) {
  const double depth = height - radius;
  const double cos_knee = (depth * depth - thigh * thigh - calf * calf) / (2.0 * thigh * calf);
  if (!(cos_knee > -1.0 && cos_knee < 1.0)) {
    throw ValueError(std::string("make_quadruped: ") + what + " " + format_number(height) +
                     " m is out of the legs' reach (thigh " + format_number(thigh) + " m, calf " +
                     format_number(calf) + " m)");
  }
  const double knee = -std::acos(cos_knee);
  const double hip = std::atan2(-calf * std::sin(knee), thigh + calf * std::cos(knee));
  std::vector<double> posture(kJointCount, 0.0);
  for (std::size_t leg = 0; leg < 4; ++leg) {
    posture[3 * leg + 1] = hip;
    posture[3 * leg + 2] = knee;
  }
  return posture;
}

// Columns of the state: the trunk's x, y, z, quaternion, and each servo's angle and rate.
struct StateColumns {
  std::vector<std::int64_t> angle, rate;
};

StateColumns state_columns(const Quadruped& robot) {
  StateColumns columns;
  for (const mb::Actuator& actuator : robot.model.actuators()) {
    const auto body = static_cast<std::size_t>(actuator.body);
    columns.angle.push_back(static_cast<std::int64_t>(robot.model.q_index(body)));
    columns.rate.push_back(static_cast<std::int64_t>(robot.model.nq() + robot.model.v_index(body)));
  }
  return columns;
}

void check_options(const QuadrupedGaitOptions& options) {
  (void)check_positive(options.dt, "quadruped gait: dt");
  (void)check_at_least(options.steps, 1, "quadruped gait: steps");
  (void)check_at_least(options.harmonics, 1, "quadruped gait: harmonics");
  (void)check_positive(options.frequency, "quadruped gait: frequency");
  (void)check_non_negative(options.ramp, "quadruped gait: ramp");
  (void)check_positive(options.kp, "quadruped gait: kp");
  (void)check_non_negative(options.kv, "quadruped gait: kv");
  (void)check_positive(options.stand_height, "quadruped gait: stand_height");
  (void)check_positive(options.start_height, "quadruped gait: start_height");
}

}  // namespace

Quadruped make_quadruped(const mb::Model& file, const QuadrupedGaitOptions& options) {
  check_options(options);
  if (file.num_bodies() == 0 || file.body(0).joint != mb::JointType::kFree) {
    throw ValueError("make_quadruped: the model needs a floating base (a free joint on its root)");
  }
  std::vector<mb::Actuator> servos;
  for (std::size_t leg = 0; leg < kLegs.size(); ++leg) {
    for (const char* joint : kJoints) {
      const std::string name = std::string(kLegs[leg]) + "_" + joint;
      servos.push_back({.name = name,
                        .body = static_cast<int>(joint_body(file, name)),
                        .type = mb::ActuatorType::kPosition,
                        .kp = options.kp,
                        .kv = options.kv});
    }
  }
  mb::ModelOptions model_options = file.options();
  model_options.planes = {mb::Plane{}};
  model_options.body_contact = false;
  model_options.friction = options.friction;
  model_options.contact_model = options.contact;
  model_options.friction_smoothing = options.friction_smoothing;
  model_options.hard_contact.smoothing = options.hard_smoothing;
  Quadruped robot{.model = mb::Model(file.bodies(), servos, model_options)};
  const mb::Model& model = robot.model;

  // Each calf's foot: its sphere's contact point.
  for (std::size_t leg = 0; leg < 4; ++leg) {
    const auto calf = static_cast<int>(servos[3 * leg + 2].body);
    robot.calves[leg] = static_cast<std::size_t>(calf);
    const auto& points = model.contact_points();
    const auto found = std::find_if(points.begin(), points.end(), [&](const mb::ContactPoint& c) {
      return c.body == calf && c.radius > 0.0;
    });
    if (found == points.end()) {
      throw ValueError("make_quadruped: the calf '" + model.body(robot.calves[leg]).name +
                       "' has no spherical foot");
    }
    robot.feet[leg] = static_cast<std::size_t>(found - points.begin());
  }
  for (const mb::ContactPoint& point : model.contact_points()) {
    robot.trunk_points += point.body == 0 ? 1 : 0;
  }
  for (const mb::Geom& geom : model.body(0).geoms) {
    if (geom.type == mb::ShapeType::kBox) robot.body_length = 2.0 * geom.size[0];
  }
  if (robot.body_length == 0.0) robot.body_length = 1.0;

  // The standing posture (the targets' mean at the start of training) and the posture the walk
  // starts from, each foot under its hip.
  const mb::ContactPoint& foot = model.contact_points()[robot.feet[0]];
  const double thigh = norm(model.body(robot.calves[0]).joint_position);
  const double calf = norm(foot.position);
  robot.posture = leg_posture(thigh, calf, foot.radius, options.stand_height, "stand_height");
  robot.start_posture = leg_posture(thigh, calf, foot.radius, options.start_height, "start_height");
  robot.initial_state = model.zero_state();
  const StateColumns columns = state_columns(robot);
  for (std::size_t j = 0; j < kJointCount; ++j) {
    robot.initial_state[static_cast<std::size_t>(columns.angle[j])] = robot.start_posture[j];
  }
  // Lower the trunk until the lowest foot touches the ground.
  const std::vector<double> params = model.parameters();
  const std::vector<double> poses = mb::body_poses(
      model, params, std::span<const double>(robot.initial_state.data(), model.nq()));
  double lowest = std::numeric_limits<double>::infinity();
  for (std::size_t leg = 0; leg < 4; ++leg) {
    const mb::Vec3 at = world_point(poses.data() + 7 * robot.calves[leg],
                                    model.contact_points()[robot.feet[leg]].position);
    lowest = std::min(lowest, at[2]);
  }
  robot.initial_state[2] = foot.radius - lowest;
  return robot;
}

namespace {

// r(t): a smoothstep from 0 to 1 over options.ramp.
double ramp(std::size_t step, const QuadrupedGaitOptions& options) {
  const double time = static_cast<double>(step) * options.dt;
  const double s = options.ramp > 0.0 ? std::min(1.0, time / options.ramp) : 1.0;
  return s * s * (3.0 - 2.0 * s);
}

}  // namespace

Tensor gait_basis(const QuadrupedGaitOptions& options) {
  check_options(options);
  const std::size_t rows = 1 + 2 * options.harmonics, steps = options.steps;
  std::vector<double> basis(rows * steps);
  for (std::size_t t = 0; t < steps; ++t) {
    const double time = static_cast<double>(t) * options.dt;
    const double fade = ramp(t, options);
    basis[t] = 1.0;
    for (std::size_t k = 1; k <= options.harmonics; ++k) {
      const double phase =
          2.0 * std::numbers::pi * static_cast<double>(k) * options.frequency * time;
      basis[(2 * k - 1) * steps + t] = fade * std::sin(phase);
      basis[2 * k * steps + t] = fade * std::cos(phase);
    }
  }
  return Tensor::from_data(basis, {rows, steps});
}

namespace {

// (1 - r(t)) (s_j - p_j) [T, J]: the start posture's offset from the standing one, faded out.
std::vector<double> start_term(const Quadruped& robot, const QuadrupedGaitOptions& options) {
  const std::size_t steps = options.steps;
  std::vector<double> term(steps * kJointCount);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t j = 0; j < kJointCount; ++j) {
      term[t * kJointCount + j] =
          (1.0 - ramp(t, options)) * (robot.start_posture[j] - robot.posture[j]);
    }
  }
  return term;
}

}  // namespace

Tensor trot_in_place(const Quadruped& robot, const QuadrupedGaitOptions& options) {
  const std::size_t columns = 1 + 2 * options.harmonics;
  std::vector<double> gait(kJointCount * columns, 0.0);
  for (std::size_t leg = 0; leg < 4; ++leg) {
    for (std::size_t j = 0; j < 3; ++j) {
      gait[(3 * leg + j) * columns] = robot.posture[3 * leg + j];
    }
    // Front left and hind right (legs 0 and 3) bend their knees together, the other pair half a
    // period later: sin for one, -sin for the other, so the mean posture holds the trunk.
    const double sign = leg == 0 || leg == 3 ? 1.0 : -1.0;
    gait[(3 * leg + 2) * columns + 1] = 0.25 * sign;
  }
  return Tensor::from_data(gait, {kJointCount, columns});
}

std::vector<double> gait_targets(const Quadruped& robot, const Tensor& gait,
                                 const QuadrupedGaitOptions& options) {
  const Tensor basis = gait_basis(options);
  const std::size_t rows = basis.shape()[0], steps = options.steps;
  if (gait.ndim() != 2 || gait.shape()[0] != kJointCount || gait.shape()[1] != rows) {
    throw ShapeError("gait_targets: the gait must be [12, " + std::to_string(rows) + "], got " +
                     shape_string(gait.shape()));
  }
  std::vector<double> targets = start_term(robot, options);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t j = 0; j < kJointCount; ++j) {
      double u = targets[t * kJointCount + j];
      for (std::size_t r = 0; r < rows; ++r) {
        u += gait.data()[j * rows + r] * basis.data()[r * steps + t];
      }
      targets[t * kJointCount + j] = u;
    }
  }
  return targets;
}

TensorVar gait_loss(const Quadruped& robot, const QuadrupedGaitOptions& options, TensorVar gait,
                    TensorVar* distance) {
  TensorTape& tape = gait.tape();
  const mb::Model& model = robot.model;
  const std::size_t steps = options.steps;
  // u_t = (1 - r(t)) (s - p) + gait basis[:, t], every step's targets at once: [T, J].
  const TensorVar targets =
      transpose(matmul(gait, tape.constant(gait_basis(options)))) +
      tape.constant(Tensor::from_data(start_term(robot, options), {steps, kJointCount}));
  const TensorVar params =
      tape.constant(Tensor::from_data(model.parameters(), {model.num_parameters()}));
  std::vector<TensorVar> states;
  states.reserve(steps + 1);
  states.push_back(tape.constant(Tensor::from_data(robot.initial_state, {model.nx()})));
  for (std::size_t t = 0; t < steps; ++t) {
    states.push_back(mb::step(model, states.back(), select(targets, 0, static_cast<long>(t)),
                              params, options.dt));
  }
  const TensorVar path = stack(states, 0);  // [T + 1, nx]
  const TensorVar before = slice(path, 0, 0, static_cast<long>(steps));
  const TensorVar after = slice(path, 0, 1, static_cast<long>(steps) + 1);

  const TensorVar& end = states.back();
  const TensorVar walked = select(end, 0, 0) - robot.initial_state[0];
  if (distance != nullptr) *distance = walked;
  // (1 - R_zz) / 2 = qx^2 + qy^2: the trunk's tilt from level, whatever its heading.
  const std::int64_t tilt_columns[] = {4, 5};
  const TensorVar height = square(select(after, 1, 2) - options.stand_height);
  const TensorVar tilt = 2.0 * sum(square(index_select(after, 1, tilt_columns)), 1);
  const TensorVar heading = square(select(after, 1, 6));
  const StateColumns columns = state_columns(robot);
  const TensorVar torque = options.kp * (targets - index_select(before, 1, columns.angle)) -
                           options.kv * index_select(before, 1, columns.rate);
  const TensorVar drift = select(end, 0, 1) - robot.initial_state[1];
  return -walked + options.height_weight * mean(height) + options.upright_weight * mean(tilt) +
         options.heading_weight * (mean(heading) + square(drift)) +
         options.effort_weight * mean(sum(square(torque), 1));
}

optim::Objective gait_objective(const Quadruped& robot, const QuadrupedGaitOptions& options,
                                std::vector<double>* distance) {
  return [&robot, options, distance](std::span<const Tensor> values, std::span<Tensor> gradients) {
    try {
      TensorTape tape;
      const TensorVar gait = tape.var(values[0]);
      TensorVar walked;
      const TensorVar loss = gait_loss(robot, options, gait, &walked);
      gradients[0] = tape.grad(loss)[gait];
      if (distance != nullptr) distance->push_back(walked.item());
      return loss.item();
    } catch (const ConvergenceError&) {
    } catch (const NonFiniteError&) {
    }
    gradients[0] = Tensor::full(values[0].shape(), std::numeric_limits<double>::quiet_NaN());
    if (distance != nullptr) distance->push_back(0.0);
    return std::numeric_limits<double>::infinity();
  };
}

GaitReplay replay_gait(const Quadruped& robot, const QuadrupedGaitOptions& options,
                       const Tensor& gait) {
  const mb::Model& model = robot.model;
  const std::size_t steps = options.steps, nx = model.nx();
  const std::vector<double> targets = gait_targets(robot, gait, options);
  const std::vector<double> params = model.parameters();
  const StateColumns columns = state_columns(robot);
  const std::size_t points = model.contact_points().size();
  GaitReplay replay;
  replay.states.assign((steps + 1) * nx, 0.0);
  replay.contact.assign((steps + 1) * 4, 0.0);
  std::copy(robot.initial_state.begin(), robot.initial_state.end(), replay.states.begin());
  Workspace workspace;
  std::vector<double> force(points * 3, 0.0);
  std::array<mb::Vec3, 4> feet{};
  std::size_t stance_steps = 0;
  for (std::size_t t = 0; t <= steps; ++t) {
    const std::span<const double> x(replay.states.data() + t * nx, nx);
    if (t < steps) {
      const std::span<const double> u(targets.data() + t * kJointCount, kJointCount);
      for (std::size_t j = 0; j < kJointCount; ++j) {
        const double tau = options.kp * (u[j] - x[static_cast<std::size_t>(columns.angle[j])]) -
                           options.kv * x[static_cast<std::size_t>(columns.rate[j])];
        replay.max_torque = std::max(replay.max_torque, std::abs(tau));
      }
      std::vector<double> next;
      if (options.contact == mb::ContactModel::kHard) {
        mb::HardContactResult result =
            mb::hard_contact_step(model, params, x, u, options.dt, &workspace);
        for (std::size_t i = 0; i < force.size(); ++i) force[i] = result.impulses[i] / options.dt;
        next = std::move(result.state);
      } else {
        force = mb::contact_forces(model, params, x, &workspace);
        next = mb::step(model, params, x, u, options.dt, mb::Integrator::kSemiImplicitEuler,
                        &workspace);
      }
      std::copy(next.begin(), next.end(), replay.states.begin() + (t + 1) * nx);
    }
    // Under hard contact the load of a step's impulses is the step's; the last state repeats it.
    for (std::size_t leg = 0; leg < 4; ++leg) {
      replay.contact[t * 4 + leg] = force[3 * robot.feet[leg] + 2] > kLoaded ? 1.0 : 0.0;
    }
    for (std::size_t i = 0; i < points; ++i) {
      if (model.contact_points()[i].body == 0 && force[3 * i + 2] > kLoaded) {
        replay.trunk_touched = true;
      }
    }
    // Stance slip: how fast a foot loaded at both ends of a step moves along the ground.
    const std::vector<double> poses =
        mb::body_poses(model, params, x.first(model.nq()), &workspace);
    for (std::size_t leg = 0; leg < 4; ++leg) {
      const mb::Vec3 at = world_point(poses.data() + 7 * robot.calves[leg],
                                      model.contact_points()[robot.feet[leg]].position);
      if (t > 0 && replay.contact[t * 4 + leg] > 0.0 && replay.contact[(t - 1) * 4 + leg] > 0.0) {
        replay.stance_slip += std::hypot(at[0] - feet[leg][0], at[1] - feet[leg][1]) / options.dt;
        ++stance_steps;
      }
      feet[leg] = at;
    }
    const double height = x[2];
    const double tilt = std::acos(std::clamp(1.0 - 2.0 * (x[4] * x[4] + x[5] * x[5]), -1.0, 1.0));
    replay.mean_height += height / static_cast<double>(steps + 1);
    replay.min_height = t == 0 ? height : std::min(replay.min_height, height);
    replay.max_tilt = std::max(replay.max_tilt, tilt);
  }
  replay.stance_slip /= static_cast<double>(std::max<std::size_t>(stance_steps, 1));
  const double* start = replay.states.data();
  const double* half = replay.states.data() + (steps / 2) * nx;
  const double* end = replay.states.data() + steps * nx;
  replay.distance = end[0] - start[0];
  replay.body_lengths = replay.distance / robot.body_length;
  replay.second_half = end[0] - half[0];
  replay.lateral = std::abs(end[1] - start[1]);
  // A touchdown ends a swing: a foot unloaded for at least 30 ms, then loaded.
  const auto swing = static_cast<std::size_t>(std::ceil(0.03 / options.dt));
  for (std::size_t leg = 0; leg < 4; ++leg) {
    std::size_t unloaded = 0;
    for (std::size_t t = 0; t <= steps; ++t) {
      if (replay.contact[t * 4 + leg] > 0.0) {
        replay.touchdowns[leg] += unloaded >= swing ? 1 : 0;
        unloaded = 0;
      } else {
        ++unloaded;
      }
    }
  }
  return replay;
}

GaitTraining train_gait(const Quadruped& robot, const QuadrupedGaitOptions& options,
                        const Tensor& initial_gait, std::size_t iterations,
                        const optim::ProgressCallback& callback) {
  (void)gait_targets(robot, initial_gait, options);  // checks the gait's shape
  GaitTraining training;
  training.initial_gait = initial_gait;
  optim::ParameterSet parameters;
  parameters.add("gait", initial_gait);
  optim::LbfgsOptions lbfgs_options;
  lbfgs_options.line_search = optim::LineSearch::kBacktracking;
  // The backtracking search evaluates its accepted point last, so the latest evaluation's
  // distance is the iterate's.
  std::vector<double> evaluated;
  const optim::Objective objective = gait_objective(robot, options, &evaluated);
  const auto start = std::chrono::steady_clock::now();
  // Contact makes the loss piecewise smooth: where L-BFGS's curvature pairs straddle a switch its
  // line search may fail. Then it restarts from the current gait with an empty history.
  std::size_t done = 0, restarts = 0;
  optim::Result& result = training.result;
  while (done < iterations) {
    optim::Lbfgs lbfgs(parameters, lbfgs_options);
    optim::MinimizeOptions minimize;
    minimize.max_iterations = iterations - done;
    minimize.tolerance = 1e-9;
    const std::size_t offset = done;
    const bool first = done == 0 && restarts == 0;
    minimize.callback = [&](const optim::Progress& progress) {
      if (progress.iteration == 0 && !first) return;  // the previous run's last iterate
      training.distances.push_back(evaluated.empty() ? 0.0 : evaluated.back());
      if (callback) {
        callback({offset + progress.iteration, progress.loss, progress.gradient_norm,
                  result.evaluations + progress.evaluations});
      }
    };
    const optim::Result run = lbfgs.minimize(objective, minimize);
    const bool progressed = run.iterations > 0 && run.loss < run.loss_history.front();
    result.loss_history.insert(result.loss_history.end(),
                               run.loss_history.begin() + (first ? 0 : 1), run.loss_history.end());
    result.evaluations += run.evaluations;
    result.loss = run.loss;
    result.gradient_norm = run.gradient_norm;
    result.status = run.status;
    result.message = run.message;
    done += std::max<std::size_t>(run.iterations, 1);
    ++restarts;
    if (run.status == optim::Status::kMaxIterations || !progressed) break;
  }
  result.iterations = training.result.loss_history.size() - 1;
  training.restarts = restarts - 1;
  training.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  training.gait = parameters.value(0);
  return training;
}

}  // namespace maya::tasks
