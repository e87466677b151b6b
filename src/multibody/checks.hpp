// Argument checks shared by the multibody entry points: one vocabulary for lengths, dt and
// blown-up states.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "maya/core/error.hpp"
#include "maya/multibody/model.hpp"
#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::multibody::detail {

inline void check_length(const char* op, const char* what, std::size_t got, std::size_t expected) {
  if (got != expected) {
    throw ShapeError(std::string(op) + ": " + what + " has " + std::to_string(got) +
                     " entries, the model needs " + std::to_string(expected));
  }
}

inline void check_dt(const char* op, double dt) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValueError(std::string(op) + ": dt must be positive and finite, got " +
                     std::to_string(dt));
  }
}

// Hard contact is velocity-level time stepping: semi-implicit Euler only.
inline void check_hard_contact_integrator(const char* op, Integrator integrator) {
  if (integrator != Integrator::kSemiImplicitEuler) {
    throw ValueError(std::string(op) +
                     ": ModelOptions::contact_model is kHard, which steps with semi-implicit "
                     "Euler only, got the RK4 integrator");
  }
}

// For the functions that compute penalty contact only (its composed twin, the penalty forces at
// a state: hard contact's impulses come from hard_contact_step()).
inline void check_penalty_contact(const char* op, const Model& model) {
  if (model.options().contact_model == ContactModel::kHard) {
    throw ValueError(std::string(op) +
                     ": not available with ModelOptions::contact_model kHard (use step() or "
                     "hard_contact_step(), whose tape node differentiates the hard contact)");
  }
}

// Hard contact's options, checked by the model's constructor.
inline void check_hard_contact_options(const HardContactSettings& options) {
  const auto fail = [](const char* what, const char* rule, double value) {
    throw ValueError(std::string("multibody::Model: hard_contact.") + what + " must be " + rule +
                     ", got " + std::to_string(value));
  };
  if (!(options.smoothing > 0.0) || !std::isfinite(options.smoothing)) {
    fail("smoothing", "positive", options.smoothing);
  }
  if (!(options.tolerance > 0.0) || !std::isfinite(options.tolerance)) {
    fail("tolerance", "positive", options.tolerance);
  }
  if (options.max_iterations < 1) {
    fail("max_iterations", "at least 1", static_cast<double>(options.max_iterations));
  }
  if (!(options.margin >= 0.0) || !std::isfinite(options.margin)) {
    fail("margin", "non-negative", options.margin);
  }
  if (!(options.slop >= 0.0) || !std::isfinite(options.slop))
    fail("slop", "non-negative", options.slop);
  if (!(options.stabilization >= 0.0 && options.stabilization <= 1.0)) {
    fail("stabilization", "in [0, 1]", options.stabilization);
  }
}

// A simulation that blows up is reported by step and body, never passed on as NaN.
// where() says which step: "after step 12", "in the step recorded as tape node 40"; it is called
// only for the message, so a finite state costs one pass over its entries and nothing else.
template <class Where>
void check_finite_state(const Model& model, const char* op, const double* x, const Where& where) {
  bool all_finite = true;
  for (std::size_t k = 0; k < model.nx(); ++k) all_finite = all_finite && std::isfinite(x[k]);
  if (all_finite) return;
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const std::size_t nq = Model::joint_nq(model.body(i).joint);
    const std::size_t nv = Model::joint_nv(model.body(i).joint);
    bool finite = true;
    for (std::size_t k = 0; k < nq; ++k) finite = finite && std::isfinite(x[model.q_index(i) + k]);
    for (std::size_t k = 0; k < nv; ++k) {
      finite = finite && std::isfinite(x[model.nq() + model.v_index(i) + k]);
    }
    if (!finite) {
      throw NonFiniteError(std::string(op) + ": the state of body " + std::to_string(i) + " '" +
                           model.body(i).name + "' is not finite " + where() +
                           " (the simulation blew up: reduce dt or stiffness)");
    }
  }
}

// A tape input that must be a vector of `expected` numbers (a state, controls, parameters).
inline void check_var(const char* op, const char* what, TensorVar x, std::size_t expected) {
  if (x.shape().size() != 1 || x.numel() != expected) {
    throw ShapeError(std::string(op) + ": " + what + " must have shape [" +
                     std::to_string(expected) + "], got " + shape_string(x.shape()));
  }
}

}  // namespace maya::multibody::detail
