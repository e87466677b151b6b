// The multibody layer: 3-D kinematic trees in generalized coordinates (model.hpp), their dynamics
// (dynamics.hpp), differentiable steps and step Jacobians (differentiable.hpp), URDF and MJCF
// readers (loaders.hpp). docs/multibody.md.
#pragma once

#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/multibody/model.hpp"
