// maya: differentiable physics. This umbrella header includes the whole public API, layer by
// layer from the bottom up.
#pragma once

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/core/gradient_error.hpp"
#include "maya/core/subnormals.hpp"
#include "maya/core/threads.hpp"

#include "maya/ad/gradcheck.hpp"
#include "maya/ad/tape.hpp"
#include "maya/ad/var.hpp"
#include "maya/ad/var_math.hpp"

#include "maya/tensor/device.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/fused.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/index_tensor.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

#include "maya/dynamics/batched_rollout.hpp"
#include "maya/dynamics/binomial_schedule.hpp"
#include "maya/dynamics/checkpointed_rollout.hpp"
#include "maya/dynamics/integrators.hpp"
#include "maya/dynamics/lattice.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/dynamics/rollout.hpp"

#include "maya/optim/optim.hpp"

#include "maya/rigid/rigid.hpp"

#include "maya/contact/contact.hpp"

#include "maya/fem/fem.hpp"

#include "maya/multibody/multibody.hpp"
