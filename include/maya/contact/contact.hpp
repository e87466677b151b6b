// maya's hard-contact layer: the velocity-level contact problem with joints and friction, its
// interior-point solver differentiated by the implicit function theorem (see docs/contact.md).
#pragma once

#include "maya/contact/hard_contact_world.hpp"
#include "maya/contact/solve_op.hpp"
#include "maya/contact/solver.hpp"
