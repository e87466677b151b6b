// Two-way coupling of a 2-D soft body and a RigidWorld2D by rigid contact, stepped explicitly:
// both see the contact forces of the same start state, the soft vertices F and the bodies -F at
// the vertices, so the contact conserves momentum and angular momentum exactly.
#pragma once

#include "maya/fem/rigid_contact.hpp"
#include "maya/fem/soft_body.hpp"
#include "maya/rigid/rigid_world.hpp"

namespace maya::fem {

struct CoupledState {
  TensorVar soft;   // [2, N, 2]
  TensorVar rigid;  // [2, K, 3]
};

// One step: the soft body by step_explicit with the world's bodies as obstacles, the world by
// step() with the contact wrench added to rigid_params.applied (ground and body-body contact as
// the world has them). The body's options().rigid.shapes must be the world's shapes
// (RigidContactOptions::of(world)); throws maya::ValueError otherwise.
[[nodiscard]] CoupledState step_coupled(const SoftBody& body, const BodyParameters& soft_params,
                                        const rigid::RigidWorld2D& world,
                                        const rigid::RigidParameters& rigid_params,
                                        const RigidContactMaterial& material,
                                        const CoupledState& state, double dt);

}  // namespace maya::fem
