// Regression: every optimizer accepted an empty parameter set and reported convergence.
#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>
#include <string>

namespace {

using maya::optim::ParameterSet;

maya::optim::Objective constant_objective() {
  return [](std::span<const maya::Tensor>, std::span<maya::Tensor>) { return 1.0; };
}

template <class Optimizer>
void expect_rejected(const char* operation) {
  for (const bool zero_sized : {false, true}) {
    ParameterSet parameters;
    if (zero_sized) parameters.add("x", maya::Tensor::zeros({0}));
    Optimizer optimizer(parameters);
    try {
      (void)optimizer.minimize(constant_objective(), {});
      ADD_FAILURE() << operation << " accepted an empty parameter set";
    } catch (const maya::ValueError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(operation), std::string::npos) << message;
      EXPECT_NE(message.find("no values to optimize"), std::string::npos) << message;
    }
  }
}

TEST(EmptyParameterSet, EveryOptimizerRejectsIt) {
  expect_rejected<maya::optim::Adam>("Adam::minimize");
  expect_rejected<maya::optim::Sgd>("Sgd::minimize");
  expect_rejected<maya::optim::Lbfgs>("Lbfgs::minimize");
}

}  // namespace
