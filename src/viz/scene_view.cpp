// Scene files as the viewer draws them.
#include "maya/viz/scene_view.hpp"

#include <algorithm>

#include "maya/tasks/spring_task.hpp"

namespace maya::viz {

using io::ParticleSpec;
using io::SceneSpec;
using io::Trajectory;

ViewerScene viewer_scene(const SceneSpec& scene, Trajectory trajectory, std::string title) {
  const tasks::SpringScene spring_scene = tasks::make_spring_scene(scene);
  ViewerScene viewer;
  viewer.title = std::move(title);
  viewer.trajectory = std::move(trajectory);
  const bool any_radius = std::any_of(scene.particles.begin(), scene.particles.end(),
                                      [](const ParticleSpec& p) { return p.radius > 0; });
  if (any_radius) {
    for (const ParticleSpec& particle : scene.particles) {
      viewer.particle_radius.push_back(particle.radius);
    }
  }
  for (std::size_t k = 0; k < scene.springs.size(); ++k) {
    viewer.springs.push_back(
        {scene.springs[k].first, scene.springs[k].second, spring_scene.rest_length.data()[k]});
  }
  if (scene.ground) {
    viewer.ground_height = scene.ground->height;
  }
  return viewer;
}

std::vector<ViewerBody> viewer_bodies(const rigid::RigidWorld2D& world) {
  std::vector<ViewerBody> bodies;
  for (std::size_t k = 0; k < world.num_bodies(); ++k) {
    const rigid::BodyShape& shape = world.shape(k);
    ViewerBody body;
    if (shape.kind() == rigid::ShapeKind::kCircle) {
      body.radius = shape.radius();
    } else {
      body.shape = ViewerBody::Shape::kPolygon;
      for (const rigid::Vec2 vertex : shape.vertices()) {
        body.vertices.push_back({vertex.x, vertex.y});
      }
    }
    bodies.push_back(std::move(body));
  }
  return bodies;
}

}  // namespace maya::viz
