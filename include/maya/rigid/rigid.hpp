// maya's 2-D rigid-body layer: shapes and mass properties, penalty contact laws, and the world
// that steps many bodies as one tape node (see docs/rigid.md).
#pragma once

#include "maya/rigid/batched_rollout.hpp"
#include "maya/rigid/body_shape.hpp"
#include "maya/rigid/contact_law.hpp"
#include "maya/rigid/rigid_world.hpp"
