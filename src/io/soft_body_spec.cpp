// The soft_body block of a scene file: its mesh (generated or read from a file, errors naming the
// scene path and the mesh file's line), material, placement, pinned vertices and contact; and the
// hard_contact block of a scene's bodies.
#include <cmath>

#include "maya/core/error.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/mesh_io.hpp"
#include "maya/io/json.hpp"
#include "maya/io/scene_file.hpp"

namespace maya::io {
namespace {

std::array<double, 2> pair_from(const JsonValue& value) {
  const std::vector<double> numbers = value.as_numbers(2);
  return {numbers[0], numbers[1]};
}

void take_mesh(SoftBodySpec& spec, const fem::Mesh& mesh, const JsonValue& where) {
  if (mesh.dim() != 2) {
    where.fail("is a " + std::to_string(mesh.dim()) +
               "-D mesh; scenes are 2-D (triangle meshes only)");
  }
  const auto positions = mesh.rest_positions().data();
  spec.rest_positions.assign(positions.begin(), positions.end());
  spec.triangles.assign(mesh.elements().begin(), mesh.elements().end());
}

}  // namespace

std::vector<double> SoftBodySpec::initial_positions() const {
  const double c = std::cos(angle);
  const double s = std::sin(angle);
  std::vector<double> out;
  for (std::size_t i = 0; i < num_vertices(); ++i) {
    const double x = rest_positions[2 * i];
    const double y = rest_positions[2 * i + 1];
    out.push_back(position[0] + c * x - s * y);
    out.push_back(position[1] + s * x + c * y);
  }
  return out;
}

std::vector<double> SoftBodySpec::initial_velocities() const {
  const std::vector<double> at = initial_positions();
  std::vector<double> out;
  for (std::size_t i = 0; i < num_vertices(); ++i) {
    // v = v0 + omega x (x - position)
    out.push_back(velocity[0] - angular_velocity * (at[2 * i + 1] - position[1]));
    out.push_back(velocity[1] + angular_velocity * (at[2 * i] - position[0]));
  }
  return out;
}

SoftBodySpec parse_soft_body(const JsonValue& value, const std::filesystem::path& base_directory) {
  const JsonObject object(
      value, {"mesh", "material", "position", "angle", "velocity", "angular_velocity", "pinned",
              "integrator", "contact", "obstacles"});
  SoftBodySpec spec;
  const JsonValue mesh = object.required("mesh");
  {
    const JsonObject fields(mesh, {"rectangle", "node", "ele", "gmsh"});
    const auto resolve = [&](const std::string& name) {
      const std::filesystem::path file = name;
      return file.is_absolute() || base_directory == "." ? file : base_directory / file;
    };
    // A mesh reader's errors name the mesh file and its line; the scene path is put before them.
    const auto read = [&](const JsonValue& where, const auto& reader) {
      // Only regular files: a device or a pipe named as a mesh would never end.
      for (const std::string& name : {spec.gmsh_file, spec.node_file, spec.ele_file}) {
        std::error_code error;
        const std::filesystem::path file = resolve(name);
        if (!name.empty() && std::filesystem::exists(file, error) &&
            !std::filesystem::is_regular_file(file, error)) {
          where.fail(file.string() + ": not a regular file");
        }
      }
      try {
        take_mesh(spec, reader(), where);
      } catch (const ParseError& error) {
        where.fail(error.what());
      } catch (const FileError& error) {
        where.fail(error.what());
      } catch (const ValueError& error) {
        where.fail(error.what());
      }
    };
    if (const auto rectangle = fields.optional("rectangle")) {
      const JsonObject r(*rectangle, {"size", "cells"});
      spec.size = pair_from(r.required("size"));
      const JsonValue cells = r.required("cells");
      if (cells.size() != 2) cells.fail("expected [cells_x, cells_y]");
      spec.cells = {cells.at(0).as_index(), cells.at(1).as_index()};
      for (std::size_t k = 0; k < 2; ++k) {
        if (!(spec.size[k] > 0.0)) r.required("size").fail("must be positive");
        if (spec.cells[k] < 1 || spec.cells[k] > 1000) cells.fail("must be in [1, 1000]");
      }
      spec.source = SoftBodySpec::MeshSource::kRectangle;
      read(*rectangle, [&] {
        return fem::rectangle_mesh({.width = spec.size[0],
                                    .height = spec.size[1],
                                    .cells_x = spec.cells[0],
                                    .cells_y = spec.cells[1],
                                    .origin_x = -spec.size[0] / 2,
                                    .origin_y = -spec.size[1] / 2});
      });
    } else if (const auto gmsh = fields.optional("gmsh")) {
      spec.source = SoftBodySpec::MeshSource::kGmsh;
      spec.gmsh_file = gmsh->as_string();
      read(*gmsh, [&] { return fem::read_gmsh(resolve(spec.gmsh_file)); });
    } else if (const auto node = fields.optional("node")) {
      spec.source = SoftBodySpec::MeshSource::kNodeEle;
      spec.node_file = node->as_string();
      spec.ele_file = fields.required("ele").as_string();
      read(*node,
           [&] { return fem::read_node_ele(resolve(spec.node_file), resolve(spec.ele_file)); });
    } else {
      mesh.fail(
          "needs \"rectangle\": {\"size\": [w, h], \"cells\": [nx, ny]}, \"gmsh\": FILE.msh "
          "or \"node\": FILE.node with \"ele\": FILE.ele");
    }
  }
  if (const auto material = object.optional("material")) {
    const JsonObject fields(*material,
                            {"energy", "youngs_modulus", "poisson_ratio", "density", "plane"});
    if (const auto energy = fields.optional("energy")) {
      spec.energy = energy->as_string();
      const std::string_view energies[] = {"linear", "corotational", "stvk", "stable_neo_hookean"};
      bool known = false;
      for (const std::string_view name : energies) known = known || name == spec.energy;
      if (!known) {
        const auto suggestion = nearest_word(spec.energy, energies);
        energy->fail("unknown energy '" + spec.energy + "'" +
                     (suggestion ? "; did you mean '" + *suggestion + "'?"
                                 : " (valid: linear, corotational, stvk, stable_neo_hookean)"));
      }
    }
    spec.youngs_modulus =
        fields.number_or("youngs_modulus", spec.youngs_modulus, NumberRule::kPositive);
    if (const auto nu = fields.optional("poisson_ratio")) {
      spec.poisson_ratio = nu->as_number_in(-0.999, 0.499);
    }
    spec.density = fields.number_or("density", spec.density, NumberRule::kPositive);
    if (const auto plane = fields.optional("plane")) {
      const std::string text = plane->as_string();
      if (text != "strain" && text != "stress") {
        plane->fail("must be \"strain\" or \"stress\", got \"" + text + "\"");
      }
      spec.plane_stress = text == "stress";
    }
  }
  if (const auto position = object.optional("position")) spec.position = pair_from(*position);
  spec.angle = object.number_or("angle", 0.0);
  if (const auto velocity = object.optional("velocity")) spec.velocity = pair_from(*velocity);
  spec.angular_velocity = object.number_or("angular_velocity", 0.0);
  if (const auto pinned = object.optional("pinned")) {
    for (const JsonValue& vertex : pinned->elements()) {
      const std::size_t index = vertex.as_index();
      if (index >= spec.num_vertices()) {
        vertex.fail("vertex " + std::to_string(index) + " does not exist (the mesh has " +
                    std::to_string(spec.num_vertices()) + " vertices, numbered from 0)");
      }
      spec.pinned.push_back(index);
    }
  }
  if (const auto integrator = object.optional("integrator")) {
    const std::string text = integrator->as_string();
    if (text != "explicit" && text != "implicit") {
      integrator->fail(
          "must be \"explicit\" (semi-implicit Euler) or \"implicit\" (backward "
          "Euler), got \"" +
          text + "\"");
    }
    spec.implicit = text == "implicit";
  }
  if (const auto obstacles = object.optional("obstacles")) {
    spec.obstacles = obstacles->as_bool();
  }
  if (const auto contact = object.optional("contact")) {
    const JsonObject fields(*contact, {"stiffness", "damping", "friction", "slip_velocity"});
    spec.contact_stiffness =
        fields.number_or("stiffness", spec.contact_stiffness, NumberRule::kPositive);
    spec.contact_damping =
        fields.number_or("damping", spec.contact_damping, NumberRule::kNonNegative);
    spec.friction = fields.number_or("friction", spec.friction, NumberRule::kNonNegative);
    spec.slip_velocity =
        fields.number_or("slip_velocity", spec.slip_velocity, NumberRule::kPositive);
  }
  return spec;
}

HardContactSpec parse_hard_contact(const JsonValue& value, std::size_t num_bodies) {
  const JsonObject object(value, {"restitution", "friction", "ground", "stabilization", "joints"});
  HardContactSpec spec;
  if (const auto e = object.optional("restitution")) spec.restitution = e->as_number_in(0.0, 1.0);
  spec.friction = object.number_or("friction", spec.friction, NumberRule::kNonNegative);
  spec.ground_restitution = spec.restitution;
  spec.ground_friction = spec.friction;
  if (const auto ground = object.optional("ground")) {
    const JsonObject fields(*ground, {"restitution", "friction"});
    if (const auto e = fields.optional("restitution")) {
      spec.ground_restitution = e->as_number_in(0.0, 1.0);
    }
    spec.ground_friction =
        fields.number_or("friction", spec.ground_friction, NumberRule::kNonNegative);
  }
  if (const auto beta = object.optional("stabilization")) {
    spec.stabilization = beta->as_number_in(0.0, 1.0);
  }
  if (const auto joints = object.optional("joints")) {
    for (const JsonValue& joint : joints->elements()) {
      const JsonObject fields(joint, {"a", "b", "pivot"});
      JointSpec out;
      const auto body = [&](const JsonValue& index) {
        const std::size_t k = index.as_index();
        if (k >= num_bodies) {
          index.fail("body " + std::to_string(k) + " does not exist (the scene has " +
                     std::to_string(num_bodies) + " bodies, numbered from 0)");
        }
        return k;
      };
      out.body_a = body(fields.required("a"));
      if (const auto b = fields.optional("b")) {
        if (!(b->is_string() && b->as_string() == "world")) {
          out.body_b = body(*b);
          if (*out.body_b == out.body_a) b->fail("a body cannot be jointed to itself");
        }
      }
      out.pivot = pair_from(fields.required("pivot"));
      spec.joints.push_back(out);
    }
  }
  return spec;
}

}  // namespace maya::io
