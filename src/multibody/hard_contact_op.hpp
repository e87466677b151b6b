// The tape ops of the hard-contact step (hard_contact.cpp), held by ModelOps: the fused step, and
// the two outer nodes of its composed twin (the solve between them is contact::solve_velocities).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "maya/multibody/model.hpp"
#include "maya/tensor/tensor_op.hpp"

namespace maya::multibody::detail {

// out [nx + 3 (P + Q)] = (x1, contact impulses) = hard_contact_step(x, u, p). saved: dt, the
// solver's w = L^T v+ [nv], multipliers and slacks [pairs], the contact impulses [3 nc];
// saved_ints: nc, then the contacts' rows [nc], their basis flags [nc] and pair slots [nc].
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

// The composed twin's first node: the problem's data P(x, u, p) = [momentum L^-1 p (nv), normal,
// tangent and bitangent rows J L^-T (3 nc nv), offsets (nc), friction (nc)], differentiated in
// forward mode. saved: dt; saved_ints: as the fused step's.
class HardContactProblemOp final : public TensorOp {
 public:
  explicit HardContactProblemOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override {
    return "multibody_hard_contact_problem";
  }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// The composed twin's last node: x1 = (q (+) dt L^-T w, L^-T w) from (x, p, w), differentiated in
// forward mode. saved: dt.
class HardContactFinishOp final : public TensorOp {
 public:
  explicit HardContactFinishOp(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  [[nodiscard]] std::string_view name() const noexcept override {
    return "multibody_hard_contact_finish";
  }
  void backward(BackwardContext& context) const override;

 private:
  std::shared_ptr<const Model> model_;
};

// Step Jacobians of E worlds under hard contact for batched_step_jacobians: states [E, T, nx],
// controls [E, T, nu], params [np] (shared) or [E, np] (per_world); writes [E, T, nx, nx],
// [E, T, nx, nu] and, when `parameters` is not null, [E, T, nx, np]. Shapes checked by the caller.
void hard_contact_batched_jacobians(const Model& model, std::size_t worlds, std::size_t steps,
                                    const double* states, const double* controls,
                                    const double* params, bool per_world, double dt, double* state,
                                    double* control, double* parameters);

}  // namespace maya::multibody::detail
