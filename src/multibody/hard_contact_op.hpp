// The tape op of the hard-contact step (hard_contact.cpp), held by ModelOps.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "maya/multibody/model.hpp"
#include "maya/tensor/tensor_op.hpp"

namespace maya::multibody::detail {

// out [nx + 3 P] = (x1, contact impulses) = hard_contact_step(x, u, p). saved: dt, the solver's
// w = L^T v+ [nv], multipliers and slacks [pairs], the contact impulses [3 nc]; saved_ints: nc,
// then the contact points [nc] and their basis flags [nc].
class HardContactStepOp final : public TensorOp {
 public:
  explicit HardContactStepOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override {
    return "multibody_hard_contact_step";
  }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

}  // namespace maya::multibody::detail
