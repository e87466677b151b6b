// Scenes' rigid bodies under penalty or hard contact, recorded on a tape.
#include "tasks/body_model.hpp"

#include <optional>

#include "maya/contact/hard_contact_world.hpp"
#include "maya/tasks/rigid_scene.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::tasks::detail {
namespace {

contact::HardContactOptions hard_options(const io::HardContactSpec& spec) {
  contact::HardContactOptions options;
  options.material = {.friction = spec.friction, .restitution = spec.restitution};
  options.ground_material = {.friction = spec.ground_friction,
                             .restitution = spec.ground_restitution};
  options.stabilization = spec.stabilization;
  return options;
}

std::vector<contact::RevoluteJoint> joints_of(const io::HardContactSpec& spec) {
  std::vector<contact::RevoluteJoint> joints;
  for (const io::JointSpec& joint : spec.joints) {
    joints.push_back({static_cast<std::int32_t>(joint.body_a),
                      joint.body_b ? static_cast<std::int32_t>(*joint.body_b) : contact::kWorld});
  }
  return joints;
}

}  // namespace

struct BodyModel::Impl {
  io::SceneSpec scene;
  rigid::RigidWorld2D world;
  rigid::RigidParameterValues penalty;
  std::optional<contact::HardContactWorld2D> hard;
  contact::HardContactParameterValues hard_values;
  Tensor poses;             // [K, 3] at t = 0
  Tensor velocities;        // [K, 3] at t = 0
  Tensor inertia_per_mass;  // [K]
};

BodyModel::BodyModel(const io::SceneSpec& scene)
    : impl_(std::make_unique<Impl>(Impl{scene, make_rigid_world(scene), {}, {}, {}, {}, {}, {}})) {
  Impl& m = *impl_;
  m.penalty = rigid_parameter_values(scene, m.world);
  std::vector<double> poses;
  std::vector<double> velocities;
  std::vector<double> ratio;
  for (std::size_t k = 0; k < scene.bodies.size(); ++k) {
    const io::BodySpec& body = scene.bodies[k];
    poses.insert(poses.end(), {body.position[0], body.position[1], body.angle});
    velocities.insert(velocities.end(),
                      {body.velocity[0], body.velocity[1], body.angular_velocity});
    ratio.push_back(m.world.shape(k).inertia_for_mass(1.0));
  }
  const std::size_t count = scene.bodies.size();
  m.poses = Tensor::from_data(std::move(poses), {count, 3});
  m.velocities = Tensor::from_data(std::move(velocities), {count, 3});
  m.inertia_per_mass = Tensor::from_data(std::move(ratio), {count});
  if (scene.hard_contact) {
    m.hard.emplace(m.world, joints_of(*scene.hard_contact), hard_options(*scene.hard_contact));
    std::vector<double> masses(m.penalty.mass.data().begin(), m.penalty.mass.data().end());
    std::vector<rigid::Vec2> pivots;
    for (const io::JointSpec& joint : scene.hard_contact->joints) {
      pivots.push_back({joint.pivot[0], joint.pivot[1]});
    }
    m.hard_values =
        m.hard->parameters(masses, rigid::RigidWorld2D::make_state(m.poses, m.velocities), pivots);
  }
}

BodyModel::~BodyModel() = default;

BodyInputs BodyModel::inputs(TensorTape& tape) const {
  const Impl& m = *impl_;
  const auto one = [&](const Tensor& value) {
    return tape.constant(Tensor::from_data({value.data()[0]}, {1}));
  };
  return {tape.constant(m.penalty.mass),    tape.constant(m.velocities),
          tape.constant(m.penalty.applied), one(m.penalty.stiffness),
          one(m.penalty.damping),           one(m.penalty.friction)};
}

std::vector<TensorVar> BodyModel::rollout(TensorTape& tape, const BodyInputs& inputs) const {
  const Impl& m = *impl_;
  const io::SceneSpec& scene = m.scene;
  const TensorVar inertia = inputs.mass * tape.constant(m.inertia_per_mass);
  std::vector<TensorVar> states;
  states.push_back(stack({tape.constant(m.poses), inputs.velocities}, 0));
  if (m.hard) {
    contact::HardContactParameters params = m.hard_values.constants(tape);
    params.mass = inputs.mass;
    params.inertia = inertia;
    params.applied = inputs.applied;
    for (std::size_t t = 0; t < scene.steps; ++t) {
      states.push_back(m.hard->step(states.back(), params, scene.dt));
    }
    return states;
  }
  rigid::RigidParameters params = m.penalty.constants(tape);
  params.mass = inputs.mass;
  params.inertia = inertia;
  params.applied = inputs.applied;
  const auto shaped = [](const TensorVar& value, const TensorVar& like) {
    const Shape shape(like.shape().begin(), like.shape().end());
    return reshape(value, shape);
  };
  params.stiffness = shaped(inputs.stiffness, params.stiffness);
  params.damping = shaped(inputs.damping, params.damping);
  params.friction = shaped(inputs.friction, params.friction);
  for (std::size_t t = 0; t < scene.steps; ++t) {
    states.push_back(m.world.step(states.back(), params, scene.dt));
  }
  return states;
}

TensorVar BodyModel::centres(const TensorVar& state) { return slice(select(state, 0, 0), 1, 0, 2); }

void simulate_hard_contact(const io::SceneSpec& scene, io::Trajectory& trajectory) {
  const BodyModel model(scene);
  TensorTape tape;
  const std::vector<TensorVar> states = model.rollout(tape, model.inputs(tape));
  const bool with_times = trajectory.times.empty();
  trajectory.num_bodies = scene.bodies.size();
  trajectory.body_poses.clear();
  for (std::size_t t = 0; t < states.size(); ++t) {
    const auto values = states[t].view().data();
    trajectory.body_poses.insert(trajectory.body_poses.end(), values.begin(),
                                 values.begin() + static_cast<long>(values.size() / 2));
    if (with_times) trajectory.times.push_back(scene.dt * static_cast<double>(t));
  }
}

}  // namespace maya::tasks::detail
