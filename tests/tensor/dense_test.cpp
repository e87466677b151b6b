// The fused dense layer against its composed twin activation(matmul(x, w) + b) and against
// central differences, for every activation and the shapes it accepts; and its errors.
#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya::Activation;
using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya_test::weighted_sum;

constexpr Activation kActivations[] = {Activation::identity, Activation::tanh, Activation::sigmoid,
                                       Activation::relu};

TensorVar composed(TensorVar x, TensorVar w, TensorVar b, Activation activation) {
  const TensorVar z = maya::matmul(x, w) + b;
  switch (activation) {
    case Activation::tanh: return maya::tanh(z);
    case Activation::sigmoid: return maya::sigmoid(z);
    case Activation::relu: return maya::relu(z);
    case Activation::identity: break;
  }
  return z;
}

struct Case {
  Shape x;
  std::size_t out;
};

// Row shapes: a matrix, a single vector, leading batch axes, an empty batch, a layer of width 1;
// narrow layers (1, 2, 4 outputs) whose bias gradient is summed as one flat array, with and
// without a partial last block of eight; wide layers past a vector of eight.
const Case kCases[] = {{{5, 3}, 4}, {{3}, 4},     {{2, 3, 4}, 5}, {{0, 3}, 2},  {{6, 1}, 1},
                       {{9, 3}, 2}, {{33, 2}, 1}, {{16, 4}, 4},   {{7, 5}, 12}, {{5, 6}, 20}};

struct Outcome {
  Tensor value;
  std::vector<Tensor> gradients;
};

Outcome evaluate(const Case& c, Activation activation, bool fused) {
  TensorTape tape;
  const std::size_t in = c.x.back();
  const TensorVar x = tape.var(Tensor::uniform(c.x, -1.5, 1.5, 1));
  const TensorVar w = tape.var(Tensor::uniform({in, c.out}, -1.0, 1.0, 2));
  const TensorVar b = tape.var(Tensor::uniform({c.out}, -0.5, 0.5, 3));
  const TensorVar y = fused ? maya::dense(x, w, b, activation) : composed(x, w, b, activation);
  const maya::TensorGradients g = tape.grad(weighted_sum(y));
  return {y.value(), {g[x], g[w], g[b]}};
}

TEST(Dense, EqualsTheComposedLayerInValueAndGradient) {
  for (const Case& c : kCases) {
    for (const Activation activation : kActivations) {
      const Outcome fused = evaluate(c, activation, true);
      const Outcome reference = evaluate(c, activation, false);
      const std::string where =
          maya::shape_string(c.x) + " activation " + std::to_string(static_cast<int>(activation));
      EXPECT_EQ(fused.value.shape(), reference.value.shape()) << where;
      EXPECT_TRUE(maya::allclose(fused.value, reference.value, 1e-12, 1e-12)) << where;
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(maya::allclose(fused.gradients[i], reference.gradients[i], 1e-12, 1e-12))
            << where << " input " << i;
      }
    }
  }
}

TEST(Dense, GradientMatchesCentralDifferences) {
  for (const Activation activation : kActivations) {
    const std::vector<Tensor> inputs = {Tensor::uniform({4, 3}, -1.5, 1.5, 4),
                                        Tensor::uniform({3, 5}, -1.0, 1.0, 5),
                                        Tensor::uniform({5}, -0.5, 0.5, 6)};
    const maya::GradcheckReport report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> v) {
          // Two stacked layers, so the gradient w.r.t. x passes through a dense node too.
          const TensorVar hidden = maya::dense(v[0], v[1], v[2], activation);
          return weighted_sum(maya::dense(hidden, maya::transpose(v[1]),
                                          maya::slice(v[0], 0, 0, 1).reshape({3}), activation));
        },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7) << "activation " << static_cast<int>(activation);
  }
}

