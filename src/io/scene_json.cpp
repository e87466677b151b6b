// Writes a SceneSpec back as a scene file of the same schema (docs/scene-format.md); a soft body's
// mesh file names are written as the scene gave them.
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
  if (!scene.bodies.empty()) {
    Json bodies = Json::array();
    for (const BodySpec& body : scene.bodies) {
      Json entry;
      switch (body.shape) {
        case BodySpec::Shape::kBox:
          entry["shape"] = "box";
          entry["size"] = body.size;
          break;
        case BodySpec::Shape::kCircle:
          entry["shape"] = "circle";
          entry["radius"] = body.radius;
          break;
        case BodySpec::Shape::kPolygon:
          entry["shape"] = "polygon";
          entry["vertices"] = body.vertices;
          break;
      }
      entry["position"] = body.position;
      entry["angle"] = body.angle;
      entry["velocity"] = body.velocity;
      entry["angular_velocity"] = body.angular_velocity;
      if (body.force != std::array<double, 2>{}) entry["force"] = body.force;
      if (body.torque != 0.0) entry["torque"] = body.torque;
      if (body.mass) entry["mass"] = *body.mass;
      if (body.density) entry["density"] = *body.density;
      bodies.push_back(entry);
    }
    out["bodies"] = bodies;
    if (scene.hard_contact) {
      const HardContactSpec& hard = *scene.hard_contact;
      Json joints = Json::array();
      for (const JointSpec& joint : hard.joints) {
        Json entry = {{"a", joint.body_a}};
        if (joint.body_b) {
          entry["b"] = *joint.body_b;
        } else {
          entry["b"] = "world";
        }
        entry["pivot"] = joint.pivot;
        joints.push_back(entry);
      }
      out["hard_contact"] = {
          {"restitution", hard.restitution},
          {"friction", hard.friction},
          {"ground",
           {{"restitution", hard.ground_restitution}, {"friction", hard.ground_friction}}},
          {"stabilization", hard.stabilization},
          {"joints", joints}};
    } else {
      out["body_contact"] = {{"stiffness", scene.body_contact.stiffness},
                             {"damping", scene.body_contact.damping},
                             {"friction", scene.body_contact.friction}};
    }
  }
  if (scene.particles.empty()) {
    out.erase("particles");
    out.erase("springs");
  }
  if (scene.soft_body) {
    const SoftBodySpec& body = *scene.soft_body;
    Json mesh;
    switch (body.source) {
      case SoftBodySpec::MeshSource::kRectangle:
        mesh["rectangle"] = {{"size", body.size}, {"cells", body.cells}};
        break;
      case SoftBodySpec::MeshSource::kGmsh: mesh["gmsh"] = body.gmsh_file; break;
      case SoftBodySpec::MeshSource::kNodeEle:
        mesh["node"] = body.node_file;
        mesh["ele"] = body.ele_file;
        break;
    }
    out.erase("particles");
    out.erase("springs");
    out["soft_body"] = {{"mesh", mesh},
                        {"material",
                         {{"energy", body.energy},
                          {"youngs_modulus", body.youngs_modulus},
                          {"poisson_ratio", body.poisson_ratio},
                          {"density", body.density},
                          {"plane", body.plane_stress ? "stress" : "strain"}}},
                        {"position", body.position},
                        {"angle", body.angle},
                        {"velocity", body.velocity},
                        {"angular_velocity", body.angular_velocity},
                        {"pinned", body.pinned},
                        {"integrator", body.implicit ? "implicit" : "explicit"},
                        {"obstacles", body.obstacles},
                        {"contact",
                         {{"stiffness", body.contact_stiffness},
                          {"damping", body.contact_damping},
                          {"friction", body.friction},
                          {"slip_velocity", body.slip_velocity}}}};
  }
  return out.dump(2) + "\n";
}

}  // namespace maya::io
