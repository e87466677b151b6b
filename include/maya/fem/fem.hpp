// maya::fem: soft bodies by the finite element method on a differentiable mesh. Meshes and their
// readers, hyperelastic materials, and SoftBody (forces, explicit and implicit Euler).
#pragma once

#include "maya/fem/material.hpp"
#include "maya/fem/mesh.hpp"
#include "maya/fem/mesh_io.hpp"
#include "maya/fem/soft_body.hpp"
