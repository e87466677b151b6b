// A mass-spring system with gravity and a penalty ground, stepped by semi-implicit Euler. The
// state is one tensor of shape [2, N, D]: positions then velocities. Masses, stiffnesses,
// dampings and rest lengths are TensorVars, so any of them can be fitted.
//
// Per spring e = (a, b):  d = x_b - x_a,  l = |d|,  u = d / l,
//   f = (k_e (l - L_e) + c_e (v_b - v_a) . u) u,   F_a += f,  F_b -= f.
// Gravity adds m g. The ground (a plane normal to the up axis at `height`) adds, along the up axis,
//   f_n = stiffness * pen - damping * v_up * [pen > 0],  pen = relu(height - x_up),
// and along the other axes a smoothed Coulomb friction on the slip velocity v_t (v without v_up),
//   f_t = -friction * relu(f_n) * v_t / sqrt(|v_t|^2 + slip_velocity^2),
// which tends to Coulomb's -mu f_n v_t / |v_t| for |v_t| >> slip_velocity and is smooth at rest.
// Step: v1 = v + dt F / m;  x1 = x + dt v1.
//
// step() records the whole step as one tape node with a hand-derived adjoint (the fast path);
// step_composed() records the same map from tensor ops (the readable reference that tests it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::dynamics {

namespace detail {
struct SpringSystem;
struct SpringInputs;

// A number unique in the process, drawn when a model is built: a copy keeps it (same particles
// and springs), a model moved from draws a new one (its springs went with the move).
class TopologyId {
 public:
  TopologyId() noexcept : value_(next()) {}
  TopologyId(const TopologyId&) noexcept = default;
  TopologyId& operator=(const TopologyId&) noexcept = default;
  TopologyId(TopologyId&& other) noexcept : value_(other.value_) { other.value_ = next(); }
  TopologyId& operator=(TopologyId&& other) noexcept {
    value_ = other.value_;
    if (&other != this) other.value_ = next();
    return *this;
  }
  ~TopologyId() = default;
  [[nodiscard]] std::uint64_t value() const noexcept { return value_; }

 private:
  [[nodiscard]] static std::uint64_t next() noexcept;
  std::uint64_t value_;
};
}  // namespace detail

struct GroundContact {
  bool enabled = true;
  double height = 0.0;
  double stiffness = 1e4;
  double damping = 10.0;
  std::size_t up_axis = 1;
  double friction = 0.0;        // mu; 0: no tangential force (the step is as without friction)
  double slip_velocity = 1e-2;  // eps, the smoothing of friction near zero slip (speed units)
};

struct SpringParameters {
  TensorVar mass;         // [N]
  TensorVar stiffness;    // [E]
  TensorVar damping;      // [E]
  TensorVar rest_length;  // [E]
};

class MassSpringModel {
 public:
  // Throws maya::ValueError for a spring that names a missing particle or joins a particle to
  // itself, a gravity vector of the wrong length, or an up axis outside [0, dim).
  MassSpringModel(std::size_t num_particles, std::size_t dim, std::vector<std::int64_t> first,
                  std::vector<std::int64_t> second, std::vector<double> gravity,
                  GroundContact ground = {});

  [[nodiscard]] std::size_t num_particles() const noexcept { return num_particles_; }
  [[nodiscard]] std::size_t num_springs() const noexcept { return first_.size(); }
  [[nodiscard]] std::size_t dim() const noexcept { return dim_; }
  // The particles at ends a and b of every spring e = (a, b), [E] each.
  [[nodiscard]] const std::vector<std::int64_t>& end_a() const noexcept { return first_; }
  [[nodiscard]] const std::vector<std::int64_t>& end_b() const noexcept { return second_; }
  [[nodiscard]] const std::vector<double>& gravity() const noexcept { return gravity_; }
  [[nodiscard]] const GroundContact& ground() const noexcept { return ground_; }
  // Names this model's particle count and springs (end_a, end_b): never 0, the same for its
  // copies, and another for every model built (or moved from) in the process, so two models
  // with the same id have the same springs. The GPU rollout keeps a model's incidence lists on
  // the device between calls under it.
  [[nodiscard]] std::uint64_t topology_id() const noexcept { return topology_id_.value(); }

  // One step as a single fused node; the node holds the model, which may go before grad().
  // Many worlds: a state [E, 2, N, D] with parameters [E, N] (mass) and [E, S] steps E
  // independent worlds of this topology in one node (one world per thread, maya::set_num_threads),
  // each with its own parameters and gradients; parameters whose E differs from the state's throw
  // maya::ShapeError naming both. With the tape's finite check on, a world that produces a NaN
  // or an infinity is named (maya::NonFiniteError); the other worlds' values are unaffected.
  [[nodiscard]] TensorVar step(TensorVar state, const SpringParameters& params, double dt) const;
  // The same step composed of tensor ops.
  [[nodiscard]] TensorVar step_composed(TensorVar state, const SpringParameters& params,
                                        double dt) const;

  // Rest lengths equal to the distances between the spring ends in `positions` [N, D].
  [[nodiscard]] Tensor rest_lengths_of(const Tensor& positions) const;
  // A [2, N, D] state tensor from positions and velocities [N, D].
  [[nodiscard]] static Tensor make_state(const Tensor& positions, const Tensor& velocities);

 private:
  class StepOp final : public TensorOp {
   public:
    explicit StepOp(std::shared_ptr<const MassSpringModel> model) : model_(std::move(model)) {}
    [[nodiscard]] std::string_view name() const noexcept override { return "mass_spring_step"; }
    void backward(BackwardContext& context) const override;

   private:
    std::shared_ptr<const MassSpringModel> model_;
  };

  // E for a batch of worlds, 0 for one world.
  std::size_t check_inputs(TensorVar state, const SpringParameters& params, double dt) const;
  [[nodiscard]] detail::SpringInputs world_inputs(const detail::SpringInputs& in,
                                                  std::size_t world) const noexcept;
  static void check_worlds_finite(const double* states, std::size_t worlds, std::size_t size);
  void build_incidence();
  [[nodiscard]] detail::SpringSystem system() const noexcept;

  std::size_t num_particles_;
  std::size_t dim_;
  std::vector<std::int64_t> first_;
  std::vector<std::int64_t> second_;
  std::vector<double> gravity_;
  GroundContact ground_;
  detail::TopologyId topology_id_;
  // Each particle's springs in spring order, as 2 e + [first end]: the fused step sums forces
  // per particle over these (one thread per particle) rather than scattering them per spring.
  std::vector<std::uint32_t> incidence_offsets_;  // [N + 1]
  std::vector<std::uint32_t> incidence_;          // [2 E]
  // The fused step. It holds an immutable copy of this model made without an op of its own (so
  // no cycle); copies of the model share it, and every tape that recorded it keeps it alive.
  std::shared_ptr<const StepOp> step_op_;
};

// Positions [N, D] and velocities [N, D] of a [2, N, D] state.
[[nodiscard]] TensorVar positions_of(TensorVar state);
[[nodiscard]] TensorVar velocities_of(TensorVar state);

}  // namespace maya::dynamics
