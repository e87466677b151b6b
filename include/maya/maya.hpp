// maya: differentiable physics. This umbrella header includes the whole public API.
#pragma once

#include "maya/ad/tape.hpp"
#include "maya/ad/var.hpp"
#include "maya/ad/var_math.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/index_tensor.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"
#include "maya/optim/optim.hpp"
