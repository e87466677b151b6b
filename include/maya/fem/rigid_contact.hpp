// Penalty contact between the vertices of a 2-D soft body and maya's 2-D rigid bodies (circles
// and convex polygons, rigid_world.hpp), and one explicit step of the two coupled. The rigid
// bodies are inputs of every soft step: a [2, K, 3] state on the tape, prescribed (kinematic
// obstacles) or stepped by a RigidWorld2D that receives the opposite forces (two-way coupling).
//
// A soft vertex x inside body k (centre c, angle theta, velocity V, spin omega) at depth pen > 0
// below the closest face (polygon) or the circle gets, along that feature's outward normal n,
//   f_n = pen (k - c_d v_n),  f_t = -mu_f k pen v_t / sqrt(v_t^2 + eps^2)   (as GroundContact)
// with v_n = n . v_rel, v_t = t . v_rel, t = (-n_y, n_x), v_rel = v - V - omega perp(x - c).
// The body gets -(f_n n + f_t t) at x, so momentum and angular momentum are conserved.
#pragma once

#include <vector>

#include "maya/rigid/body_shape.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::fem {

// The rigid bodies a 2-D soft body can touch (SoftBodyOptions::rigid): their shapes in body
// frames (centre of mass at the origin, as RigidWorld2D's) and friction's smoothing.
struct RigidContactOptions {
  std::vector<rigid::BodyShape> shapes{};
  double slip_velocity = 1e-2;  // eps, m/s
  // The shapes of a world's bodies, in its order.
  [[nodiscard]] static RigidContactOptions of(const rigid::RigidWorld2D& world,
                                              double slip_velocity = 1e-2);
};

// The contact law's parameters, one element each, differentiable.
struct RigidContactMaterial {
  TensorVar stiffness;  // k, N/m per vertex
  TensorVar damping;    // c_d, N s/m^2
  TensorVar friction;   // mu_f
};

// What a soft step needs of the rigid bodies: their state (poses, then velocities) and the
// contact material. Explicit steps meet the bodies where this state puts them at the start of
// the step; implicit steps hold them there over the step (pass the pose at its end).
struct RigidObstacles {
  TensorVar state;  // [2, K, 3]: (x, y, theta) of the centres of mass, then (vx, vy, omega)
  RigidContactMaterial material;
};

// Contact forces on the soft vertices [N, 2] and the wrench on the rigid bodies [K, 3] (force x,
// y and torque about the centre of mass: add it to RigidParameters::applied).
struct RigidContactForces {
  TensorVar soft;
  TensorVar rigid;
};

}  // namespace maya::fem
