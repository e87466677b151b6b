// The MJCF reader (a subset of MuJoCo's format) on tinyxml2. Supported: <compiler angle
// eulerseq="xyz" inertiafromgeom>, <option timestep gravity integrator> with <flag contact>, one
// level of <default> (joint, geom, motor, position, velocity), <worldbody> planes and a tree of
// <body pos quat euler axisangle> with <joint>s (hinge, slide, ball, free; several in one body
// become a chain of negligible-mass links) or <freejoint>, <inertial>, <geom> (sphere, capsule,
// box, cylinder as a capsule for contact; size or fromto), and <actuator> motor, position,
// velocity. Elements that change the dynamics and are not supported (tendons, equality constraints,
// composites) are a ParseError; purely visual ones (site, camera, light, asset, visual, sensor) are
// skipped.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/multibody/loaders.hpp"
#include "multibody/xml_frames.hpp"

#if MAYA_HAS_TINYXML2
#include <tinyxml2.h>
#endif

namespace maya::multibody {

bool mjcf_available() noexcept { return MAYA_HAS_TINYXML2 != 0; }

Model load_mjcf(const std::string& path, const MjcfOptions& options) {
  std::ifstream in(path);
  if (!in) throw ParseError("load_mjcf: cannot open '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_mjcf(text.str(), path, options);
}

#if !MAYA_HAS_TINYXML2
Model parse_mjcf(const std::string&, const std::string& source, const MjcfOptions&) {
  throw Error(
      "parse_mjcf: this build of maya has no MJCF reader (it needs libtinyxml2-dev at "
      "build time); cannot read " +
      source);
}
#else

namespace {

using detail::Mat3;
using tinyxml2::XMLElement;

// The links that carry all but the last of a body's joints.
constexpr double kNegligibleMass = 1e-9;
constexpr double kNegligibleInertia = 1e-12;

struct Reader {
  std::string source;
  double angle_scale = std::numbers::pi / 180.0;  // MJCF's default unit is the degree
  bool inertia_from_geom_always = false;
  std::map<std::string, std::map<std::string, std::string> > defaults;  // element -> attributes
  std::vector<Body> bodies;
  std::map<std::string, std::size_t> joint_body;  // joint name -> body
  ModelOptions options;
  bool friction_set = false;

  [[noreturn]] void fail(const XMLElement* e, const std::string& what) const {
    throw ParseError(source + ":" + std::to_string(e->GetLineNum()) + ": <" + e->Name() +
                     ">: " + what);
  }

  // The attribute, or the default class's value for this element kind, or null.
  const char* attribute(const XMLElement* e, const char* name, const char* kind = nullptr) const {
    if (const char* value = e->Attribute(name)) return value;
    const auto d = defaults.find(kind != nullptr ? kind : e->Name());
    if (d == defaults.end()) return nullptr;
    const auto a = d->second.find(name);
    return a == d->second.end() ? nullptr : a->second.c_str();
  }

  std::vector<double> numbers(const XMLElement* e, const char* name, const char* text) const {
    std::vector<double> values;
    std::istringstream in(text);
    std::string token;
    while (in >> token) {
      char* end = nullptr;
      const double v = std::strtod(token.c_str(), &end);
      if (end == token.c_str() || *end != '\0' || !std::isfinite(v)) {
        fail(e, std::string("attribute ") + name + "=\"" + text + "\" is not a list of numbers");
      }
      values.push_back(v);
    }
    return values;
  }

  // The attribute as exactly `count` numbers (or `fallback` when absent).
  std::vector<double> read(const XMLElement* e, const char* name, std::size_t count,
                           std::vector<double> fallback, const char* kind = nullptr) const {
    const char* text = attribute(e, name, kind);
    if (text == nullptr) return fallback;
    std::vector<double> values = numbers(e, name, text);
    if (values.size() != count) {
      fail(e, std::string("attribute ") + name + " needs " + std::to_string(count) +
                  " numbers, got \"" + text + "\"");
    }
    return values;
  }
  double read1(const XMLElement* e, const char* name, double fallback,
               const char* kind = nullptr) const {
    return read(e, name, 1, {fallback}, kind)[0];
  }

  bool flag(const XMLElement* e, const char* name, bool fallback,
            const char* kind = nullptr) const {
    const char* text = attribute(e, name, kind);
    if (text == nullptr) return fallback;
    if (std::strcmp(text, "true") == 0) return true;
    if (std::strcmp(text, "false") == 0) return false;
    if (std::strcmp(text, "auto") == 0) return fallback;
    fail(e,
         std::string("attribute ") + name + " must be true, false or auto, got \"" + text + "\"");
  }

  // The frame of an element relative to its parent: pos, and one of quat, euler, axisangle.
  std::pair<Mat3<double>, Vec3> frame(const XMLElement* e) const {
    const std::vector<double> p = read(e, "pos", 3, {0.0, 0.0, 0.0});
    Mat3<double> R = detail::identity3<double>();
    int given = 0;
    if (e->Attribute("quat") != nullptr) {
      ++given;
      const std::vector<double> q = read(e, "quat", 4, {});
      const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
      if (!(n > 0.0)) fail(e, "quat is zero");
      R = detail::quat_to_matrix(detail::Quat<double>{q[0] / n, q[1] / n, q[2] / n, q[3] / n});
    }
    if (e->Attribute("euler") != nullptr) {
      ++given;
      const std::vector<double> a = read(e, "euler", 3, {});
      // eulerseq "xyz": intrinsic rotations, R = Rx Ry Rz.
      R = detail::mul(detail::mul(detail::rotation_x(a[0] * angle_scale),
                                  detail::rotation_y(a[1] * angle_scale)),
                      detail::rotation_z(a[2] * angle_scale));
    }
    if (e->Attribute("axisangle") != nullptr) {
      ++given;
      const std::vector<double> a = read(e, "axisangle", 4, {});
      const double n = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
      if (!(n > 0.0)) fail(e, "axisangle has a zero-length axis");
      R = detail::axis_angle(Vec3{a[0] / n, a[1] / n, a[2] / n}, a[3] * angle_scale);
    }
    if (given > 1) fail(e, "give at most one of quat, euler and axisangle");
    return {R, Vec3{p[0], p[1], p[2]}};
  }

  void read_defaults(const XMLElement* d) {
    for (const XMLElement* c = d->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
      if (std::strcmp(c->Name(), "default") == 0) {
        fail(c, "nested default classes are not supported (only the root default)");
      }
      auto& map = defaults[c->Name()];
      for (const tinyxml2::XMLAttribute* a = c->FirstAttribute(); a != nullptr; a = a->Next()) {
        map[a->Name()] = a->Value();
      }
    }
  }

  void read_option(const XMLElement* e) {
    options.timestep = read1(e, "timestep", options.timestep);
    const std::vector<double> g = read(e, "gravity", 3, {0.0, 0.0, -9.81});
    options.gravity = {g[0], g[1], g[2]};
    if (const char* integrator = e->Attribute("integrator")) {
      if (std::strcmp(integrator, "Euler") == 0) {
        options.integrator = Integrator::kSemiImplicitEuler;
      } else if (std::strcmp(integrator, "RK4") == 0) {
        options.integrator = Integrator::kRungeKutta4;
      } else {
        fail(e, std::string("integrator \"") + integrator + "\" is not supported (Euler, RK4)");
      }
    }
    for (const XMLElement* f = e->FirstChildElement("flag"); f != nullptr;
         f = f->NextSiblingElement("flag")) {
      if (const char* contact = f->Attribute("contact")) {
        if (std::strcmp(contact, "disable") == 0)
          options.planes.clear(), options.body_contact = false, contact_disabled = true;
      }
    }
  }
  bool contact_disabled = false;

  // A collision geom of a body (frame: the body's, shifted by `offset`), and its solid's mass.
  void read_geom(const XMLElement* e, Body& body, const Vec3& offset,
                 detail::MassAccumulator& mass) {
    const char* type_text = attribute(e, "type");
    const std::string type = type_text != nullptr ? type_text : "sphere";
    auto [R, p] = frame(e);
    const std::vector<double> size = [&] {
      const char* text = attribute(e, "size");
      return text != nullptr ? numbers(e, "size", text) : std::vector<double>{};
    }();
    const auto need = [&](std::size_t n) {
      if (size.size() < n) {
        fail(e, type + " needs " + std::to_string(n) + " size numbers, got " +
                    std::to_string(size.size()));
      }
      for (std::size_t k = 0; k < n; ++k) {
        if (!(size[k] > 0.0)) fail(e, "size must be positive");
      }
    };
    Geom g;
    double half_length = 0.0;
    if ((type == "capsule" || type == "cylinder") && e->Attribute("fromto") != nullptr) {
      const std::vector<double> ft = read(e, "fromto", 6, {});
      const Vec3 d{ft[3] - ft[0], ft[4] - ft[1], ft[5] - ft[2]};
      const double length = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (!(length > 0.0)) fail(e, "fromto has zero length");
      if (size.empty() || !(size[0] > 0.0)) fail(e, "a fromto " + type + " needs a radius size");
      p = {0.5 * (ft[0] + ft[3]), 0.5 * (ft[1] + ft[4]), 0.5 * (ft[2] + ft[5])};
      // The rotation taking z to d / |d| (about z x d).
      const Vec3 z{d[0] / length, d[1] / length, d[2] / length};
      const double c = z[2];
      const Vec3 axis{-z[1], z[0], 0.0};
      const double s = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1]);
      R = s < 1e-12 ? (c > 0 ? detail::identity3<double>() : detail::rotation_x(std::numbers::pi))
                    : detail::axis_angle(Vec3{axis[0] / s, axis[1] / s, 0.0}, std::atan2(s, c));
      half_length = 0.5 * length;
    } else if (type == "capsule" || type == "cylinder") {
      need(2);
      half_length = size[1];
    }
    const double density = read1(e, "density", 1000.0);
    detail::ShapeMass solid;
    if (type == "sphere") {
      need(1);
      g.type = ShapeType::kSphere;
      g.radius = size[0];
      solid = detail::solid_sphere(density, size[0]);
    } else if (type == "capsule" || type == "cylinder") {
      if (size.empty()) fail(e, type + " needs a radius");
      g.type = ShapeType::kCapsule;
      g.radius = size[0];
      g.half_length = half_length;
      solid = type == "capsule" ? detail::solid_capsule(density, size[0], half_length)
                                : detail::solid_cylinder(density, size[0], half_length);
    } else if (type == "box") {
      need(3);
      g.type = ShapeType::kBox;
      g.size = {size[0], size[1], size[2]};
      solid = detail::solid_box(density, g.size);
    } else if (type == "plane") {
      fail(e, "a plane must be a <worldbody> geom, not a body's");
    } else {
      fail(e,
           "geom type \"" + type + "\" is not supported (sphere, capsule, box, cylinder, plane)");
    }
    if (const char* m = attribute(e, "mass")) {
      const double given = numbers(e, "mass", m).at(0);
      if (!(given >= 0.0)) fail(e, "mass must be non-negative");
      const double factor = solid.mass > 0.0 ? given / solid.mass : 0.0;
      solid.mass = given;
      for (double& x : solid.inertia) x *= factor;
    }
    const Vec3 shifted{p[0] - offset[0], p[1] - offset[1], p[2] - offset[2]};
    mass.add(solid, R, shifted);
    g.position = shifted;
    g.orientation = detail::quaternion_of(R);
    const double contype = read1(e, "contype", 1.0), conaffinity = read1(e, "conaffinity", 1.0);
    if (!(contype >= 0.0 && contype < 4294967296.0 && conaffinity >= 0.0 &&
          conaffinity < 4294967296.0)) {
      fail(e, "contype and conaffinity must be bitmasks (integers >= 0)");
    }
    g.contype = static_cast<unsigned>(contype);
    g.conaffinity = static_cast<unsigned>(conaffinity);
    if (g.contype != 0 || g.conaffinity != 0) body.geoms.push_back(g);
    read_friction(e);
  }

  void read_friction(const XMLElement* e) {
    if (const char* text = attribute(e, "friction", "geom")) {
      const std::vector<double> f = numbers(e, "friction", text);
      if (f.empty() || !(f[0] >= 0.0)) fail(e, "friction must be non-negative");
      if (!friction_set) options.friction = f[0];
      friction_set = true;
    }
  }

  // The joint's kind, axis, damping, armature and range into `body`; returns its anchor (pos) in
  // the body frame.
  Vec3 read_joint(const XMLElement* j, Body& body, int parent, std::size_t joints_in_body) {
    const bool free = std::strcmp(j->Name(), "freejoint") == 0;
    const char* type_text = free ? "free" : attribute(j, "type", "joint");
    const std::string type = type_text != nullptr ? type_text : "hinge";
    if (j->Attribute("name") != nullptr) body.joint_name = j->Attribute("name");
    if (type == "free") {
      if (parent != -1) fail(j, "a free joint must be on a child of <worldbody>");
      if (joints_in_body != 1) fail(j, "a free joint must be its body's only joint");
      body.joint = JointType::kFree;
      return {0.0, 0.0, 0.0};
    }
    if (type == "hinge") {
      body.joint = JointType::kRevolute;
    } else if (type == "slide") {
      body.joint = JointType::kPrismatic;
    } else if (type == "ball") {
      body.joint = JointType::kSpherical;
    } else {
      fail(j, "joint type \"" + type + "\" is not supported (hinge, slide, ball, free)");
    }
    const std::vector<double> anchor = read(j, "pos", 3, {0.0, 0.0, 0.0}, "joint");
    const std::vector<double> axis = read(j, "axis", 3, {0.0, 0.0, 1.0}, "joint");
    if (std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]) < 1e-12) {
      fail(j, "joint axis has zero length");
    }
    body.axis = {axis[0], axis[1], axis[2]};
    body.damping = read1(j, "damping", 0.0, "joint");
    body.armature = read1(j, "armature", 0.0, "joint");
    if (body.damping < 0.0 || body.armature < 0.0) {
      fail(j, "damping and armature must be non-negative");
    }
    const char* range_text = attribute(j, "range", "joint");
    body.limited =
        flag(j, "limited", range_text != nullptr, "joint") && body.joint != JointType::kSpherical;
    if (body.limited) {
      if (range_text == nullptr) fail(j, "limited joint without a range");
      const std::vector<double> range = read(j, "range", 2, {}, "joint");
      const double scale = body.joint == JointType::kRevolute ? angle_scale : 1.0;
      body.lower = range[0] * scale;
      body.upper = range[1] * scale;
      if (!(body.lower <= body.upper)) fail(j, "range lower > upper");
    }
    return {anchor[0], anchor[1], anchor[2]};
  }

  void read_body(const XMLElement* e, int parent, const Vec3& parent_offset) {
    for (const char* unsupported : {"composite", "flexcomp", "replicate"}) {
      if (e->FirstChildElement(unsupported) != nullptr) {
        fail(e->FirstChildElement(unsupported), "element is not supported");
      }
    }
    Body body;
    body.name = e->Attribute("name") != nullptr ? e->Attribute("name")
                                                : "body" + std::to_string(bodies.size());
    body.parent = parent;
    const auto [R, p] = frame(e);
    const Vec3 position{p[0] - parent_offset[0], p[1] - parent_offset[1], p[2] - parent_offset[2]};
    std::vector<const XMLElement*> joints;
    for (const XMLElement* c = e->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
      if (std::strcmp(c->Name(), "joint") == 0 || std::strcmp(c->Name(), "freejoint") == 0) {
        joints.push_back(c);
      }
    }
    Vec3 offset{0.0, 0.0, 0.0};  // the last joint's anchor in the body frame becomes its origin
    body.joint_position = position;
    body.joint_orientation = detail::quaternion_of(R);
    // Several joints in one body act in order, each about its own anchor: they become a chain of
    // bodies of negligible mass, one joint each, whose frames sit at the anchors.
    int chain_parent = parent;
    Vec3 previous_anchor{0.0, 0.0, 0.0};
    for (std::size_t k = 0; k < joints.size(); ++k) {
      const XMLElement* j = joints[k];
      const bool last = k + 1 == joints.size();
      Body link;
      Body& target = last ? body : link;
      if (!last) {
        link.name = body.name + "/" +
                    (j->Attribute("name") != nullptr ? j->Attribute("name") : std::to_string(k));
        link.mass = kNegligibleMass;
        link.inertia = {kNegligibleInertia, kNegligibleInertia, kNegligibleInertia, 0.0, 0.0, 0.0};
      }
      target.parent = chain_parent;
      const Vec3 anchor = read_joint(j, target, parent, joints.size());
      if (target.joint == JointType::kFree) {
        target.initial_q = {position[0],
                            position[1],
                            position[2],
                            body.joint_orientation[0],
                            body.joint_orientation[1],
                            body.joint_orientation[2],
                            body.joint_orientation[3]};
        target.joint_position = {0.0, 0.0, 0.0};
        target.joint_orientation = {1.0, 0.0, 0.0, 0.0};
      } else if (k == 0) {
        const Vec3 shift = detail::mul(R, anchor);
        target.joint_position = {position[0] + shift[0], position[1] + shift[1],
                                 position[2] + shift[2]};
        target.joint_orientation = detail::quaternion_of(R);
      } else {
        target.joint_position = {anchor[0] - previous_anchor[0], anchor[1] - previous_anchor[1],
                                 anchor[2] - previous_anchor[2]};
        target.joint_orientation = {1.0, 0.0, 0.0, 0.0};
      }
      if (!target.joint_name.empty()) joint_body[target.joint_name] = bodies.size();
      previous_anchor = anchor;
      offset = anchor;
      if (!last) {
        chain_parent = static_cast<int>(bodies.size());
        bodies.push_back(link);
      }
    }
    body.parent = chain_parent;
    detail::MassAccumulator mass;
    for (const XMLElement* g = e->FirstChildElement("geom"); g != nullptr;
         g = g->NextSiblingElement("geom")) {
      read_geom(g, body, offset, mass);
    }
    if (const XMLElement* in = e->FirstChildElement("inertial");
        in != nullptr && !inertia_from_geom_always) {
      const auto [Ri, pi] = frame(in);
      body.mass = read1(in, "mass", -1.0);
      if (!(body.mass > 0.0)) fail(in, "mass must be positive, got " + std::to_string(body.mass));
      body.com = {pi[0] - offset[0], pi[1] - offset[1], pi[2] - offset[2]};
      if (in->Attribute("fullinertia") != nullptr) {
        const std::vector<double> f = read(in, "fullinertia", 6, {});
        const std::array<double, 6> local{f[0], f[1], f[2], f[3], f[4], f[5]};
        // Rotate the full tensor by Ri: expand, rotate, pack.
        const Mat3<double> I{local[0], local[3], local[4], local[3], local[1],
                             local[5], local[4], local[5], local[2]};
        const Mat3<double> rotated = detail::mul(detail::mul(Ri, I), detail::transpose(Ri));
        body.inertia = {rotated[0], rotated[4], rotated[8], rotated[1], rotated[2], rotated[5]};
      } else {
        const std::vector<double> d = read(in, "diaginertia", 3, {});
        if (d.empty()) fail(in, "give diaginertia or fullinertia");
        body.inertia = detail::rotate_inertia(Ri, Vec3{d[0], d[1], d[2]});
      }
      check_inertia(in, body.inertia);
    } else {
      if (!(mass.mass() > 0.0)) {
        fail(e, "body '" + body.name + "' has no mass: give an <inertial> or geoms with mass");
      }
      body.mass = mass.mass();
      body.com = mass.com();
      body.inertia = mass.inertia();
    }
    const int index = static_cast<int>(bodies.size());
    bodies.push_back(body);
    for (const XMLElement* c = e->FirstChildElement("body"); c != nullptr;
         c = c->NextSiblingElement("body")) {
      read_body(c, index, offset);
    }
  }

  void check_inertia(const XMLElement* e, const std::array<double, 6>& I) const {
    const double xx = I[0], yy = I[1], zz = I[2], xy = I[3], xz = I[4], yz = I[5];
    const double det =
        xx * (yy * zz - yz * yz) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz);
    if (!(xx > 0.0 && xx * yy - xy * xy > 0.0 && det > 0.0)) {
      fail(e, "inertia is not positive definite");
    }
  }

  void read_world(const XMLElement* world) {
    for (const XMLElement* c = world->FirstChildElement(); c != nullptr;
         c = c->NextSiblingElement()) {
      const std::string name = c->Name();
      if (name == "body") {
        read_body(c, -1, Vec3{0.0, 0.0, 0.0});
      } else if (name == "geom") {
        const char* type = attribute(c, "type");
        if (type == nullptr || std::strcmp(type, "plane") != 0) {
          fail(c, "only planes are supported as world geoms");
        }
        const auto [R, p] = frame(c);
        const Vec3 n{R[2], R[5], R[8]};  // the plane's z axis
        if (!contact_disabled) planes.push_back(Plane{n, n[0] * p[0] + n[1] * p[1] + n[2] * p[2]});
        read_friction(c);
      } else if (name == "joint" || name == "freejoint" || name == "inertial") {
        fail(c, "the world body cannot have this element");
      }
    }
  }
  std::vector<Plane> planes;

  std::vector<Actuator> read_actuators(const XMLElement* a) {
    std::vector<Actuator> out;
    for (const XMLElement* e = a->FirstChildElement(); e != nullptr; e = e->NextSiblingElement()) {
      const std::string kind = e->Name();
      Actuator act;
      act.name = e->Attribute("name") != nullptr ? e->Attribute("name") : kind;
      if (kind == "motor") {
        act.type = ActuatorType::kTorque;
        if (const char* g = attribute(e, "gear")) {
          const std::vector<double> gear = numbers(e, "gear", g);
          if (gear.empty()) fail(e, "gear is empty");
          act.gear = gear[0];
        }
      } else if (kind == "position") {
        act.type = ActuatorType::kPosition;
        act.kp = read1(e, "kp", 1.0);
        act.kv = read1(e, "kv", 0.0);
      } else if (kind == "velocity") {
        act.type = ActuatorType::kVelocity;
        act.kv = read1(e, "kv", 1.0);
      } else {
        fail(e, "actuator \"" + kind + "\" is not supported (motor, position, velocity)");
      }
      const char* joint = e->Attribute("joint");
      if (joint == nullptr) fail(e, "an actuator needs a joint attribute");
      const auto it = joint_body.find(joint);
      if (it == joint_body.end()) fail(e, std::string("no joint named '") + joint + "'");
      act.body = static_cast<int>(it->second);
      const JointType type = bodies[it->second].joint;
      if (type != JointType::kRevolute && type != JointType::kPrismatic) {
        fail(e, std::string("joint '") + joint + "' is not a hinge or slide");
      }
      const char* range = attribute(e, "ctrlrange");
      act.ctrl_limited = flag(e, "ctrllimited", range != nullptr);
      if (act.ctrl_limited) {
        if (range == nullptr) fail(e, "ctrllimited without a ctrlrange");
        const std::vector<double> r = read(e, "ctrlrange", 2, {});
        act.ctrl_lower = r[0];
        act.ctrl_upper = r[1];
        if (!(r[0] <= r[1])) fail(e, "ctrlrange lower > upper");
      }
      out.push_back(act);
    }
    return out;
  }
};

}  // namespace

