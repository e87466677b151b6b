// The URDF reader: urdfdom builds the robot; a tinyxml2 pass over the same text first checks what
// urdfdom reports without a line (or not at all): masses, inertias, axes, joint types and the
// tree itself, so every error names the file, the line and the element. urdfdom's own messages
// (it logs them through console_bridge) are captured into the ParseError.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "maya/core/error.hpp"
#include "maya/multibody/loaders.hpp"
#include "multibody/xml_frames.hpp"

#if MAYA_HAS_URDFDOM
#include <console_bridge/console.h>
#include <tinyxml2.h>

#include <urdf_parser/urdf_parser.h>
#endif

namespace maya::multibody {

bool urdf_available() noexcept { return MAYA_HAS_URDFDOM != 0; }

Model load_urdf(const std::string& path, const UrdfOptions& options) {
  std::ifstream in(path);
  if (!in) throw ParseError("load_urdf: cannot open '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_urdf(text.str(), path, options);
}

#if !MAYA_HAS_URDFDOM
Model parse_urdf(const std::string&, const std::string& source, const UrdfOptions&) {
  throw Error(
      "parse_urdf: this build of maya has no URDF reader (it needs liburdfdom-dev and "
      "libtinyxml2-dev at build time); cannot read " +
      source);
}
#else

namespace {

using tinyxml2::XMLElement;

[[noreturn]] void fail(const std::string& source, const XMLElement* e, const std::string& what) {
  std::string name;
  if (const char* n = e->Attribute("name")) name = std::string(" '") + n + "'";
  throw ParseError(source + ":" + std::to_string(e->GetLineNum()) + ": <" + e->Name() + ">" + name +
                   ": " + what);
}

std::vector<double> numbers(const std::string& source, const XMLElement* e, const char* name,
                            std::size_t count) {
  const char* text = e->Attribute(name);
  std::vector<double> values;
  if (text == nullptr) return values;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    if (end == token.c_str() || *end != '\0' || !std::isfinite(v)) {
      fail(source, e, std::string("attribute ") + name + "=\"" + text + "\" is not numeric");
    }
    values.push_back(v);
  }
  if (values.size() != count) {
    fail(source, e,
         std::string("attribute ") + name + " needs " + std::to_string(count) + " numbers, got \"" +
             text + "\"");
  }
  return values;
}

// Checks with lines, before urdfdom sees the text. Returns the lines of links and joints by name.
struct Lines {
  std::map<std::string, int> link, joint;
};

Lines check_with_lines(const std::string& xml, const std::string& source) {
  tinyxml2::XMLDocument document;
  if (document.Parse(xml.c_str(), xml.size()) != tinyxml2::XML_SUCCESS) {
    throw ParseError(source + ":" + std::to_string(document.ErrorLineNum()) +
                     ": malformed XML: " + document.ErrorStr());
  }
  const XMLElement* robot = document.RootElement();
  if (robot == nullptr || std::strcmp(robot->Name(), "robot") != 0) {
    throw ParseError(source + ": the root element must be <robot>");
  }
  Lines lines;
  for (const XMLElement* link = robot->FirstChildElement("link"); link != nullptr;
       link = link->NextSiblingElement("link")) {
    const char* name = link->Attribute("name");
    if (name == nullptr) fail(source, link, "a link needs a name");
    if (lines.link.count(name) != 0) fail(source, link, "a second link of this name");
    lines.link[name] = link->GetLineNum();
    const XMLElement* inertial = link->FirstChildElement("inertial");
    if (inertial == nullptr) continue;
    const XMLElement* mass = inertial->FirstChildElement("mass");
    if (mass == nullptr) fail(source, inertial, "an inertial needs a <mass>");
    const std::vector<double> m = numbers(source, mass, "value", 1);
    if (m.empty() || !(m[0] > 0.0)) {
      fail(source, mass,
           "mass must be positive, got " + std::string(mass->Attribute("value") != nullptr
                                                           ? mass->Attribute("value")
                                                           : "nothing"));
    }
    const XMLElement* inertia = inertial->FirstChildElement("inertia");
    if (inertia == nullptr) fail(source, inertial, "an inertial needs an <inertia>");
    double I[6];
    const char* names[6] = {"ixx", "iyy", "izz", "ixy", "ixz", "iyz"};
    for (int k = 0; k < 6; ++k) {
      const std::vector<double> v = numbers(source, inertia, names[k], 1);
      if (v.empty()) fail(source, inertia, std::string("missing ") + names[k]);
      I[k] = v[0];
    }
    const double det = I[0] * (I[1] * I[2] - I[5] * I[5]) - I[3] * (I[3] * I[2] - I[5] * I[4]) +
                       I[4] * (I[3] * I[5] - I[1] * I[4]);
    if (!(I[0] > 0.0 && I[0] * I[1] - I[3] * I[3] > 0.0 && det > 0.0)) {
      fail(source, inertia, "inertia is not positive definite");
    }
  }
  std::map<std::string, std::string> parent_of;  // child link -> parent link
  for (const XMLElement* joint = robot->FirstChildElement("joint"); joint != nullptr;
       joint = joint->NextSiblingElement("joint")) {
    const char* name = joint->Attribute("name");
    if (name == nullptr) fail(source, joint, "a joint needs a name");
    lines.joint[name] = joint->GetLineNum();
    const char* type = joint->Attribute("type");
    const std::set<std::string> supported{"revolute", "continuous", "prismatic", "fixed"};
    if (type == nullptr || supported.count(type) == 0) {
      fail(source, joint,
           std::string("joint type \"") + (type != nullptr ? type : "") +
               "\" is not supported (revolute, continuous, prismatic, fixed)");
    }
    const XMLElement* parent = joint->FirstChildElement("parent");
    const XMLElement* child = joint->FirstChildElement("child");
    if (parent == nullptr || child == nullptr || parent->Attribute("link") == nullptr ||
        child->Attribute("link") == nullptr) {
      fail(source, joint, "a joint needs <parent link=...> and <child link=...>");
    }
    const std::string p = parent->Attribute("link"), c = child->Attribute("link");
    if (lines.link.count(p) == 0) fail(source, parent, "no link named '" + p + "'");
    if (lines.link.count(c) == 0) fail(source, child, "no link named '" + c + "'");
    if (parent_of.count(c) != 0) {
      fail(source, joint,
           "link '" + c + "' already has the parent '" + parent_of[c] +
               "': a kinematic loop (URDF describes trees)");
    }
    parent_of[c] = p;
    if (const XMLElement* axis = joint->FirstChildElement("axis")) {
      const std::vector<double> a = numbers(source, axis, "xyz", 3);
      if (a.size() == 3 && std::strcmp(type, "fixed") != 0 &&
          std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) < 1e-12) {
        fail(source, axis, "joint axis has zero length");
      }
    }
  }
  // Every link reaches a root by following parents, or it sits on a loop.
  for (const auto& [link, line] : lines.link) {
    std::string at = link;
    for (std::size_t hops = 0; parent_of.count(at) != 0; ++hops) {
      at = parent_of[at];
      if (hops > lines.link.size()) {
        throw ParseError(source + ":" + std::to_string(line) + ": <link> '" + link +
                         "': on a kinematic loop of joints");
      }
    }
  }
  return lines;
}

// Collects urdfdom's console_bridge messages.
class Capture : public console_bridge::OutputHandler {
 public:
  void log(const std::string& text, console_bridge::LogLevel level, const char*, int) override {
    if (level >= console_bridge::CONSOLE_BRIDGE_LOG_ERROR)
      messages += (messages.empty() ? "" : "; ") + text;
  }
  std::string messages;
};

Quaternion quaternion(const urdf::Rotation& r) { return {r.w, r.x, r.y, r.z}; }
Vec3 vector(const urdf::Vector3& v) { return {v.x, v.y, v.z}; }

struct Builder {
  const std::string& source;
  const Lines& lines;
  const UrdfOptions& options;
  std::vector<Body> bodies;
  std::vector<Actuator> actuators;

