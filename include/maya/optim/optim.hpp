// maya::optim: fitting simulator parameters. A ParameterSet holds named tensors (with bounds or a
// Positive reparameterization); Sgd, Adam and Lbfgs minimize an Objective over it.
#pragma once

#include "maya/optim/adam.hpp"
#include "maya/optim/lbfgs.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/optim/sgd.hpp"
