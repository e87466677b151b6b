// Mass-spring robots that learn to walk (the mass_spring task of DiffTaichi, Hu et al. 2020):
// a 2-D robot of square cells whose actuated springs change their rest lengths L_e (1 + a_e(t)),
// a_e from a small network of sine-wave phases and the robot's state, trained by Adam through
// the whole rollout (ground contact with friction). Many robots, each from its own random
// initial controller, train at once: on the CPU as the worlds of one batched mass-spring step
// recorded on the tensor tape, on a GPU one thread block per robot (walker_rollout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/optim/adam.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::tasks {

// The robot's shape: a body of `body_cells` square cells in a row, standing on two legs of
// `leg_cells` cells under its first and last cell. Particles sit at the cells' corners; every
// cell has its four edges and two diagonals as springs. The legs' springs below their top edges
// are actuated (muscles), each by its own output of the controller.
struct WalkerShape {
  std::size_t body_cells = 4;
  std::size_t leg_cells = 1;
  double cell = 0.1;       // m, the side of a cell
  double mass = 1.0;       // kg per particle
  double stiffness = 1e4;  // N/m per spring
  double damping = 50.0;   // N s/m per spring
  double actuation = 0.2;  // |a_e| <= actuation
  // Explicit steps resolve the smoothed friction while dt mu f_n / (m eps) < 2: eps = 0.2 m/s
  // keeps foot loads up to 20 m g stable at dt = 2 ms (and the gradient through 1000 steps
  // finite).
  dynamics::GroundContact ground{.enabled = true,
                                 .height = 0.0,
                                 .stiffness = 2e4,
                                 .damping = 100.0,
                                 .up_axis = 1,
                                 .friction = 1.0,
                                 .slip_velocity = 0.2};
};

struct WalkerRobot {
  dynamics::MassSpringModel model;
  Tensor positions;                   // [N, 2]: at rest, feet on the ground
  Tensor rest_length;                 // [S]: L_e
  std::vector<std::size_t> actuated;  // [A]: the spring each controller output drives
  double body_length = 0.0;           // m, the body's extent along x
};

[[nodiscard]] WalkerRobot make_walker(const WalkerShape& shape);

struct WalkerOptions {
  WalkerShape shape;
  std::size_t robots = 8;  // E, trained at once, each with its own controller drawn from seed
  std::size_t steps = 1000;
  double dt = 2e-3;            // s; steps * dt is the walk's duration
  std::size_t hidden = 32;     // the controller's hidden units
  std::size_t sine_waves = 8;  // sin(2 pi f t + 2 pi j / sine_waves), j < sine_waves
  double frequency = 2.0;      // f, Hz
  double state_input = 0.3;    // the state inputs' scale (0: the sines alone, open loop)
  double learning_rate = 0.01;
  std::uint64_t seed = 1;
  // Where WalkerTraining rolls out and differentiates. kCpu: through the tensor tape
  // (walk_distance: the batched fused step, threads over robots). kCuda: walker_rollout's GPU
  // kernels, one thread block per robot; WalkerTraining throws maya::DeviceError for it in a
  // build without CUDA or on a machine without a GPU.
  Device device = Device::kCpu;
};

// The controller of E robots: per robot e, h = tanh(W1_e [sines(t); state] + b1_e),
// a = actuation tanh(W2_e h + b2_e). The state is every particle's position relative to the
// robot's centre and its velocity, in cells and 10 cells per second.
//   W1 [E, I, H], b1 [E, 1, H], W2 [E, H, A], b2 [E, 1, A],  I = sine_waves + 4 N.
//
// Training maximizes each robot's distance walked: the mean x of its particles after `steps`
// steps less at the start. One iteration rolls every robot out, differentiates every distance
// through the whole rollout (the fused batched step of MassSpringModel, the network in tensor
// ops), and takes one Adam step on every robot's controller.
struct WalkerController {
  TensorVar w1, b1, w2, b2;  // on one tape
};

// Rolls E robots out for options.steps steps under their controllers (options.robots = E) and
// returns each one's distance [E] (m), recorded on the controller's tape. When `record` is
// given, robot `recorded`'s every `every`-th state is appended to it. Throws maya::ValueError
// for a recorded robot past E or every = 0, maya::ShapeError for controllers of other shapes.
[[nodiscard]] TensorVar walk_distance(const WalkerOptions& options, const WalkerRobot& robot,
                                      const WalkerController& controller,
                                      io::Trajectory* record = nullptr, std::size_t recorded = 0,
                                      std::size_t every = 1);

// The fused walker rollout: every robot's whole rollout and its hand-written adjoint, the
// network, the muscles' rest lengths, the springs, the ground and its friction in one loop per
// phase (src/tasks/walker_kernel.hpp), on the CPU one robot per thread (maya::set_num_threads),
// on a CUDA GPU one thread block per robot, one kernel per direction. walk_distance, recorded
// from tensor ops, is its composed twin: the same arithmetic, the same values to rounding.
struct WalkerRollout {
  std::vector<double> distance;  // [E] (m)
  // With `gradient`: d (-distance_e) / d (robot e's controller), as controllers (W1, b1, W2,
  // b2 of the shapes of WalkerController); empty otherwise.
  std::vector<Tensor> gradient;
  double kernel_seconds = 0.0;  // the GPU kernels' time (CUDA events); 0 on the CPU
};