  [[noreturn]] void fail_link(const std::string& link, const std::string& what) const {
    const auto it = lines.link.find(link);
    throw ParseError(source + ":" + std::to_string(it != lines.link.end() ? it->second : 0) +
                     ": <link> '" + link + "': " + what);
  }

  void set_inertial(Body& body, const urdf::Link& link) const {
    const urdf::Inertial& in = *link.inertial;
    body.mass = in.mass;
    body.com = vector(in.origin.position);
    const Quaternion q = quaternion(in.origin.rotation);
    const detail::Mat3<double> R = detail::quat_to_matrix(
        detail::quat_normalized(detail::Quat<double>{q[0], q[1], q[2], q[3]}));
    const detail::Mat3<double> I{in.ixx, in.ixy, in.ixz, in.ixy, in.iyy,
                                 in.iyz, in.ixz, in.iyz, in.izz};
    const detail::Mat3<double> rotated = detail::mul(detail::mul(R, I), detail::transpose(R));
    body.inertia = {rotated[0], rotated[4], rotated[8], rotated[1], rotated[2], rotated[5]};
  }

  void set_geoms(Body& body, const urdf::Link& link) const {
    for (const urdf::CollisionSharedPtr& collision : link.collision_array) {
      if (!collision || !collision->geometry) continue;
      Geom g;
      g.position = vector(collision->origin.position);
      g.orientation = quaternion(collision->origin.rotation);
      const urdf::Geometry& geometry = *collision->geometry;
      switch (geometry.type) {
        case urdf::Geometry::SPHERE:
          g.type = ShapeType::kSphere;
          g.radius = static_cast<const urdf::Sphere&>(geometry).radius;
          break;
        case urdf::Geometry::BOX: {
          const urdf::Vector3& d = static_cast<const urdf::Box&>(geometry).dim;
          g.type = ShapeType::kBox;
          g.size = {0.5 * d.x, 0.5 * d.y, 0.5 * d.z};
          break;
        }
        case urdf::Geometry::CYLINDER: {  // collides as a capsule of the same radius and length
          const auto& c = static_cast<const urdf::Cylinder&>(geometry);
          g.type = ShapeType::kCapsule;
          g.radius = c.radius;
          g.half_length = 0.5 * c.length;
          break;
        }
        case urdf::Geometry::MESH: continue;  // meshes do not collide (no convex meshes yet)
      }
      body.geoms.push_back(g);
    }
  }

