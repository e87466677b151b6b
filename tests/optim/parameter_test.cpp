#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>
#include <string>
#include <vector>

namespace {

using maya::Tensor;
using maya::optim::Bounds;
using maya::optim::ParameterSet;
using maya::optim::Positive;

// A smooth loss of the values with a different weight per entry: sum(w v^2 + sin(3 v)).
double smooth_loss(const Tensor& value, const Tensor& weights, Tensor* gradient) {
  double loss = 0.0;
  for (std::size_t i = 0; i < value.numel(); ++i) {
    const double v = value.data()[i];
    const double w = weights.data()[i];
    loss += w * v * v + std::sin(3.0 * v);
    if (gradient) gradient->mutable_data()[i] = 2.0 * w * v + 3.0 * std::cos(3.0 * v);
  }
  return loss;
}

template <class Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const maya::Error& e) {
    return e.what();
  }
  return "no exception";
}

}  // namespace

TEST(ParameterSet, LatentConcatenatesPlainValuesInOrder) {
  ParameterSet parameters;
  EXPECT_EQ(parameters.add("stiffness", Tensor::from_data({1.0, 2.0}, {2})), 0u);
  EXPECT_EQ(parameters.add("damping", Tensor::scalar(0.5), Bounds::at_least(0.0)), 1u);
  EXPECT_EQ(parameters.size(), 2u);
  EXPECT_EQ(parameters.numel(), 3u);
  EXPECT_EQ(parameters.index("damping"), 1u);
  EXPECT_EQ(parameters.name(0), "stiffness");
  EXPECT_TRUE(parameters.bounded());
  const std::vector<double> latent(parameters.latent().begin(), parameters.latent().end());
  EXPECT_EQ(latent, (std::vector<double>{1.0, 2.0, 0.5}));

  const std::vector<double> moved = {3.0, 4.0, 5.0};
  parameters.set_latent(moved);
  EXPECT_EQ(parameters.value("stiffness").at({1}), 4.0);
  EXPECT_EQ(parameters.value(1).item(), 5.0);
  EXPECT_EQ(parameters.value(1).ndim(), 0u);
}

TEST(ParameterSet, RejectsDuplicateNamesBadBoundsAndOutOfBoundsValues) {
  ParameterSet parameters;
  parameters.add("mass", Tensor::scalar(1.0));
  EXPECT_THROW(parameters.add("mass", Tensor::scalar(1.0)), maya::ValueError);
  EXPECT_THROW(parameters.add("", Tensor::scalar(1.0)), maya::ValueError);
  EXPECT_THROW(parameters.add("k", Tensor::scalar(1.0), Bounds::between(2.0, 1.0)),
               maya::ValueError);
  const std::string message = error_message([&] {
    parameters.add("k", Tensor::from_data({0.5, -1.0}, {2}), Bounds::between(0.0, 10.0));
  });
  EXPECT_NE(message.find("'k' entry 1 is -1"), std::string::npos) << message;
  EXPECT_THROW(parameters.add("k", Tensor::scalar(0.0), Positive()), maya::ValueError);
  EXPECT_EQ(parameters.size(), 1u);
}

TEST(ParameterSet, UnknownNameListsTheKnownOnes) {
  ParameterSet parameters;
  parameters.add("stiffness", Tensor::scalar(1.0));
  parameters.add("damping", Tensor::scalar(1.0));
  const std::string message = error_message([&] { static_cast<void>(parameters.index("mass")); });
  EXPECT_NE(message.find("'mass'"), std::string::npos) << message;
  EXPECT_NE(message.find("'stiffness', 'damping'"), std::string::npos) << message;
}

TEST(ParameterSet, SetValueChecksShapeAndBounds) {
  ParameterSet parameters;
  parameters.add("k", Tensor::ones({3}), Bounds::between(0.0, 2.0));
  parameters.add("m", Tensor::ones({2}), Positive::exp());
  EXPECT_THROW(parameters.set_value(0, Tensor::ones({2})), maya::ShapeError);
  EXPECT_THROW(parameters.set_value(0, Tensor::full({3}, 3.0)), maya::ValueError);
  EXPECT_THROW(parameters.set_value(1, Tensor::zeros({2})), maya::ValueError);
  EXPECT_THROW(parameters.set_value(2, Tensor::ones({2})), maya::ValueError);
  parameters.set_value(1, Tensor::full({2}, 4.0));
  EXPECT_NEAR(parameters.value("m").at({0}), 4.0, 1e-15);
  EXPECT_NEAR(parameters.latent()[3], std::log(4.0), 1e-15);
}

