// A scene's FEM soft body as the tasks run it: the one place tasks call maya::fem, so that a change
// of the FEM stepping API touches this file only.
#pragma once

#include <memory>
#include <vector>

#include "maya/io/scene_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks::detail {

class SoftBodyModel {
 public:
  // Throws maya::ValueError for a mesh with a degenerate element (naming it).
  explicit SoftBodyModel(const io::SceneSpec& scene);
  ~SoftBodyModel();
  SoftBodyModel(const SoftBodyModel&) = delete;
  SoftBodyModel& operator=(const SoftBodyModel&) = delete;

  // The states [2, N, 2] after 0..steps steps, recorded on `tape`, for Young's modulus, Poisson's
  // ratio and density ([1] each) and the translational initial velocity [2] (added to the spin
  // part of the scene's initial velocities).
  [[nodiscard]] std::vector<TensorVar> rollout(TensorTape& tape, TensorVar youngs,
                                               TensorVar poisson, TensorVar density,
                                               TensorVar velocity) const;
  // The same with the scene's values, forward only, as a trajectory of the vertices.
  [[nodiscard]] io::Trajectory simulate(const io::SceneSpec& scene) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maya::tasks::detail
