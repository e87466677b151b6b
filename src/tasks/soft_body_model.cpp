// Scenes' soft bodies on maya::fem: the body, its initial state and its rollouts.
#include "tasks/soft_body_model.hpp"

#include <optional>

#include "maya/core/error.hpp"
#include "maya/dynamics/rollout.hpp"
#include "maya/fem/soft_body.hpp"
#include "maya/tasks/rigid_scene.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::tasks::detail {
namespace {

fem::Energy energy_of(const std::string& name) {
  if (name == "linear") return fem::Energy::kLinear;
  if (name == "corotational") return fem::Energy::kCorotational;
  if (name == "stvk") return fem::Energy::kStVenantKirchhoff;
  return fem::Energy::kStableNeoHookean;
}

fem::SoftBody make_body(const io::SceneSpec& scene) {
  const io::SoftBodySpec& spec = *scene.soft_body;
  fem::SoftBodyOptions options;
  options.energy = energy_of(spec.energy);
  options.plane = spec.plane_stress ? fem::Plane::kStress : fem::Plane::kStrain;
  options.gravity = {scene.gravity[0], scene.gravity[1]};
  if (scene.ground) {
    options.ground = {.enabled = true,
                      .height = scene.ground->height,
                      .up_axis = 1,
                      .stiffness = spec.contact_stiffness,
                      .damping = spec.contact_damping,
                      .friction = spec.friction,
                      .slip_velocity = spec.slip_velocity};
  }
  options.pinned.assign(spec.pinned.begin(), spec.pinned.end());
  if (spec.obstacles) {
    options.rigid = fem::RigidContactOptions::of(make_rigid_world(scene), spec.slip_velocity);
  }
  const std::size_t n = spec.num_vertices();
  return fem::SoftBody(fem::Mesh(Tensor::from_data(spec.rest_positions, {n, 2}), spec.triangles),
                       options);
}

// One step of the body, explicit or implicit, with or without the scene's held obstacles.
TensorVar step(const fem::SoftBody& body, TensorVar state, const fem::BodyParameters& params,
               double dt, bool implicit, const fem::RigidObstacles* obstacles) {
  if (obstacles != nullptr) {
    return implicit ? fem::step_implicit(body, state, params, dt, *obstacles)
                    : fem::step_explicit(body, state, params, dt, *obstacles);
  }
  return implicit ? fem::step_implicit(body, state, params, dt)
                  : fem::step_explicit(body, state, params, dt);
}

}  // namespace

struct SoftBodyModel::Impl {
  io::SceneSpec scene;
  fem::SoftBody body;
  Tensor start_positions;  // [N, 2]
  Tensor spin_velocities;  // [N, 2]: the initial velocities less the translational part
  Tensor obstacles;        // [2, K, 3]: the bodies held still, or empty
};

SoftBodyModel::SoftBodyModel(const io::SceneSpec& scene)
    : impl_(std::make_unique<Impl>(Impl{scene, make_body(scene), {}, {}, {}})) {
  const io::SoftBodySpec& spec = *scene.soft_body;
  const std::size_t n = spec.num_vertices();
  impl_->start_positions = Tensor::from_data(spec.initial_positions(), {n, 2});
  std::vector<double> spin = spec.initial_velocities();
  for (std::size_t i = 0; i < n; ++i) {
    spin[2 * i] -= spec.velocity[0];
    spin[2 * i + 1] -= spec.velocity[1];
  }
  impl_->spin_velocities = Tensor::from_data(std::move(spin), {n, 2});
  if (spec.obstacles) {
    std::vector<double> state;
    for (const io::BodySpec& body : scene.bodies) {
      state.insert(state.end(), {body.position[0], body.position[1], body.angle});
    }
    state.resize(state.size() * 2, 0.0);  // at rest
    impl_->obstacles = Tensor::from_data(std::move(state), {2, scene.bodies.size(), 3});
  }
}

SoftBodyModel::~SoftBodyModel() = default;

std::vector<TensorVar> SoftBodyModel::rollout(TensorTape& tape, TensorVar youngs, TensorVar poisson,
                                              TensorVar density, TensorVar velocity) const {
  const fem::SoftBody& body = impl_->body;
  const io::SceneSpec& scene = impl_->scene;
  const std::size_t n = body.num_vertices();
  const fem::BodyParameters params =
      fem::parameters(body, tape.constant(body.mesh().rest_positions()), youngs, poisson, density);
  const TensorVar velocities =
      tape.constant(impl_->spin_velocities) + broadcast_to(reshape(velocity, {1, 2}), {n, 2});
  std::optional<fem::RigidObstacles> obstacles;
  if (scene.soft_body->obstacles) {
    const io::SoftBodySpec& spec = *scene.soft_body;
    const auto one = [&](double value) { return tape.constant(Tensor::from_data({value}, {1})); };
    obstacles = fem::RigidObstacles{
        tape.constant(impl_->obstacles),
        {one(spec.contact_stiffness), one(spec.contact_damping), one(spec.friction)}};
  }
  std::vector<TensorVar> states;
  states.push_back(stack({tape.constant(impl_->start_positions), velocities}, 0));
  for (std::size_t t = 0; t < scene.steps; ++t) {
    states.push_back(step(body, states.back(), params, scene.dt, scene.soft_body->implicit,
                          obstacles ? &*obstacles : nullptr));
  }
  return states;
}

io::Trajectory SoftBodyModel::simulate(const io::SceneSpec& scene) const {
  const io::SoftBodySpec& spec = *scene.soft_body;
  TensorTape tape;
  const auto one = [&](double value) { return tape.constant(Tensor::from_data({value}, {1})); };
  // The scene's initial velocity is the model's translational part; the spin part is its own.
  const std::vector<TensorVar> states =
      rollout(tape, one(spec.youngs_modulus), one(spec.poisson_ratio), one(spec.density),
              tape.constant(Tensor::from_data({spec.velocity[0], spec.velocity[1]}, {2})));
  io::Trajectory out;
  out.num_particles = spec.num_vertices();
  for (std::size_t t = 0; t < states.size(); ++t) {
    const auto values = states[t].view().data();
    const std::size_t half = values.size() / 2;
    out.times.push_back(scene.dt * static_cast<double>(t));
    out.positions.insert(out.positions.end(), values.begin(),
                         values.begin() + static_cast<long>(half));
    out.velocities.insert(out.velocities.end(), values.begin() + static_cast<long>(half),
                          values.end());
  }
  return out;
}

}  // namespace maya::tasks::detail
