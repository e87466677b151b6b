// maya.optim.Objective, shared by the optim and io bindings.
#pragma once

#include "maya/optim/objective.hpp"

namespace maya::python {

// An optim::Objective held by value: a std::function bound as a class of its own, so that
// pybind11 does not treat it as a Python callable.
struct PyObjective {
  optim::Objective function;
};

}  // namespace maya::python