// The backward pass overwrites its output gradient in place; these graphs route that buffer in
// every way the tape can: shared by two consumers, handed on by an add, and a chain of layers.
// Widths 2 and 3 take the two forms of the bias gradient, each adding into a shared bias's.
TEST(Dense, OutputGradientBufferIsNotSeenByOthers) {
  for (const std::size_t width : {2, 3}) {
    const auto run = [width](bool fused) {
      TensorTape tape;
      const TensorVar x = tape.var(Tensor::uniform({4, width}, -1.0, 1.0, 7));
      const TensorVar w = tape.var(Tensor::uniform({width, width}, -1.0, 1.0, 8));
      const TensorVar b = tape.var(Tensor::uniform({width}, -0.5, 0.5, 9));
      const auto layer = [&](TensorVar in) {
        return fused ? maya::dense(in, w, b, Activation::tanh)
                     : composed(in, w, b, Activation::tanh);
      };
      const TensorVar h1 = layer(x);
      const TensorVar h2 = layer(h1 + 0.5);      // h1's gradient buffer is handed on by the add
      const TensorVar h3 = layer(h2) + h2 * h2;  // h2 feeds two consumers
      const TensorVar loss = weighted_sum(h3) + weighted_sum(h1, 5);
      const maya::TensorGradients g = tape.grad(loss);
      return std::vector<Tensor>{g[x], g[w], g[b]};
    };
    const std::vector<Tensor> fused = run(true);
    const std::vector<Tensor> reference = run(false);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(maya::allclose(fused[i], reference[i], 1e-12, 1e-12))
          << "width " << width << " input " << i;
    }
  }
}

TEST(Dense, OnlyTheInputsThatNeedItGetAGradient) {
  TensorTape tape;
  const TensorVar x = tape.constant(Tensor::uniform({4, 3}, -1.0, 1.0, 10));
  const TensorVar w = tape.var(Tensor::uniform({3, 2}, -1.0, 1.0, 11));
  const TensorVar b = tape.constant(Tensor::zeros({2}));
  const maya::TensorGradients g = tape.grad(maya::sum(maya::dense(x, w, b, Activation::relu)));
  // d sum relu(x w) / d w[i][j] = sum over rows r with (x w)[r][j] > 0 of x[r][i].
  const Tensor xw = maya::matmul(tape.constant(x.value()), tape.constant(w.value())).value();
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      double expected = 0.0;
      for (std::size_t r = 0; r < 4; ++r) {
        if (xw.at({r, j}) > 0.0) expected += x.value().at({r, i});
      }
      EXPECT_NEAR(g[w].at({i, j}), expected, 1e-14);
    }
  }
}

TEST(Dense, RejectsShapesThatDoNotFit) {
  TensorTape tape;
  const TensorVar x = tape.var(Tensor::zeros({4, 3}));
  const TensorVar w = tape.var(Tensor::zeros({3, 2}));
  const TensorVar b = tape.var(Tensor::zeros({2}));
  const auto message_of = [](auto&& call) {
    try {
      call();
    } catch (const maya::ShapeError& e) {
      return std::string(e.what());
    }
    return std::string("no ShapeError");
  };
  EXPECT_EQ(message_of([&] { (void)maya::dense(x, maya::transpose(w), b); }),
            "dense: x's last axis must equal w's rows: x [4, 3], w [2, 3], b [2]");
  EXPECT_EQ(message_of([&] { (void)maya::dense(x, w, tape.var(Tensor::zeros({3}))); }),
            "dense: b must be 1-D with w's column count: x [4, 3], w [3, 2], b [3]");
  EXPECT_EQ(message_of([&] { (void)maya::dense(x, w.reshape({6}), b); }),
            "dense: w must be 2-D [in, out]: x [4, 3], w [6], b [2]");
  EXPECT_EQ(message_of([&] { (void)maya::dense(tape.var(Tensor::scalar(1.0)), w, b); }),
            "dense: x's last axis must equal w's rows: x [], w [3, 2], b [2]");
  EXPECT_THROW((void)maya::dense(x, w, b, static_cast<Activation>(9)), maya::ValueError);
}

}  // namespace