Model parse_mjcf(const std::string& xml, const std::string& source,
                 const MjcfOptions& mjcf_options) {
  tinyxml2::XMLDocument document;
  if (document.Parse(xml.c_str(), xml.size()) != tinyxml2::XML_SUCCESS) {
    throw ParseError(source + ":" + std::to_string(document.ErrorLineNum()) +
                     ": malformed XML: " + document.ErrorStr());
  }
  const XMLElement* root = document.RootElement();
  Reader reader;
  reader.source = source;
  if (root == nullptr || std::strcmp(root->Name(), "mujoco") != 0) {
    throw ParseError(source + ": the root element must be <mujoco>");
  }
  for (const XMLElement* e = root->FirstChildElement(); e != nullptr; e = e->NextSiblingElement()) {
    const std::string name = e->Name();
    if (name == "tendon" || name == "equality") {
      reader.fail(e, "element is not supported (it adds constraints or forces)");
    }
  }
  if (const XMLElement* compiler = root->FirstChildElement("compiler")) {
    if (const char* angle = compiler->Attribute("angle")) {
      if (std::strcmp(angle, "radian") == 0) {
        reader.angle_scale = 1.0;
      } else if (std::strcmp(angle, "degree") != 0) {
        reader.fail(compiler, std::string("angle \"") + angle + "\" must be radian or degree");
      }
    }
    if (const char* seq = compiler->Attribute("eulerseq");
        seq != nullptr && std::strcmp(seq, "xyz") != 0) {
      reader.fail(compiler, "only eulerseq=\"xyz\" is supported");
    }
    if (const char* coordinate = compiler->Attribute("coordinate");
        coordinate != nullptr && std::strcmp(coordinate, "local") != 0) {
      reader.fail(compiler, "only local coordinates are supported");
    }
    if (const char* from_geom = compiler->Attribute("inertiafromgeom")) {
      reader.inertia_from_geom_always = std::strcmp(from_geom, "true") == 0;
    }
  }
  if (const XMLElement* d = root->FirstChildElement("default")) reader.read_defaults(d);
  if (const XMLElement* option = root->FirstChildElement("option")) reader.read_option(option);
  const XMLElement* world = root->FirstChildElement("worldbody");
  if (world == nullptr) throw ParseError(source + ": no <worldbody>");
  reader.read_world(world);
  if (reader.bodies.empty()) reader.fail(world, "no bodies");
  std::vector<Actuator> actuators;
  if (const XMLElement* a = root->FirstChildElement("actuator")) {
    actuators = reader.read_actuators(a);
  }
  reader.options.planes = reader.planes;
  // The contact model: no MJCF attribute says it; maya's own <custom> text does.
  for (const XMLElement* custom = root->FirstChildElement("custom"); custom != nullptr;
       custom = custom->NextSiblingElement("custom")) {
    for (const XMLElement* t = custom->FirstChildElement("text"); t != nullptr;
         t = t->NextSiblingElement("text")) {
      const char* name = t->Attribute("name");
      if (name == nullptr || std::strcmp(name, "maya.contact") != 0) continue;
      const char* data = t->Attribute("data");
      if (data != nullptr && std::strcmp(data, "hard") == 0) {
        reader.options.contact_model = ContactModel::kHard;
      } else if (data != nullptr && std::strcmp(data, "penalty") == 0) {
        reader.options.contact_model = ContactModel::kPenalty;
      } else {
        reader.fail(t, std::string("maya.contact data \"") + (data != nullptr ? data : "") +
                           "\" must be hard or penalty");
      }
    }
  }
  if (mjcf_options.contact_model) reader.options.contact_model = *mjcf_options.contact_model;
  // MuJoCo's Euler integrator takes joint damping at the new velocity.
  reader.options.implicit_damping = true;
  try {
    return Model(std::move(reader.bodies), std::move(actuators), reader.options);
  } catch (const ValueError& e) {
    throw ParseError(source + ": " + e.what());
  }
}

#endif

}  // namespace maya::multibody