// Rolls E = options.robots robots out under `controllers` (W1 [E, I, H], b1 [E, 1, H],
// W2 [E, H, A], b2 [E, 1, A], on the CPU) on `device`, with their gradients when `gradient`.
// When `record` is given, robot `recorded`'s every `every`-th state is appended to it. Throws
// maya::ShapeError for controllers of other shapes, maya::ValueError for a recorded robot past E
// or every = 0, maya::DeviceError for Device::kCuda without CUDA or a GPU.
[[nodiscard]] WalkerRollout walker_rollout(const WalkerOptions& options, const WalkerRobot& robot,
                                           std::span<const Tensor> controllers, Device device,
                                           bool gradient, io::Trajectory* record = nullptr,
                                           std::size_t recorded = 0, std::size_t every = 1);

// Number of CUDA GPUs walker_rollout can use (0 in a build without CUDA).
[[nodiscard]] int walker_cuda_devices() noexcept;

namespace detail {
struct WalkerDeviceState;
struct WalkerDeviceStateDeleter {
  void operator()(WalkerDeviceState* state) const noexcept;
};
}  // namespace detail

// Trains options.robots robots at once. On Device::kCuda the controllers, Adam's moments and the
// best controllers stay in GPU memory from the first iterate() on: an iteration copies only the
// distances [E] to the host, and controllers() and record_best() copy what they return. Not
// copyable; a const object's accessors may copy from the GPU, so share one between threads only
// with a lock.
class WalkerTraining {
 public:
  // Throws maya::ValueError for zero robots, steps, hidden units or sine waves.
  explicit WalkerTraining(WalkerOptions options);
  ~WalkerTraining();
  WalkerTraining(const WalkerTraining&) = delete;
  WalkerTraining& operator=(const WalkerTraining&) = delete;

  // Rolls out, differentiates and takes one Adam step on every robot's controller (on the GPU
  // with Device::kCuda, the same arithmetic as optim::Adam); returns each robot's distance [E]
  // (m) before the update, and appends it to history(). A robot whose gradient is not finite
  // takes the step with a zero gradient (its moments alone move it).
  std::vector<double> iterate();
  // Each robot's distance with the current controllers, without training.
  [[nodiscard]] std::vector<double> distances() const;
  // Robot e's rollout with the current controllers, every `every`-th step a frame.
  [[nodiscard]] io::Trajectory record(std::size_t robot, std::size_t every = 5) const;

  // Gradient steps through a long rollout of contact are noisy: a robot's distance does not rise
  // every iteration. Each robot's best distance so far (m, -inf before the first iteration), the
  // iteration that walked it, and that iteration's controller are kept.
  [[nodiscard]] const std::vector<double>& best_distances() const noexcept { return best_; }
  [[nodiscard]] const std::vector<std::size_t>& best_iterations() const noexcept {
    return best_iteration_;
  }
  // Robot e's rollout with its best controller (what walked best_distances()[e]).
  [[nodiscard]] io::Trajectory record_best(std::size_t robot, std::size_t every = 5) const;

  [[nodiscard]] const WalkerRobot& robot() const noexcept { return robot_; }
  [[nodiscard]] const WalkerOptions& options() const noexcept { return options_; }
  // history()[k][e]: robot e's distance at iteration k.
  [[nodiscard]] const std::vector<std::vector<double>>& history() const noexcept {
    return history_;
  }
  // The current controllers (W1, b1, W2, b2 of WalkerController's shapes); with Device::kCuda
  // copied from the GPU when they changed since the last call.
  [[nodiscard]] const optim::ParameterSet& controllers() const;
  // Every robot's best controller so far (as controllers()), robot e's slices what walked
  // best_distances()[e]; the initial controllers before the first iteration.
  [[nodiscard]] std::vector<Tensor> best_controllers() const;

 private:
  WalkerOptions options_;
  WalkerRobot robot_;
  // With Device::kCuda, a copy of the GPU's controllers, refreshed by controllers().
  mutable optim::ParameterSet parameters_;
  optim::Adam adam_;  // the CPU's; the GPU's state is in device_
  std::vector<std::vector<double>> history_;
  std::vector<double> best_;                 // [E]
  std::vector<std::size_t> best_iteration_;  // [E]
  std::vector<Tensor> best_controllers_;     // as parameters_'s values, robot e's slices its best
  // From the first GPU iteration on.
  std::unique_ptr<detail::WalkerDeviceState, detail::WalkerDeviceStateDeleter> device_;
  mutable bool parameters_stale_ = false;  // the GPU's controllers moved since
};

}  // namespace maya::tasks