TEST(ParameterSet, LatentGradientRejectsMismatchedCountsAndShapes) {
  ParameterSet parameters;
  parameters.add("k", Tensor::ones({3}));
  parameters.add("c", Tensor::ones({2, 2}));
  std::vector<double> out(parameters.numel());
  const Tensor right[] = {Tensor::ones({3}), Tensor::ones({2, 2})};
  const Tensor wrong_shape[] = {Tensor::ones({3}), Tensor::ones({4})};
  const Tensor too_few[] = {Tensor::ones({3})};
  parameters.latent_gradient(right, out, "test");
  EXPECT_EQ(out, std::vector<double>(7, 1.0));
  const std::string message =
      error_message([&] { parameters.latent_gradient(wrong_shape, out, "test"); });
  EXPECT_NE(message.find("gradient of 'c' has shape [4], the parameter has [2, 2]"),
            std::string::npos)
      << message;
  EXPECT_THROW(parameters.latent_gradient(wrong_shape, out, "test"), maya::ShapeError);
  EXPECT_THROW(parameters.latent_gradient(too_few, out, "test"), maya::ShapeError);
}

TEST(Positive, MapsRoundTripAcrossMagnitudes) {
  for (const Positive positive :
       {Positive::softplus(), Positive::exp(), Positive::softplus(0.5), Positive::exp(-2.0)}) {
    for (const double excess : {1e-9, 1e-4, 0.3, 1.0, 7.0, 1e3, 1e8}) {
      const double value = positive.floor() + excess;
      const double round_trip = positive.value(positive.latent(value));
      EXPECT_NEAR(round_trip, value, 1e-12 * std::max(1.0, std::abs(value)))
          << "floor " << positive.floor() << " excess " << excess;
      EXPECT_GT(round_trip, positive.floor());
    }
  }
}

TEST(Positive, ValueNeverReachesTheFloor) {
  const Positive positive = Positive::softplus(1.0);
  EXPECT_GT(positive.value(-30.0), 1.0);
  EXPECT_NEAR(positive.value(-30.0), 1.0 + std::exp(-30.0), 1e-25);
  EXPECT_NEAR(positive.value(800.0), 801.0, 1e-12);  // no overflow in log(1 + e^u)
  EXPECT_THROW(static_cast<void>(positive.latent(1.0)), maya::ValueError);
  EXPECT_THROW(static_cast<void>(positive.latent(0.5)), maya::ValueError);
  EXPECT_THROW(static_cast<void>(positive.latent(NAN)), maya::ValueError);
  EXPECT_THROW(Positive(Positive::Map::kExp, INFINITY), maya::ValueError);
}

TEST(Positive, LatentGradientMatchesCentralDifferences) {
  const Tensor weights = Tensor::uniform({6}, 0.5, 2.0, 11);
  const Tensor latent = Tensor::uniform({6}, -3.0, 3.0, 12);
  for (const Positive positive :
       {Positive::softplus(), Positive::exp(), Positive::softplus(0.2), Positive::exp(1.5)}) {
    // Through ParameterSet: the optimizer's chain rule from the value gradient.
    ParameterSet parameters;
    parameters.add("k", positive.value(latent), positive);
    Tensor value_gradient = Tensor::zeros({6});
    static_cast<void>(smooth_loss(parameters.value(0), weights, &value_gradient));
    std::vector<double> analytic(6);
    const Tensor gradients[] = {value_gradient};
    parameters.latent_gradient(gradients, analytic, "test");
    const Tensor direct = positive.latent_gradient(latent, value_gradient);

    const double h = 1e-6;
    for (std::size_t i = 0; i < 6; ++i) {
      Tensor plus = latent;
      Tensor minus = latent;
      plus.mutable_data()[i] += h;
      minus.mutable_data()[i] -= h;
      const double numeric = (smooth_loss(positive.value(plus), weights, nullptr) -
                              smooth_loss(positive.value(minus), weights, nullptr)) /
                             (2.0 * h);
      const double floor =
          maya::central_difference_floor(smooth_loss(positive.value(latent), weights, nullptr), h);
      const double scale = std::max(std::abs(analytic[i]), std::abs(numeric));
      EXPECT_LT(maya::gradient_error(analytic[i], numeric, scale, floor), 1e-7) << "entry " << i;
      EXPECT_LT(maya::gradient_error(direct.data()[i], numeric, scale, floor), 1e-7)
          << "entry " << i;
    }
  }
}

TEST(Positive, TapeMapMatchesScalarMapAndItsGradient) {
  const Tensor latent = Tensor::uniform({5}, -4.0, 4.0, 21);
  for (const Positive positive : {Positive::softplus(0.1), Positive::exp(0.1)}) {
    maya::TensorTape tape;
    const maya::TensorVar u = tape.var(latent);
    const maya::TensorVar value = positive.value(u);
    EXPECT_LT(maya::max_abs_difference(value.value(), positive.value(latent)), 1e-14);
    const Tensor inputs[] = {latent};
    const auto report = maya::gradcheck(
        [&](maya::TensorTape&, std::span<const maya::TensorVar> x) {
          return maya::sum(maya::square(positive.value(x[0])));
        },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7);
  }
}
