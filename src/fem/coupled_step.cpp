// One explicit step of a soft body and a rigid world coupled by rigid contact.
#include "maya/fem/coupled_step.hpp"

#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {
namespace {

bool same_shape(const rigid::BodyShape& a, const rigid::BodyShape& b) {
  if (a.kind() != b.kind() || a.radius() != b.radius()) return false;
  const auto& p = a.vertices();
  const auto& q = b.vertices();
  if (p.size() != q.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].x != q[i].x || p[i].y != q[i].y) return false;
  }
  return true;
}

}  // namespace

CoupledState step_coupled(const SoftBody& body, const BodyParameters& soft_params,
                          const rigid::RigidWorld2D& world,
                          const rigid::RigidParameters& rigid_params,
                          const RigidContactMaterial& material, const CoupledState& state,
                          double dt) {
  const auto& shapes = body.options().rigid.shapes;
  if (shapes.size() != world.num_bodies()) {
    throw ValueError("fem::step_coupled: the soft body has " + std::to_string(shapes.size()) +
                     " rigid shapes but the world has " + std::to_string(world.num_bodies()) +
                     " bodies (use RigidContactOptions::of(world))");
  }
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    if (!same_shape(shapes[k], world.shape(k))) {
      throw ValueError("fem::step_coupled: rigid shape " + std::to_string(k) +
                       " of the soft body differs from the world's body " + std::to_string(k) +
                       " (use RigidContactOptions::of(world))");
    }
  }
  const RigidObstacles obstacles{state.rigid, material};
  const RigidContactForces contact = rigid_contact_forces(body, state.soft, obstacles);
  rigid::RigidParameters params = rigid_params;
  params.applied = params.applied.valid() ? params.applied + contact.rigid : contact.rigid;
  return {step_explicit(body, state.soft, soft_params, dt, obstacles),
          world.step(state.rigid, params, dt)};
}

}  // namespace maya::fem
