// A scene's rigid bodies as the tasks run them, under penalty contact (maya/rigid/) or hard
// contact (maya/contact/): their differentiable rollout and the forward run of maya simulate.
#pragma once

#include <memory>
#include <vector>

#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks::detail {

// The inputs a body task writes its parameters into.
struct BodyInputs {
  TensorVar mass;        // [K]
  TensorVar velocities;  // [K, 3]: vx, vy, omega at t = 0
  TensorVar applied;     // [K, 3]: force x, y and torque, held over the run (the controls)
  TensorVar stiffness;   // [1], penalty contact only
  TensorVar damping;     // [1]
  TensorVar friction;    // [1]
};

class BodyModel {
 public:
  explicit BodyModel(const io::SceneSpec& scene);
  ~BodyModel();
  BodyModel(const BodyModel&) = delete;
  BodyModel& operator=(const BodyModel&) = delete;

  // The scene's own values as constants on `tape`.
  [[nodiscard]] BodyInputs inputs(TensorTape& tape) const;
  // The states [2, K, 3] after 0..steps steps.
  [[nodiscard]] std::vector<TensorVar> rollout(TensorTape& tape, const BodyInputs& inputs) const;
  // The body centres [K, 2] of a state.
  [[nodiscard]] static TensorVar centres(const TensorVar& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// maya simulate's run of the bodies under hard contact: poses into `trajectory` (and its times
// when it has none).
void simulate_hard_contact(const io::SceneSpec& scene, io::Trajectory& trajectory);

}  // namespace maya::tasks::detail
