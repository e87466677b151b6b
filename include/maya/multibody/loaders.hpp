// Robot models from files: MJCF (a subset: bodies, joints, geoms, inertials, actuators, options,
// root defaults) through tinyxml2, and URDF through urdfdom. A malformed or unsupported element,
// a non-positive mass, an inertia that is not positive definite, a kinematic loop or a zero-length
// axis throws maya::ParseError naming the file, the line and the element.
#pragma once

#include <optional>
#include <string>

#include "maya/multibody/model.hpp"

namespace maya::multibody {

// Whether this build has the loaders (they need tinyxml2 and urdfdom at build time); without them
// the functions below throw maya::Error saying which package is missing.
[[nodiscard]] bool mjcf_available() noexcept;
[[nodiscard]] bool urdf_available() noexcept;

struct MjcfOptions {
  // The contact model (ModelOptions::contact_model). Unset: the file's, which MJCF has no
  // attribute for; maya reads <custom><text name="maya.contact" data="hard|penalty"/></custom>
  // (MJCF's element for user data, which MuJoCo ignores), penalty without it.
  std::optional<ContactModel> contact_model;
};

// MJCF. `source` names the text in error messages.
[[nodiscard]] Model load_mjcf(const std::string& path, const MjcfOptions& options = {});
[[nodiscard]] Model parse_mjcf(const std::string& xml, const std::string& source = "<string>",
                               const MjcfOptions& options = {});

struct UrdfOptions {
  bool floating_base = false;  // a free joint on the root link; else it is welded to the world
  bool ground_plane = false;   // the plane z = 0
  bool actuate_joints = true;  // a torque actuator per revolute/prismatic joint (effort limits
                               // become control ranges)
  Vec3 gravity{0.0, 0.0, -9.81};
  // Contact between the links' collision shapes (ModelOptions::body_contact). Off by default, as
  // URDF files often let neighbouring links' shapes overlap at their joints.
  bool self_collision = false;
  // Penalty contact, or hard contact through the interior-point solver (ModelOptions::
  // contact_model; URDF has no element for it).
  ContactModel contact_model = ContactModel::kPenalty;
};
[[nodiscard]] Model load_urdf(const std::string& path, const UrdfOptions& options = {});
[[nodiscard]] Model parse_urdf(const std::string& xml, const std::string& source = "<string>",
                               const UrdfOptions& options = {});

}  // namespace maya::multibody
