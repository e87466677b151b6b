// maya::fem: soft bodies by the finite element method on a differentiable mesh. Meshes and their
// readers, hyperelastic materials, SoftBody (forces, explicit and implicit Euler), and contact
// with 2-D rigid bodies, prescribed or coupled to a RigidWorld2D.
#pragma once

#include "maya/fem/batched_rollout.hpp"
#include "maya/fem/coupled_step.hpp"
#include "maya/fem/material.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/mesh_io.hpp"
#include "maya/fem/rigid_contact.hpp"
#include "maya/fem/soft_body.hpp"
