// Mass-spring robots that learn to walk: the robot of square cells, its controller recorded as
// tensor ops step by step, and Adam on every robot's controller at once.
#include "maya/tasks/walker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <string>
#include <utility>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "tasks/walker_device_state.hpp"

namespace maya::tasks {
namespace {

// Corner (column, row) of the grid of cells.
using Corner = std::pair<std::size_t, std::size_t>;

}  // namespace

WalkerRobot make_walker(const WalkerShape& shape) {
  (void)check_at_least(shape.body_cells, 2, "make_walker: body_cells");
  (void)check_positive(shape.cell, "make_walker: cell");
  (void)check_in_range(shape.actuation, 0.0, 0.9, "make_walker: actuation");
  // Cells (column, row): the body's row sits on legs under its first and last column.
  std::vector<Corner> cells;
  for (std::size_t c = 0; c < shape.body_cells; ++c) cells.push_back({c, shape.leg_cells});
  for (std::size_t r = 0; r < shape.leg_cells; ++r) {
    cells.push_back({0, r});
    cells.push_back({shape.body_cells - 1, r});
  }
  std::map<Corner, std::size_t> index;  // corner -> particle, numbered row by row
  for (const auto& [c, r] : cells) {
    for (const Corner& corner :
         {Corner{c, r}, Corner{c + 1, r}, Corner{c, r + 1}, Corner{c + 1, r + 1}}) {
      index.emplace(Corner{corner.second, corner.first}, 0);  // keyed (row, column) for order
    }
  }
  std::vector<double> positions;
  std::size_t next = 0;
  for (auto& [row_column, particle] : index) {
    particle = next++;
    positions.push_back(shape.cell * static_cast<double>(row_column.second));
    positions.push_back(shape.cell * static_cast<double>(row_column.first));
  }
  const auto particle_at = [&](std::size_t c, std::size_t r) { return index.at({r, c}); };
  std::set<std::pair<std::size_t, std::size_t>> seen;
  std::vector<std::int64_t> first, second;
  std::vector<std::size_t> actuated;
  for (const auto& [c, r] : cells) {
    const std::size_t corner[4] = {particle_at(c, r), particle_at(c + 1, r),
                                   particle_at(c + 1, r + 1), particle_at(c, r + 1)};
    // Four edges, then two diagonals; an edge two cells share is one spring.
    const std::pair<std::size_t, std::size_t> springs[6] = {
        {corner[0], corner[1]}, {corner[1], corner[2]}, {corner[3], corner[2]},
        {corner[0], corner[3]}, {corner[0], corner[2]}, {corner[1], corner[3]}};
    for (std::size_t k = 0; k < 6; ++k) {
      const auto [a, b] = springs[k];
      if (!seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
      // A leg's springs below its top edge are its muscles.
      const bool top_edge = k == 2;
      if (r < shape.leg_cells && !top_edge) actuated.push_back(first.size());
      first.push_back(static_cast<std::int64_t>(a));
      second.push_back(static_cast<std::int64_t>(b));
    }
  }
  const std::size_t n = index.size();
  Tensor start = Tensor::from_data(std::move(positions), {n, 2});
  dynamics::MassSpringModel model(n, 2, std::move(first), std::move(second), {0.0, -9.81},
                                  shape.ground);
  Tensor rest = model.rest_lengths_of(start);
  return {std::move(model), std::move(start), std::move(rest), std::move(actuated),
          shape.cell * static_cast<double>(shape.body_cells)};
}

namespace {

std::size_t inputs_of(const WalkerOptions& options, const WalkerRobot& robot) {
  return options.sine_waves + 4 * robot.model.num_particles();
}

// Weights N(0, 2 / (fan_in + fan_out)) per robot, seed + e; biases zero.
optim::ParameterSet initial_controllers(const WalkerOptions& options, const WalkerRobot& robot) {
  (void)check_at_least(options.robots, 1, "WalkerTraining: robots");
  (void)check_at_least(options.steps, 1, "WalkerTraining: steps");
  (void)check_at_least(options.hidden, 1, "WalkerTraining: hidden");
  (void)check_at_least(options.sine_waves, 1, "WalkerTraining: sine_waves");
  (void)check_positive(options.dt, "WalkerTraining: dt");
  if (options.device == Device::kCuda && walker_cuda_devices() == 0) {
    throw DeviceError(
        "WalkerTraining: Device::kCuda asked for, but no CUDA GPU is present (or maya was built "
        "without CUDA); use Device::kCpu");
  }
  const std::size_t e = options.robots;
  const std::size_t in = inputs_of(options, robot);
  const std::size_t h = options.hidden;
  const std::size_t a = robot.actuated.size();
  optim::ParameterSet set;
  set.add("w1",
          Tensor::normal({e, in, h}, 0.0, 2.0 * std::sqrt(2.0 / double(in + h)), options.seed));
  set.add("b1", Tensor::zeros({e, 1, h}));
  set.add("w2", Tensor::normal({e, h, a}, 0.0, 2.0 * std::sqrt(2.0 / double(h + a)),
                               options.seed + 7919));
  set.add("b2", Tensor::zeros({e, 1, a}));
  return set;
}

std::vector<double> values_of(TensorVar distance) {
  const auto d = distance.view().data();
  return {d.begin(), d.end()};
}

}  // namespace

TensorVar walk_distance(const WalkerOptions& options, const WalkerRobot& robot,
                        const WalkerController& controller, io::Trajectory* record,
                        std::size_t recorded, std::size_t every) {
  TensorTape& tape = controller.w1.tape();
  const std::size_t e = options.robots;
  if (record != nullptr && recorded >= e) {
    throw ValueError("walk_distance: robot " + std::to_string(recorded) + " recorded of " +
                     std::to_string(e) + " (robots are numbered from 0)");
  }
  (void)check_at_least(every, 1, "walk_distance: every");
  const std::size_t n = robot.model.num_particles();
  const std::size_t s = robot.model.num_springs();
  const std::size_t a = robot.actuated.size();
  const WalkerShape& shape = options.shape;
  // Constant per robot: masses, stiffnesses, dampings; the actuators' map onto the springs,
  // M [A, S] with M[j, actuated[j]] = actuation, and the rest lengths L [S].
  const dynamics::SpringParameters fixed{tape.constant(Tensor::full({e, n}, shape.mass)),
                                         tape.constant(Tensor::full({e, s}, shape.stiffness)),
                                         tape.constant(Tensor::full({e, s}, shape.damping)),
                                         TensorVar{}};
  std::vector<double> map(a * s, 0.0);
  for (std::size_t j = 0; j < a; ++j) map[j * s + robot.actuated[j]] = shape.actuation;
  const TensorVar muscles = tape.constant(Tensor::from_data(std::move(map), {a, s}));
  const TensorVar rest = tape.constant(robot.rest_length);

  std::vector<double> start;
  const auto x0 = robot.positions.data();
  for (std::size_t w = 0; w < e; ++w) {
    start.insert(start.end(), x0.begin(), x0.end());
    start.insert(start.end(), 2 * n, 0.0);
  }
  TensorVar state = tape.constant(Tensor::from_data(std::move(start), {e, 2, n, 2}));
  const TensorVar start_x = mean(select(select(state, 1, 0), 2, 0), 1);  // [E]
  const double per_cell = 1.0 / shape.cell;
  std::vector<double> sines(e * options.sine_waves);
  for (std::size_t t = 0;; ++t) {
    if (record != nullptr && t % every == 0) {
      const auto values = state.view().data().subspan(recorded * 4 * n, 4 * n);
      record->times.push_back(options.dt * static_cast<double>(t));
      record->positions.insert(record->positions.end(), values.begin(), values.begin() + 2 * n);
      record->velocities.insert(record->velocities.end(), values.begin() + 2 * n, values.end());
    }
    if (t == options.steps) break;
    const double time = options.dt * static_cast<double>(t);
    for (std::size_t j = 0; j < options.sine_waves; ++j) {
      const double phase = 2.0 * std::numbers::pi *
                           (options.frequency * time + double(j) / double(options.sine_waves));
      for (std::size_t w = 0; w < e; ++w) sines[w * options.sine_waves + j] = std::sin(phase);
    }
    // The state: positions about the centre in cells, velocities in 10 cells per second.
    const TensorVar x = select(state, 1, 0);  // [E, N, 2]
    const TensorVar v = select(state, 1, 1);
    const TensorVar relative = (x - mean(x, 1, true)) * (options.state_input * per_cell);
    const TensorVar input =
        concat({tape.constant(Tensor::from_data(sines, {e, 1, options.sine_waves})),
                reshape(relative, {e, 1, 2 * n}),
                reshape(v * (0.1 * options.state_input * per_cell), {e, 1, 2 * n})},
               2);                                                                 // [E, 1, I]
    const TensorVar hidden = tanh(matmul(input, controller.w1) + controller.b1);   // [E, 1, H]
    const TensorVar action = tanh(matmul(hidden, controller.w2) + controller.b2);  // [E, 1, A]
    // L_e (1 + a_e): the network's output feeds the fused step's rest lengths directly.
    dynamics::SpringParameters params = fixed;
    params.rest_length = rest * (matmul(reshape(action, {e, a}), muscles) + 1.0);  // [E, S]
    state = robot.model.step(state, params, options.dt);
  }
  return mean(select(select(state, 1, 0), 2, 0), 1) - start_x;
}

WalkerTraining::WalkerTraining(WalkerOptions options)
    : options_(std::move(options)),
      robot_(make_walker(options_.shape)),
      parameters_(initial_controllers(options_, robot_)),
      adam_(parameters_, {.learning_rate = options_.learning_rate}),
      best_(options_.robots, -std::numeric_limits<double>::infinity()),
      best_iteration_(options_.robots, 0),
      best_controllers_(parameters_.values().begin(), parameters_.values().end()) {}

WalkerTraining::~WalkerTraining() = default;

namespace {

// The distances and gradients of one iteration on the CPU, through the tape.
std::pair<std::vector<double>, std::vector<Tensor>> distances_and_gradients(
    const WalkerOptions& options, const WalkerRobot& robot, const optim::ParameterSet& set) {
  TensorTape tape;
  const WalkerController controller{tape.var(set.value(0)), tape.var(set.value(1)),
                                    tape.var(set.value(2)), tape.var(set.value(3))};
  const TensorVar distance = walk_distance(options, robot, controller);
  const auto gradients = tape.grad(-sum(distance));
  return {values_of(distance),
          {gradients[controller.w1], gradients[controller.b1], gradients[controller.w2],
           gradients[controller.b2]}};
}

// Robot e's rollout under `controllers`, every `every`-th state a frame, on the training's device.
io::Trajectory record_with(const WalkerOptions& options, const WalkerRobot& robot,
                           std::span<const Tensor> controllers, std::size_t e, std::size_t every) {
  io::Trajectory trajectory;
  trajectory.num_particles = robot.model.num_particles();
  if (options.device == Device::kCuda) {
    (void)walker_rollout(options, robot, controllers, Device::kCuda, false, &trajectory, e, every);
    return trajectory;
  }
  TensorTape tape;
  const WalkerController controller{tape.constant(controllers[0]), tape.constant(controllers[1]),
                                    tape.constant(controllers[2]), tape.constant(controllers[3])};
  (void)walk_distance(options, robot, controller, &trajectory, e, every);
  return trajectory;
}

}  // namespace

std::vector<double> WalkerTraining::iterate() {
  const std::size_t e = options_.robots;
  std::vector<double> walked;
  if (options_.device == Device::kCuda) {
    if (device_ == nullptr) {
      device_ = detail::make_walker_device_state(options_, robot_, parameters_.values());
    }
    walked = detail::iterate_on_device(*device_, adam_.options(), history_.size() + 1);
    parameters_stale_ = true;
  } else {
    auto [distances, g] = distances_and_gradients(options_, robot_, parameters_);
    walked = std::move(distances);
    // Each robot's slice of every gradient is its own: a robot whose gradient blew up takes
    // this update with a zero gradient, the others take theirs.
    for (std::size_t w = 0; w < e; ++w) {
      bool finite = true;
      for (const Tensor& tensor : g) {
        const std::size_t per = tensor.numel() / e;
        for (std::size_t i = w * per; finite && i < (w + 1) * per; ++i) {
          finite = std::isfinite(tensor.data()[i]);
        }
      }
      if (finite) continue;
      for (Tensor& tensor : g) {
        const std::size_t per = tensor.numel() / e;
        for (std::size_t i = w * per; i < (w + 1) * per; ++i) tensor.mutable_data()[i] = 0.0;
      }
    }
    // The controllers that walked farthest yet, before the update moves them.
    for (std::size_t w = 0; w < e; ++w) {
      if (!(walked[w] > best_[w])) continue;
      for (std::size_t p = 0; p < best_controllers_.size(); ++p) {
        const auto from = parameters_.value(p).data();
        const std::size_t per = from.size() / e;
        std::copy(from.begin() + static_cast<long>(w * per),
                  from.begin() + static_cast<long>((w + 1) * per),
                  best_controllers_[p].mutable_data().begin() + static_cast<long>(w * per));
      }
    }
    adam_.step(g);
  }
  // The best distances as the GPU keeps them there: the same comparison of the same values.
  for (std::size_t w = 0; w < e; ++w) {
    if (!(walked[w] > best_[w])) continue;
    best_[w] = walked[w];
    best_iteration_[w] = history_.size();
  }
  history_.push_back(walked);
  return walked;
}

const optim::ParameterSet& WalkerTraining::controllers() const {
  if (parameters_stale_) {
    std::vector<Tensor> values =
        detail::controllers_on_device(*device_, parameters_.values(), false);
    for (std::size_t p = 0; p < values.size(); ++p) parameters_.set_value(p, std::move(values[p]));
    parameters_stale_ = false;
  }
  return parameters_;
}

std::vector<Tensor> WalkerTraining::best_controllers() const {
  if (device_ != nullptr)
    return detail::controllers_on_device(*device_, parameters_.values(), true);
  return best_controllers_;
}

io::Trajectory WalkerTraining::record_best(std::size_t robot, std::size_t every) const {
  return record_with(options_, robot_, best_controllers(), robot, every);
}

std::vector<double> WalkerTraining::distances() const {
  if (options_.device == Device::kCuda) {
    return walker_rollout(options_, robot_, controllers().values(), Device::kCuda, false).distance;
  }
  TensorTape tape;
  const WalkerController controller{
      tape.constant(parameters_.value(0)), tape.constant(parameters_.value(1)),
      tape.constant(parameters_.value(2)), tape.constant(parameters_.value(3))};
  return values_of(walk_distance(options_, robot_, controller));
}

io::Trajectory WalkerTraining::record(std::size_t robot, std::size_t every) const {
  return record_with(options_, robot_, controllers().values(), robot, every);
}

}  // namespace maya::tasks
