#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>
#include <vector>

#include "optim/problems.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::optim::ParameterSet;
namespace problems = maya::optim::problems;

// y = tanh(x w) for inputs x [n, 3] and weights w [3], written with broadcasting and a row sum.
TensorVar tanh_model(TensorVar inputs, TensorVar weights) {
  return maya::tanh(maya::sum(inputs * weights, 1));
}

struct TanhData {
  Tensor inputs = Tensor::uniform({40, 3}, -1.0, 1.0, 5);
  Tensor weights = Tensor::from_data({0.7, -1.2, 0.4}, {3});
  Tensor targets;

  TanhData() {
    TensorTape tape;
    targets = tanh_model(tape.constant(inputs), tape.constant(weights)).value();
  }
};

}  // namespace

TEST(TapeObjective, MatchesAHandWrittenObjectiveAndZeroesUnusedParameters) {
  // Rosenbrock recorded on a tape, plus a parameter the loss ignores.
  const auto taped = maya::optim::tape_objective([](TensorTape&, std::span<const TensorVar> p) {
    const TensorVar x = maya::slice(p[0], 0, 0, 1);
    const TensorVar y = maya::slice(p[0], 0, 1, 2);
    return maya::sum(100.0 * maya::square(y - maya::square(x)) + maya::square(1.0 - x));
  });
  const Tensor values[] = {Tensor::from_data({-1.2, 1.0}, {2}), Tensor::ones({2, 2})};
  Tensor taped_gradients[] = {Tensor::zeros({2}), Tensor::zeros({2, 2})};
  Tensor exact_gradients[] = {Tensor::zeros({2})};
  const double loss = taped(values, taped_gradients);
  const double exact = problems::rosenbrock(std::span<const Tensor>(values, 1), exact_gradients);
  EXPECT_NEAR(loss, exact, 1e-12);
  EXPECT_LT(maya::max_abs_difference(taped_gradients[0], exact_gradients[0]), 1e-12);
  EXPECT_EQ(taped_gradients[1].shape(), (maya::Shape{2, 2}));
  EXPECT_EQ(maya::max_abs_difference(taped_gradients[1], Tensor::zeros({2, 2})), 0.0);
  // The tape is reused: a second call gives the same answer.
  EXPECT_EQ(taped(values, taped_gradients), loss);
}

TEST(TapeObjective, LbfgsFitsTanhModelWeightsFromData) {
  const TanhData data;
  ParameterSet parameters;
  parameters.add("w", Tensor::zeros({3}));
  maya::optim::Lbfgs lbfgs(parameters);
  const auto objective =
      maya::optim::tape_objective([&](TensorTape& tape, std::span<const TensorVar> p) {
        const TensorVar predicted = tanh_model(tape.constant(data.inputs), p[0]);
        return maya::mean(maya::square(predicted - tape.constant(data.targets)));
      });
  const auto result = lbfgs.minimize(objective, {.max_iterations = 100, .tolerance = 1e-12});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_LT(maya::max_abs_difference(parameters.value("w"), data.weights), 1e-8);
  EXPECT_LT(result.loss, 1e-18);
}

TEST(TapeObjective, AdamStepsOnGradientsFromAHandWrittenTapeLoop) {
  // The loop a user writes when each iteration also logs, resamples data or rolls out a simulator.
  const TanhData data;
  ParameterSet parameters;
  parameters.add("w", Tensor::zeros({3}));
  maya::optim::Adam adam(parameters, {.learning_rate = 0.05});
  TensorTape tape;
  maya::TensorGradients gradients;
  double first_loss = 0.0;
  double loss = 0.0;
  for (int iteration = 0; iteration < 1500; ++iteration) {
    tape.clear();
    const TensorVar w = tape.var(parameters.value("w"));
    const TensorVar predicted = tanh_model(tape.constant(data.inputs), w);
    const TensorVar mse = maya::mean(maya::square(predicted - tape.constant(data.targets)));
    loss = mse.item();
    if (iteration == 0) first_loss = loss;
    tape.grad(mse, gradients);
    adam.step({gradients[w]});
  }
  EXPECT_LT(loss, 1e-6 * first_loss);
  EXPECT_LT(maya::max_abs_difference(parameters.value("w"), data.weights), 1e-3);
}