  // A massless link gets a negligible mass when it is welded on (a frame such as a tool flange);
  // one that moves on its own joint is an error.
  void massless(Body& body, const urdf::Link& link) const {
    if (body.joint != JointType::kFixed) {
      fail_link(link.name, "has no <inertial> but moves on joint '" + body.joint_name + "'");
    }
    body.mass = 1e-9;
    body.inertia = {1e-12, 1e-12, 1e-12, 0.0, 0.0, 0.0};
  }

  void add_subtree(const urdf::Link& link, int parent) {
    for (const urdf::JointSharedPtr& joint : link.child_joints) {
      const urdf::LinkSharedPtr child = [&] {
        for (const urdf::LinkSharedPtr& c : link.child_links) {
          if (c->name == joint->child_link_name) return c;
        }
        return urdf::LinkSharedPtr();
      }();
      if (!child) continue;
      Body body;
      body.name = child->name;
      body.joint_name = joint->name;
      body.parent = parent;
      body.joint_position = vector(joint->parent_to_joint_origin_transform.position);
      body.joint_orientation = quaternion(joint->parent_to_joint_origin_transform.rotation);
      body.axis = vector(joint->axis);
      switch (joint->type) {
        case urdf::Joint::REVOLUTE:
        case urdf::Joint::CONTINUOUS: body.joint = JointType::kRevolute; break;
        case urdf::Joint::PRISMATIC: body.joint = JointType::kPrismatic; break;
        default: body.joint = JointType::kFixed; break;
      }
      if (joint->dynamics) body.damping = joint->dynamics->damping;
      const bool scalar = body.joint != JointType::kFixed;
      if (scalar && joint->type != urdf::Joint::CONTINUOUS && joint->limits &&
          joint->limits->lower < joint->limits->upper) {
        body.limited = true;
        body.lower = joint->limits->lower;
        body.upper = joint->limits->upper;
      }
      if (child->inertial) {
        set_inertial(body, *child);
      } else {
        massless(body, *child);
      }
      set_geoms(body, *child);
      const int index = static_cast<int>(bodies.size());
      bodies.push_back(body);
      if (scalar && options.actuate_joints) {
        Actuator act;
        act.name = joint->name;
        act.body = index;
        if (joint->limits && joint->limits->effort > 0.0) {
          act.ctrl_limited = true;
          act.ctrl_lower = -joint->limits->effort;
          act.ctrl_upper = joint->limits->effort;
        }
        actuators.push_back(act);
      }
      add_subtree(*child, index);
    }
  }
};

}  // namespace

Model parse_urdf(const std::string& xml, const std::string& source, const UrdfOptions& options) {
  const Lines lines = check_with_lines(xml, source);
  Capture capture;
  console_bridge::useOutputHandler(&capture);
  const urdf::ModelInterfaceSharedPtr robot = urdf::parseURDF(xml);
  console_bridge::restorePreviousOutputHandler();
  if (!robot) {
    throw ParseError(source + ": urdfdom rejected the robot: " +
                     (capture.messages.empty() ? "no reason given" : capture.messages));
  }
  const urdf::LinkConstSharedPtr root = robot->getRoot();
  if (!root) throw ParseError(source + ": no root link");
  Builder builder{source, lines, options, {}, {}};
  int root_index = -1;
  if (root->inertial || options.floating_base) {
    Body base;
    base.name = root->name;
    base.joint = options.floating_base ? JointType::kFree : JointType::kFixed;
    base.joint_name = options.floating_base ? "floating_base" : "";
    if (root->inertial) {
      builder.set_inertial(base, *root);
    } else {
      builder.fail_link(root->name, "a floating base needs an <inertial>");
    }
    builder.set_geoms(base, *root);
    builder.bodies.push_back(base);
    root_index = 0;
  }
  builder.add_subtree(*root, root_index);
  if (builder.bodies.empty()) builder.fail_link(root->name, "the robot has no moving links");
  ModelOptions model_options;
  model_options.gravity = options.gravity;
  if (options.ground_plane) model_options.planes = {Plane{}};
  model_options.body_contact = options.self_collision;
  model_options.contact_model = options.contact_model;
  try {
    return Model(std::move(builder.bodies), std::move(builder.actuators), model_options);
  } catch (const ValueError& e) {
    throw ParseError(source + ": " + e.what());
  }
}

#endif

}  // namespace maya::multibody
