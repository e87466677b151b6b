// Private to maya::optim: the minimize() loop SGD and Adam share (evaluate, report, test the
// stopping rules, update), so both stop and report identically.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"

namespace maya::optim::detail {

// `update` applies one step from the latent gradient and advances the optimizer's counter,
// which `iterations` refers to so that error messages name the current iteration.
[[nodiscard]] Result minimize_first_order(
    ParameterSet& parameters, const Objective& objective, const MinimizeOptions& options,
    std::string_view operation, const std::size_t& iterations,
    const std::function<void(std::span<const double>)>& update);

// Evaluates the objective at the current parameters (strict) into `latent_gradient`.
double evaluate_here(ParameterSet& parameters, const Objective& objective,
                     std::string_view operation, std::size_t iteration,
                     std::span<double> latent_gradient);

}  // namespace maya::optim::detail
