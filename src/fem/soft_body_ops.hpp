// The fused tape ops of SoftBody (declared in soft_body.hpp as nested classes) and the helper
// that turns recorded inputs into the raw views the element kernels read.
#pragma once

#include <string_view>

#include "fem/element_kernels.hpp"
#include "maya/fem/soft_body.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::fem {

// inputs: rest positions [N, D]; output B [M, D, D].
class SoftBody::RestInverseOp final : public TensorOp {
 public:
  explicit RestInverseOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rest_inverse"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: rest positions [N, D]; output W [M].
class SoftBody::RestVolumeOp final : public TensorOp {
 public:
  explicit RestVolumeOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rest_volume"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: positions [N, D], B, W, mu, lambda[, actuation]; output forces [N, D].
class SoftBody::ElasticForceOp final : public TensorOp {
 public:
  explicit ElasticForceOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_elastic_forces"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: positions, velocities [N, D]; output ground forces [N, D].
class SoftBody::GroundOp final : public TensorOp {
 public:
  explicit GroundOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_ground_forces"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: soft state [2, N, 2], rigid state [2, K, 3], stiffness, damping, friction; output the
// forces on the vertices, then the wrench on the bodies, flat [2 N + 3 K].
class SoftBody::RigidContactOp final : public TensorOp {
 public:
  explicit RigidContactOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_rigid_contact"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: state [2, N, D], B, W, mu, lambda, mass[, actuation][, rigid state, stiffness,
// damping, friction]; output the next state. Saved: dt.
class SoftBody::ExplicitOp final : public TensorOp {
 public:
  explicit ExplicitOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_explicit_euler"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

// inputs: state [2, N, D] (dynamic) or positions [N, D] (static), B, W, mu, lambda, mass
// [, actuation][, rigid state, stiffness, damping, friction]; output the next state or the
// equilibrium positions. Saved: dt (0 when static) and the linear solver settings for the adjoint
// solve.
class SoftBody::ImplicitOp final : public TensorOp {
 public:
  explicit ImplicitOp(const SoftBody* body) : body_(body) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "fem_implicit_euler"; }
  void backward(BackwardContext& context) const override;

 private:
  const SoftBody* body_;
};

namespace detail {

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
  [[nodiscard]] static StepInputs of(std::size_t count) {
    StepInputs in;
    in.actuated = count == 7 || count == 11;
    in.rigid = count >= 10;
    in.rigid_state = in.actuated ? kActuation + 1 : kActuation;
    return in;
  }
};

// Element inputs from the views of B, W, mu, lambda and (optional) actuation.
[[nodiscard]] inline ElementInputs element_inputs(const SoftBody& body, const double* positions,
                                                  TensorView inverse_edges, TensorView volumes,
                                                  TensorView mu, TensorView lambda,
                                                  const TensorView* actuation) {
  ElementInputs in;
  in.positions = positions;
  in.elements = body.mesh().elements().data();
  in.num_elements = body.num_elements();
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
  in.fiber = body.fiber().data();
  return in;
}

}  // namespace detail
}  // namespace maya::fem
