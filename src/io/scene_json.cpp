// Writes a SceneSpec back as a scene file of the same schema (docs/scene-format.md).
#include <nlohmann/json.hpp>

#include "maya/io/scene_file.hpp"

namespace maya::io {

std::string scene_json(const SceneSpec& scene) {
  using Json = nlohmann::ordered_json;
  Json out;
  if (!scene.name.empty()) {
    out["name"] = scene.name;
  }
  out["dt"] = scene.dt;
  out["steps"] = scene.steps;
  out["gravity"] = scene.gravity;
  if (scene.ground) {
    out["ground"] = {{"height", scene.ground->height},
                     {"stiffness", scene.ground->stiffness},
                     {"damping", scene.ground->damping}};
  }
  Json particles = Json::array();
  for (const ParticleSpec& particle : scene.particles) {
    Json entry = {
        {"position", particle.position}, {"velocity", particle.velocity}, {"mass", particle.mass}};
    if (particle.radius > 0) {
      entry["radius"] = particle.radius;
    }
    particles.push_back(entry);
  }
  out["particles"] = particles;
  Json springs = Json::array();
  for (const SpringSpec& spring : scene.springs) {
    Json entry = {{"i", spring.first}, {"j", spring.second}};
    if (spring.rest_length) {
      entry["rest_length"] = *spring.rest_length;
    }
    entry["stiffness"] = spring.stiffness;
    entry["damping"] = spring.damping;
    springs.push_back(entry);
  }
  out["springs"] = springs;
  return out.dump(2) + "\n";
}

}  // namespace maya::io
