// The model behind a SoftBody, its fused tape ops (which hold the model, so a node outlives the
// body), the checks the step functions share, and the views the element kernels read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "fem/element_kernels.hpp"
#include "maya/fem/soft_body.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::fem::detail {

struct SystemPattern;
struct RigidShapes;
class RigidContactKernel;

// What a SoftBody is: the mesh and options as checked, and what the steps derive from them once.
struct SoftBodyModel {
  SoftBodyModel(Mesh mesh_in, SoftBodyOptions options_in)
      : mesh(std::move(mesh_in)), options(std::move(options_in)) {}

  Mesh mesh;
  SoftBodyOptions options;
  std::vector<double> gravity;
  std::vector<double> fiber;  // unit length
  std::vector<std::uint8_t> pinned_mask;
  double length_scale = 1.0;                        // bounding-box diagonal of the rest mesh
  std::shared_ptr<const SystemPattern> pattern;     // the Newton matrix's sparsity
  std::shared_ptr<const RigidShapes> rigid_shapes;  // options.rigid.shapes, as read

  [[nodiscard]] std::size_t dim() const noexcept { return mesh.dim(); }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return mesh.num_vertices(); }
  [[nodiscard]] std::size_t num_elements() const noexcept { return mesh.num_elements(); }
};

// A fused op of a soft body: holds the model it computes with, so nodes outlive the SoftBody.
class SoftBodyOp : public TensorOp {
 public:
  explicit SoftBodyOp(std::shared_ptr<const SoftBodyModel> model) : model_(std::move(model)) {}

 protected:
  std::shared_ptr<const SoftBodyModel> model_;
};

// inputs: rest positions [N, D]; output B [M, D, D].
class RestInverseOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rest_inverse"; }
  void backward(BackwardContext& context) const override;
};

// inputs: rest positions [N, D]; output W [M].
class RestVolumeOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rest_volume"; }
  void backward(BackwardContext& context) const override;
};

// inputs: positions [N, D], B, W, mu, lambda[, actuation]; output forces [N, D].
class ElasticForceOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_elastic_forces"; }
  void backward(BackwardContext& context) const override;
};

// inputs: positions, velocities [N, D]; output ground forces [N, D].
class GroundOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_ground_forces"; }
  void backward(BackwardContext& context) const override;
};

// inputs: soft state [2, N, 2], rigid state [2, K, 3], stiffness, damping, friction; output the
// forces on the vertices, then the wrench on the bodies, flat [2 N + 3 K].
class RigidContactOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rigid_contact"; }
  void backward(BackwardContext& context) const override;
};

// inputs: state [2, N, D], B, W, mu, lambda, mass[, actuation][, rigid state, stiffness,
// damping, friction]; output the next state. Saved: dt.
class ExplicitOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_explicit_euler"; }
  void backward(BackwardContext& context) const override;
};

// inputs: state [2, N, D] (dynamic) or positions [N, D] (static), B, W, mu, lambda, mass
// [, actuation][, rigid state, stiffness, damping, friction]; output the next state or the
// equilibrium positions. Saved: dt (0 when static) and the linear solver settings for the adjoint
// solve.
class ImplicitOp final : public SoftBodyOp {
 public:
  using SoftBodyOp::SoftBodyOp;
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_implicit_euler"; }
  void backward(BackwardContext& context) const override;
};

// The fused ops of one body. A SoftBody holds them, and so does every tape that recorded one of
// them (TensorTape::keep_alive); each op holds the model.
struct SoftBodyOps {
  explicit SoftBodyOps(std::shared_ptr<const SoftBodyModel> shared)
      : model(std::move(shared)),
        rest_inverse(model),
        rest_volume(model),
        elastic_forces(model),
        ground(model),
        rigid_contact(model),
        explicit_step(model),
        implicit_step(model) {}
  std::shared_ptr<const SoftBodyModel> model;
  RestInverseOp rest_inverse;
  RestVolumeOp rest_volume;
  ElasticForceOp elastic_forces;
  GroundOp ground;
  RigidContactOp rigid_contact;
  ExplicitOp explicit_step;
  ImplicitOp implicit_step;
};

