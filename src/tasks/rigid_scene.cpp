// Rigid bodies of scene files, run on RigidWorld2D one fused step at a time.
#include "maya/tasks/rigid_scene.hpp"

#include "maya/core/error.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks {

using namespace maya::io;

namespace {

rigid::BodyShape shape_of(const BodySpec& body) {
  switch (body.shape) {
    case BodySpec::Shape::kBox: return rigid::BodyShape::box(body.size[0], body.size[1]);
    case BodySpec::Shape::kCircle: return rigid::BodyShape::circle(body.radius);
    case BodySpec::Shape::kPolygon: break;
  }
  std::vector<rigid::Vec2> vertices;
  for (const auto& vertex : body.vertices) {
    vertices.push_back({vertex[0], vertex[1]});
  }
  return rigid::BodyShape::polygon(std::move(vertices));
}

void append_poses(Trajectory& trajectory, const Tensor& state) {
  const auto values = state.data();
  trajectory.body_poses.insert(trajectory.body_poses.end(), values.begin(),
                               values.begin() + static_cast<long>(values.size() / 2));
}

}  // namespace

rigid::RigidWorld2D make_rigid_world(const SceneSpec& scene) {
  if (scene.bodies.empty()) {
    throw ValueError("make_rigid_world: the scene has no bodies");
  }
  std::vector<rigid::BodyShape> shapes;
  for (const BodySpec& body : scene.bodies) {
    shapes.push_back(shape_of(body));
  }
  rigid::RigidWorldOptions options;
  options.gravity = {scene.gravity[0], scene.gravity[1]};
  options.grounds.clear();
  if (scene.ground) {
    options.grounds.push_back(rigid::GroundPlane{{0.0, 1.0}, scene.ground->height});
  }
  return rigid::RigidWorld2D(std::move(shapes), options);
}

rigid::RigidParameterValues rigid_parameter_values(const SceneSpec& scene,
                                                   const rigid::RigidWorld2D& world) {
  std::vector<double> masses;
  for (std::size_t k = 0; k < scene.bodies.size(); ++k) {
    const BodySpec& body = scene.bodies[k];
    masses.push_back(body.mass      ? *body.mass
                     : body.density ? *body.density * world.shape(k).area()
                                    : 1.0);
  }
  const BodyContactSpec& contact = scene.body_contact;
  return world.parameters_from_masses(masses,
                                      {contact.stiffness, contact.damping, contact.friction});
}

void simulate_bodies(const SceneSpec& scene, Trajectory& trajectory) {
  const rigid::RigidWorld2D world = make_rigid_world(scene);
  const rigid::RigidParameterValues values = rigid_parameter_values(scene, world);
  const std::size_t count = scene.bodies.size();
  std::vector<double> poses;
  std::vector<double> velocities;
  for (const BodySpec& body : scene.bodies) {
    poses.insert(poses.end(), {body.position[0], body.position[1], body.angle});
    velocities.insert(velocities.end(),
                      {body.velocity[0], body.velocity[1], body.angular_velocity});
  }
  Tensor state =
      rigid::RigidWorld2D::make_state(Tensor::from_data(std::move(poses), {count, 3}),
                                      Tensor::from_data(std::move(velocities), {count, 3}));
  const bool with_times = trajectory.times.empty();
  trajectory.num_bodies = count;
  trajectory.body_poses.clear();
  append_poses(trajectory, state);
  if (with_times) {
    trajectory.times.push_back(0.0);
  }
  // A fresh tape per step keeps memory flat however long the run: nothing is differentiated.
  TensorTape tape;
  for (std::size_t t = 0; t < scene.steps; ++t) {
    tape.clear();
    state = world.step(tape.constant(state), values.constants(tape), scene.dt).value();
    append_poses(trajectory, state);
    if (with_times) {
      trajectory.times.push_back(scene.dt * static_cast<double>(t + 1));
    }
  }
}

}  // namespace maya::tasks
