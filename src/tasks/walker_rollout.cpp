// The fused walker rollout: the robot flattened into a WalkerLayout, the controllers packed one
// robot to a row, and the phases of walker_kernel.hpp run on the CPU (one robot per thread) or
// handed to the GPU kernels (tasks/cuda/).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tasks/walker.hpp"
#include "tasks/walker_device_state.hpp"
#include "tasks/walker_kernel.hpp"
#if defined(MAYA_HAVE_CUDA)
#include "tasks/cuda/walker_rollout_cuda.hpp"
#endif

namespace maya::tasks {
namespace {

constexpr const char* kOp = "walker_rollout";

// The robot's arrays a WalkerLayout points into (not copyable: the layout points into it).
struct LayoutArrays {
  std::vector<int> first, second, incidence_begin, incidence, muscle_of;
  std::vector<double> rest, start;
  detail::WalkerLayout layout{};

  LayoutArrays() = default;
  LayoutArrays(const LayoutArrays&) = delete;
  LayoutArrays& operator=(const LayoutArrays&) = delete;
};

void layout_of(const WalkerOptions& options, const WalkerRobot& robot, LayoutArrays& a) {
  const dynamics::MassSpringModel& model = robot.model;
  if (model.dim() != 2) throw ShapeError(std::string(kOp) + ": the robot must be 2-D");
  const std::size_t n = model.num_particles();
  const std::size_t s = model.num_springs();
  a.first.assign(model.end_a().begin(), model.end_a().end());
  a.second.assign(model.end_b().begin(), model.end_b().end());
  // Each particle's springs in spring order, as MassSpringModel's incidence lists them.
  a.incidence_begin.assign(n + 1, 0);
  for (std::size_t e = 0; e < s; ++e) {
    ++a.incidence_begin[static_cast<std::size_t>(a.first[e]) + 1];
    ++a.incidence_begin[static_cast<std::size_t>(a.second[e]) + 1];
  }
  for (std::size_t i = 0; i < n; ++i) a.incidence_begin[i + 1] += a.incidence_begin[i];
  a.incidence.assign(2 * s, 0);
  std::vector<int> next(a.incidence_begin.begin(), a.incidence_begin.end() - 1);
  for (std::size_t e = 0; e < s; ++e) {
    const int code = static_cast<int>(e) << 1;
    a.incidence[static_cast<std::size_t>(next[static_cast<std::size_t>(a.first[e])]++)] = code | 1;
    a.incidence[static_cast<std::size_t>(next[static_cast<std::size_t>(a.second[e])]++)] = code;
  }
  a.muscle_of.assign(s, -1);
  for (std::size_t m = 0; m < robot.actuated.size(); ++m) {
    a.muscle_of[robot.actuated[m]] = static_cast<int>(m);
  }
  const auto rest = robot.rest_length.data();
  a.rest.assign(rest.begin(), rest.end());
  const auto start = robot.positions.data();
  a.start.assign(start.begin(), start.end());

  const WalkerShape& shape = options.shape;
  const dynamics::GroundContact& ground = model.ground();
  detail::WalkerLayout& l = a.layout;
  l.particles = static_cast<int>(n);
  l.springs = static_cast<int>(s);
  l.muscles = static_cast<int>(robot.actuated.size());
  l.sines = static_cast<int>(options.sine_waves);
  l.hidden = static_cast<int>(options.hidden);
  l.inputs = static_cast<int>(options.sine_waves + 4 * n);
  l.steps = static_cast<int>(options.steps);
  l.first = a.first.data();
  l.second = a.second.data();
  l.incidence_begin = a.incidence_begin.data();
  l.incidence = a.incidence.data();
  l.muscle_of = a.muscle_of.data();
  l.rest = a.rest.data();
  l.start = a.start.data();
  l.mass = shape.mass;
  l.stiffness = shape.stiffness;
  l.damping = shape.damping;
  l.actuation = shape.actuation;
  l.gravity[0] = model.gravity()[0];
  l.gravity[1] = model.gravity()[1];
  l.ground = ground.enabled;
  l.ground_height = ground.height;
  l.ground_stiffness = ground.stiffness;
  l.ground_damping = ground.damping;
  l.friction = ground.friction;
  l.slip_velocity = ground.slip_velocity;
  l.dt = options.dt;
  l.frequency = options.frequency;
  l.position_scale = options.state_input / shape.cell;
  l.velocity_scale = 0.1 * options.state_input / shape.cell;
}

// Robot e's controller in one row [P] of `packed` [E, P], and back.
void pack(const detail::WalkerLayout& l, std::span<const Tensor> controllers, std::size_t robots,
          std::vector<double>& packed) {
  const auto p = static_cast<std::size_t>(detail::controller_size(l));
  packed.resize(robots * p);
  for (std::size_t e = 0; e < robots; ++e) {
    double* row = packed.data() + e * p;
    for (const Tensor& part : controllers) {
      const std::size_t per = part.numel() / robots;
      std::memcpy(row, part.data().data() + e * per, per * sizeof(double));
      row += per;
    }
  }
}
std::vector<Tensor> unpack(const detail::WalkerLayout& l, std::span<const Tensor> like,
                           std::size_t robots, const std::vector<double>& packed) {
  const auto p = static_cast<std::size_t>(detail::controller_size(l));
  std::vector<Tensor> out;
  std::size_t offset = 0;
  for (const Tensor& part : like) {
    const std::size_t per = part.numel() / robots;
    std::vector<double> values(part.numel());
    for (std::size_t e = 0; e < robots; ++e) {
      std::memcpy(values.data() + e * per, packed.data() + e * p + offset, per * sizeof(double));
    }
    out.push_back(Tensor::from_data(std::move(values), part.shape()));
    offset += per;
  }
  return out;
}

// Robot `row`'s rollout on this thread: its distance, its gradient into `gradient` [P] when
// given, its states [T + 1, 2, N, 2] into `history` (kept for the reverse pass).
double rollout_on_cpu(const detail::WalkerLayout& l, double* controller, double* gradient,
                      std::vector<double>& history, std::vector<double>& scratch) {
  const auto state = static_cast<std::size_t>(4 * l.particles);
  history.resize(static_cast<std::size_t>(l.steps + 1) * state);
  scratch.assign(static_cast<std::size_t>(detail::walker_scratch_size(l)), 0.0);
  const detail::Controller c = detail::controller_at(l, controller);
  const detail::WalkerScratch s = detail::carve_scratch(l, scratch.data());
  std::copy(l.start, l.start + 2 * l.particles, s.x);
  std::fill(s.v, s.v + 2 * l.particles, 0.0);
  std::copy(s.x, s.x + state, history.begin());
  for (int t = 0; t < l.steps; ++t) {
    MAYA_WALKER_FORWARD_STEP(l, c, s, t, 0, 1, (void)0);
    std::copy(s.x, s.x + state, history.begin() + static_cast<long>((t + 1) * state));
  }
  const double distance = detail::walked(l, l.start, s.x);
  if (gradient == nullptr) return distance;
  const detail::Controller grad = detail::controller_at(l, gradient);
  std::fill(gradient, gradient + detail::controller_size(l), 0.0);
  for (std::size_t j = 0; j < state; ++j) {
    s.g_x[j] = j < state / 2 && j % 2 == 0 ? -1.0 / static_cast<double>(l.particles) : 0.0;
  }
  for (int t = l.steps - 1; t >= 0; --t) {
    std::copy(history.begin() + static_cast<long>(t * state),
              history.begin() + static_cast<long>((t + 1) * state), s.x);
    MAYA_WALKER_REVERSE_STEP(l, c, grad, s, t, 0, 1, (void)0);
  }
  return distance;
}

void check_controllers(const WalkerOptions& options, const WalkerRobot& robot,
                       std::span<const Tensor> controllers) {
  const std::size_t e = options.robots;
  const std::size_t in = options.sine_waves + 4 * robot.model.num_particles();
  const std::size_t h = options.hidden;
  const std::size_t a = robot.actuated.size();
  const Shape expected[4] = {{e, in, h}, {e, 1, h}, {e, h, a}, {e, 1, a}};
  const char* names[4] = {"W1", "b1", "W2", "b2"};
  if (controllers.size() != 4) {
    throw ShapeError(std::string(kOp) + ": 4 controller tensors (W1, b1, W2, b2) expected, got " +
                     std::to_string(controllers.size()));
  }
  for (std::size_t k = 0; k < 4; ++k) {
    if (!std::ranges::equal(controllers[k].shape(), expected[k])) {
      throw ShapeError(std::string(kOp) + ": " + names[k] + " must be " +
                       shape_string(expected[k]) + ", got " + shape_string(controllers[k].shape()));
    }
    if (controllers[k].device() != Device::kCpu) {
      throw DeviceError(std::string(kOp) + ": the controllers must be on the CPU");
    }
  }
}

}  // namespace

int walker_cuda_devices() noexcept {
#if defined(MAYA_HAVE_CUDA)
  return detail::cuda_walker_devices();
#else
  return 0;
#endif
}

WalkerRollout walker_rollout(const WalkerOptions& options, const WalkerRobot& robot,
                             std::span<const Tensor> controllers, Device device, bool gradient,
                             io::Trajectory* record, std::size_t recorded, std::size_t every) {
  const std::size_t e = options.robots;
  (void)check_at_least(e, 1, "walker_rollout: robots");
  (void)check_at_least(options.steps, 1, "walker_rollout: steps");
  (void)check_at_least(every, 1, "walker_rollout: every");
  if (record != nullptr && recorded >= e) {
    throw ValueError(std::string(kOp) + ": robot " + std::to_string(recorded) + " recorded of " +
                     std::to_string(e) + " (robots are numbered from 0)");
  }
  check_controllers(options, robot, controllers);
  LayoutArrays arrays;
  layout_of(options, robot, arrays);
  const detail::WalkerLayout& l = arrays.layout;
  const auto p = static_cast<std::size_t>(detail::controller_size(l));
  const std::size_t state = 4 * robot.model.num_particles();
  std::vector<double> packed;
  pack(l, controllers, e, packed);
  WalkerRollout out;
  out.distance.assign(e, 0.0);
  std::vector<double> gradients(gradient ? e * p : 0);
  std::vector<double> states;  // the recorded robot's [T + 1, 2, N, 2]
  if (device == Device::kCuda) {
#if defined(MAYA_HAVE_CUDA)
    if (detail::cuda_walker_devices() == 0) {
      throw DeviceError(std::string(kOp) + ": Device::kCuda asked for, but no CUDA GPU is present");
    }
    if (record != nullptr) states.resize((options.steps + 1) * state);
    out.kernel_seconds = detail::cuda_walker_rollout(
        l, e, packed.data(), out.distance.data(), gradient ? gradients.data() : nullptr, recorded,
        record != nullptr ? states.data() : nullptr);
#else
    throw DeviceError(std::string(kOp) +
                      ": Device::kCuda asked for, but maya was built without CUDA (MAYA_CUDA)");
#endif
  } else {
    core::detail::parallel_for(e, 1, 1, [&](std::size_t begin, std::size_t end) {
      std::vector<double> history;
      std::vector<double> scratch;
      for (std::size_t w = begin; w < end; ++w) {
        out.distance[w] =
            rollout_on_cpu(l, packed.data() + w * p, gradient ? gradients.data() + w * p : nullptr,
                           history, scratch);
        if (record != nullptr && w == recorded) states = history;
      }
    });
  }
  if (gradient) out.gradient = unpack(l, controllers, e, gradients);
  if (record != nullptr) {
    const std::size_t n = robot.model.num_particles();
    record->num_particles = n;
    for (std::size_t t = 0; t <= options.steps; t += every) {
      const double* values = states.data() + t * state;
      record->times.push_back(options.dt * static_cast<double>(t));
      record->positions.insert(record->positions.end(), values, values + 2 * n);
      record->velocities.insert(record->velocities.end(), values + 2 * n, values + 4 * n);
    }
  }
  return out;
}

namespace detail {

struct WalkerDeviceState {
  LayoutArrays arrays;
#if defined(MAYA_HAVE_CUDA)
  std::unique_ptr<CudaWalkerTraining> training;
#endif
};

void WalkerDeviceStateDeleter::operator()(WalkerDeviceState* state) const noexcept { delete state; }

std::unique_ptr<WalkerDeviceState, WalkerDeviceStateDeleter> make_walker_device_state(
    const WalkerOptions& options, const WalkerRobot& robot, std::span<const Tensor> controllers) {
  check_controllers(options, robot, controllers);
  std::unique_ptr<WalkerDeviceState, WalkerDeviceStateDeleter> state(new WalkerDeviceState);
  layout_of(options, robot, state->arrays);
#if defined(MAYA_HAVE_CUDA)
  if (cuda_walker_devices() == 0) {
    throw DeviceError("WalkerTraining: Device::kCuda asked for, but no CUDA GPU is present");
  }
  std::vector<double> packed;
  pack(state->arrays.layout, controllers, options.robots, packed);
  state->training =
      std::make_unique<CudaWalkerTraining>(state->arrays.layout, options.robots, packed.data());
  return state;
#else
  throw DeviceError(
      "WalkerTraining: Device::kCuda asked for, but maya was built without CUDA (MAYA_CUDA)");
#endif
}

std::vector<double> iterate_on_device(WalkerDeviceState& state, const optim::AdamOptions& adam,
                                      std::size_t t) {
  std::vector<double> distances;
#if defined(MAYA_HAVE_CUDA)
  // The bias corrections as optim::Adam computes them.
  const double step = static_cast<double>(t);
  const WalkerAdamStep settings{adam.learning_rate,
                                adam.beta1,
                                adam.beta2,
                                adam.epsilon,
                                adam.weight_decay,
                                adam.decoupled_weight_decay,
                                1.0 - std::pow(adam.beta1, step),
                                1.0 - std::pow(adam.beta2, step)};
  distances.assign(state.training->robots(), 0.0);
  (void)state.training->iterate(settings, distances.data());
#else
  (void)state;
  (void)adam;
  (void)t;
#endif
  return distances;
}

std::vector<Tensor> controllers_on_device(const WalkerDeviceState& state,
                                          std::span<const Tensor> like, bool best) {
#if defined(MAYA_HAVE_CUDA)
  const std::size_t robots = state.training->robots();
  std::vector<double> packed(robots *
                             static_cast<std::size_t>(controller_size(state.arrays.layout)));
  if (best) {
    state.training->best_controllers(packed.data());
  } else {
    state.training->controllers(packed.data());
  }
  return unpack(state.arrays.layout, like, robots, packed);
#else
  (void)state;
  (void)best;
  return {like.begin(), like.end()};
#endif
}

}  // namespace detail

}  // namespace maya::tasks