// The checks the step functions share; `operation` names the caller in messages.
void check_parameters(const SoftBodyModel& model, const BodyParameters& params,
                      std::string_view operation, bool need_mass);
void check_state(const SoftBodyModel& model, TensorVar state, double dt,
                 std::string_view operation);
// Throws unless `obstacles` (null: none) matches options.rigid.shapes.
void check_obstacles(const SoftBodyModel& model, const RigidObstacles* obstacles,
                     std::string_view operation);
// The rigid contact kernel over the obstacles' values (when recording), or over the rigid
// state, stiffness, damping and friction a recorded node holds from input `first` on.
[[nodiscard]] RigidContactKernel rigid_kernel(const SoftBodyModel& model,
                                              const RigidObstacles& obstacles);
[[nodiscard]] RigidContactKernel rigid_kernel(const SoftBodyModel& model,
                                              const BackwardContext& context, std::size_t first);

// The inputs of the fused step nodes, in recording order: six fixed ones, the actuation of an
// actuated body, then the obstacles' state and contact material (which come only with rigid
// shapes, so the count tells the layouts apart).
struct StepInputs {
  static constexpr std::size_t kState = 0;
  static constexpr std::size_t kInverseEdges = 1;
  static constexpr std::size_t kVolumes = 2;
  static constexpr std::size_t kMu = 3;
  static constexpr std::size_t kLambda = 4;
  static constexpr std::size_t kMass = 5;
  static constexpr std::size_t kActuation = 6;  // when actuated
  bool actuated = false;
  bool rigid = false;
  std::size_t rigid_state = 0;  // the obstacles' state, then stiffness, damping, friction
  [[nodiscard]] std::size_t rigid_material(std::size_t j) const noexcept {
    return rigid_state + 1 + j;
  }
  // Points `out`'s element-parameter gradients (B, W, mu, lambda, actuation) at the inputs'
  // gradient buffers, for the inputs that need one.
  void point_element_gradients(BackwardContext& context, ElementGradients& out) const {
    const std::pair<std::size_t, double**> slots[] = {{kInverseEdges, &out.inverse_edges},
                                                      {kVolumes, &out.volumes},
                                                      {kMu, &out.mu},
                                                      {kLambda, &out.lambda}};
    for (const auto& [slot, target] : slots) {
      if (context.needs_grad(slot)) *target = context.grad_input(slot).values;
    }
    if (actuated && context.needs_grad(kActuation)) {
      out.actuation = context.grad_input(kActuation).values;
    }
  }
  [[nodiscard]] static StepInputs of(std::size_t count) {
    StepInputs in;
    in.actuated = count == 7 || count == 11;
    in.rigid = count >= 10;
    in.rigid_state = in.actuated ? kActuation + 1 : kActuation;
    return in;
  }
};

// Element inputs from the views of B, W, mu, lambda and (optional) actuation.
[[nodiscard]] inline ElementInputs element_inputs(const SoftBodyModel& model,
                                                  const double* positions, TensorView inverse_edges,
                                                  TensorView volumes, TensorView mu,
                                                  TensorView lambda, const TensorView* actuation) {
  ElementInputs in;
  in.positions = positions;
  in.elements = model.mesh.elements().data();
  in.num_elements = model.num_elements();
  in.inverse_edges = inverse_edges.values;
  in.volumes = volumes.values;
  in.mu = mu.values;
  in.mu_size = mu.numel();
  in.lambda = lambda.values;
  in.lambda_size = lambda.numel();
  if (actuation != nullptr) {
    in.actuation = actuation->values;
    in.actuation_size = actuation->numel();
  }
  in.fiber = model.fiber.data();
  return in;
}

}  // namespace maya::fem::detail
