// Models shared by the multibody tests: random trees with every joint type, pendulums, chains,
// and one-shape bodies for the contact tests.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "maya/multibody/model.hpp"

namespace maya::multibody::testing {

// Inertia of a random, physically valid body: principal moments in [0.2, 0.35] (a triangle) rotated
// by a random rotation, as (Ixx Iyy Izz Ixy Ixz Iyz).
inline std::array<double, 6> random_inertia(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> moment(0.2, 0.35), angle(-3.0, 3.0);
  const double d[3] = {moment(rng), moment(rng), moment(rng)};
  const double a = angle(rng), b = angle(rng), c = angle(rng);
  // R = Rz(a) Ry(b) Rx(c)
  const double ca = std::cos(a), sa = std::sin(a), cb = std::cos(b), sb = std::sin(b),
               cc = std::cos(c), sc = std::sin(c);
  const double R[9] = {ca * cb,
                       ca * sb * sc - sa * cc,
                       ca * sb * cc + sa * sc,
                       sa * cb,
                       sa * sb * sc + ca * cc,
                       sa * sb * cc - ca * sc,
                       -sb,
                       cb * sc,
                       cb * cc};
  double I[9];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0.0;
      for (int k = 0; k < 3; ++k) s += R[3 * i + k] * d[k] * R[3 * j + k];
      I[3 * i + j] = s;
    }
  }
  return {I[0], I[4], I[8], I[1], I[2], I[5]};
}

inline Quaternion random_quaternion(std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  Quaternion q{normal(rng), normal(rng), normal(rng), normal(rng)};
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& x : q) x /= n;
  return q;
}

// A random tree of `n` bodies; joint types cycle through revolute, prismatic, spherical and fixed,
// and the root is free when `free_base`.
inline Model random_tree(std::size_t n, std::uint64_t seed, bool free_base, double armature = 0.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0), mass(0.5, 2.0);
  std::vector<Body> bodies;
  const JointType cycle[4] = {JointType::kRevolute, JointType::kPrismatic, JointType::kSpherical,
                              JointType::kFixed};
  for (std::size_t i = 0; i < n; ++i) {
    Body b;
    b.name = "link" + std::to_string(i);
    b.parent = i == 0 ? -1 : static_cast<int>(rng() % i);
    b.joint = i == 0 && free_base ? JointType::kFree : cycle[i % 4];
    b.joint_position = {0.3 * unit(rng), 0.3 * unit(rng), 0.3 * unit(rng)};
    b.joint_orientation = random_quaternion(rng);
    b.axis = {unit(rng), unit(rng), unit(rng)};
    b.mass = mass(rng);
    b.com = {0.1 * unit(rng), 0.1 * unit(rng), 0.1 * unit(rng)};
    b.inertia = random_inertia(rng);
    b.armature = b.joint == JointType::kFree ? 0.0 : armature;
    bodies.push_back(b);
  }
  return Model(std::move(bodies));
}

// A random state of a model: joint values in [-1, 1], random unit quaternions, velocities in
// [-1, 1].
inline std::vector<double> random_state(const Model& model, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<double> x(model.nx());
  for (double& v : x) v = unit(rng);
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const JointType type = model.body(i).joint;
    if (type == JointType::kSpherical || type == JointType::kFree) {
      const Quaternion q = random_quaternion(rng);
      const std::size_t at = model.q_index(i) + (type == JointType::kFree ? 3 : 0);
      for (int k = 0; k < 4; ++k) x[at + k] = q[k];
    }
  }
  return x;
}

// A chain of n capsule links of length `length` hanging along -z, hinges alternating about y and
// x (as benchmark W6), base fixed. Mass and inertia of a thin rod about its centre.
inline Model hinge_chain(std::size_t n, double length = 0.1, double mass = 0.1,
                         double damping = 0.0) {
  std::vector<Body> bodies;
  for (std::size_t i = 0; i < n; ++i) {
    Body b;
    b.name = "link" + std::to_string(i);
    b.parent = static_cast<int>(i) - 1;
    b.joint = JointType::kRevolute;
    b.joint_position = {0.0, 0.0, i == 0 ? 0.0 : -length};
    b.axis = i % 2 == 0 ? Vec3{0.0, 1.0, 0.0} : Vec3{1.0, 0.0, 0.0};
    b.mass = mass;
    b.com = {0.0, 0.0, -0.5 * length};
    const double across = mass * length * length / 12.0 + 1e-6, along = 2e-6;
    b.inertia = {across, across, along, 0.0, 0.0, 0.0};
    b.damping = damping;
    bodies.push_back(b);
  }
  return Model(std::move(bodies));
}

inline Geom sphere(double radius) {
  Geom g;
  g.type = ShapeType::kSphere;
  g.radius = radius;
  return g;
}
inline Geom capsule(double radius, double half_length, Quaternion orientation = {1, 0, 0, 0}) {
  Geom g;
  g.type = ShapeType::kCapsule;
  g.radius = radius;
  g.half_length = half_length;
  g.orientation = orientation;
  return g;
}
inline Geom box(Vec3 half) {
  Geom g;
  g.type = ShapeType::kBox;
  g.size = half;
  return g;
}

// One-shape bodies for the contact tests: a free body (a root with a free joint) or a body
// welded to the world at `at`; a solid sphere's inertia at radius 0.1.
inline Body body(const std::string& name, Geom geom, double mass, bool free, Vec3 at = {0, 0, 0}) {
  Body b;
  b.name = name;
  b.joint = free ? JointType::kFree : JointType::kFixed;
  b.joint_position = free ? Vec3{0, 0, 0} : at;
  b.mass = mass;
  const double i = 0.4 * mass * 0.01;
  b.inertia = {i, i, i, 0, 0, 0};
  b.geoms = {geom};
  return b;
}

}  // namespace maya::multibody::testing
