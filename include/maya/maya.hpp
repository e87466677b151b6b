// maya: differentiable physics. This umbrella header includes the whole public API.
#pragma once

#include "maya/ad/tape.hpp"
#include "maya/ad/var.hpp"
#include "maya/ad/var_math.hpp"
#include "maya/core/error.hpp"
