// The tape ops of one model. Each holds an immutable copy of the model (made without ops of its
// own, so no cycle); the model and its copies share the ops, and every tape that recorded one
// keeps them alive (TensorTape::keep_alive), so a model may go before grad().
#pragma once

#include <memory>
#include <utility>

#include "maya/multibody/model.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "multibody/hard_contact_op.hpp"

namespace maya::multibody::detail {

// x1 = step(x, u, p), one node. saved: dt; saved_ints: the integrator.
class StepOp final : public TensorOp {
 public:
  explicit StepOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "multibody_step"; }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// qdd = M(q)^-1 (tau(u) - C(q, qdot)) through the mass matrix and inverse dynamics (the composed
// step's first node; a different algorithm from the fused step's ABA). saved: dt (for implicit
// damping).
class AccelerationOp final : public TensorOp {
 public:
  explicit AccelerationOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "multibody_acceleration"; }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// q1 = q (+) dt v1 (the composed step's position update). saved: dt.
class IntegrateOp final : public TensorOp {
 public:
  explicit IntegrateOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override {
    return "multibody_integrate_positions";
  }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// World contact forces [P, 3] at a state.
class ContactForcesOp final : public TensorOp {
 public:
  explicit ContactForcesOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override {
    return "multibody_contact_forces";
  }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// World position [3] of a point fixed to a body. saved: the point; saved_ints: the body.
class PointOp final : public TensorOp {
 public:
  explicit PointOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "multibody_point"; }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

class ModelOps {
 public:
  explicit ModelOps(const std::shared_ptr<const Model>& model)
      : step(model),
        acceleration(model),
        integrate(model),
        contact_forces(model),
        point(model),
        hard_contact_step(model),
        hard_contact_problem(model),
        hard_contact_finish(model) {}
  StepOp step;
  AccelerationOp acceleration;
  IntegrateOp integrate;
  ContactForcesOp contact_forces;
  PointOp point;
  HardContactStepOp hard_contact_step;
  HardContactProblemOp hard_contact_problem;
  HardContactFinishOp hard_contact_finish;
};

// Called by the model's constructor, while its own ops are still null.
[[nodiscard]] inline std::shared_ptr<const ModelOps> make_model_ops(const Model& model) {
  return std::make_shared<const ModelOps>(std::make_shared<const Model>(model));
}

}  // namespace maya::multibody::detail
