// The multibody layer: 3-D kinematic trees in generalized coordinates (model.hpp), their dynamics
// (dynamics.hpp), differentiable steps and step Jacobians (differentiable.hpp), hard contact
// through maya::contact's solver (hard_contact.hpp), URDF and MJCF readers (loaders.hpp).
// docs/multibody.md.
#pragma once

#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/multibody/model.hpp"
