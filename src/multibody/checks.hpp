// Argument checks shared by the multibody entry points: one vocabulary for lengths, dt and
// blown-up states.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "maya/core/error.hpp"
#include "maya/multibody/model.hpp"

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

}  // namespace maya::multibody::detail
