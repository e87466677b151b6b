#include <gtest/gtest.h>

#include <functional>
#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

Shape shape_of(TensorVar x) { return Shape(x.shape().begin(), x.shape().end()); }

template <class Error>
std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// gradcheck of a one-input op; the op is applied to leaf 0 and its result weighted-summed.
double worst_error(const Shape& shape, std::uint64_t seed,
                   const std::function<TensorVar(TensorVar)>& op) {
  const Tensor inputs[] = {Tensor::uniform(shape, -1, 1, seed)};
  return maya::gradcheck(
             [&](TensorTape&, std::span<const TensorVar> x) { return weighted_sum(op(x[0])); },
             inputs)
      .max_error();
}

// x = arange(n) reshaped, recorded as a var.
TensorVar iota(TensorTape& t, const Shape& shape) {
  return t.var(Tensor::arange(0, static_cast<double>(maya::numel_of(shape))).reshape(shape));
}

}  // namespace

TEST(ShapeOps, ReshapeSqueezeUnsqueezeKeepValues) {
  TensorTape t;
  const TensorVar x = iota(t, {2, 3});
  const TensorVar r = x.reshape({3, 1, 2});
  EXPECT_EQ(shape_of(r), (Shape{3, 1, 2}));
  EXPECT_TRUE(maya::allclose(r.value(), Tensor::arange(0, 6).reshape({3, 1, 2}), 0, 0));
  EXPECT_EQ(shape_of(maya::squeeze(r, 1)), (Shape{3, 2}));
  EXPECT_EQ(shape_of(maya::squeeze(r, -2)), (Shape{3, 2}));
  EXPECT_EQ(shape_of(maya::unsqueeze(x, 0)), (Shape{1, 2, 3}));
  EXPECT_EQ(shape_of(maya::unsqueeze(x, 2)), (Shape{2, 3, 1}));
  EXPECT_EQ(shape_of(maya::unsqueeze(x, -1)), (Shape{2, 3, 1}));
  const TensorVar one = t.var(Tensor::ones({1, 1}));
  EXPECT_EQ(shape_of(maya::reshape(one, Shape{})), (Shape{}));
}

TEST(ShapeOps, TransposeAndPermuteMoveAxes) {
  TensorTape t;
  const TensorVar x = iota(t, {2, 3});
  EXPECT_TRUE(
      maya::allclose(x.transpose().value(), Tensor::from_data({0, 3, 1, 4, 2, 5}, {3, 2}), 0, 0));
  const TensorVar y = iota(t, {2, 3, 4});
  const TensorVar p = maya::permute(y, {2, 0, 1});
  EXPECT_EQ(shape_of(p), (Shape{4, 2, 3}));
  // p[k, i, j] = y[i, j, k] = 12 i + 4 j + k.
  EXPECT_EQ(p.value().at({3, 1, 2}), 12.0 + 8.0 + 3.0);
  const TensorVar q = maya::transpose(y, 0, -1);
  EXPECT_EQ(shape_of(q), (Shape{4, 3, 2}));
  EXPECT_EQ(q.value().at({3, 1, 0}), 4.0 + 3.0);
  EXPECT_EQ(shape_of(maya::transpose(y)), (Shape{4, 3, 2}));
  EXPECT_TRUE(maya::allclose(maya::transpose(y).value(), q.value(), 0, 0));
}

TEST(ShapeOps, SliceFollowsPythonSemantics) {
  TensorTape t;
  const TensorVar x = iota(t, {10});
  const auto values = [](TensorVar v) {
    const Tensor value = v.value();
    return std::vector<double>(value.data().begin(), value.data().end());
  };
  EXPECT_EQ(values(x.slice(0, 2, 7, 2)), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(values(x.slice(0, -3, 10)), (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(values(x.slice(0, 0, -8)), (std::vector<double>{0, 1}));
  EXPECT_EQ(values(x.slice(0, -100, 2)), (std::vector<double>{0, 1}));
  EXPECT_EQ(values(x.slice(0, 8, 100, 3)), (std::vector<double>{8}));
  EXPECT_EQ(x.slice(0, 7, 3).numel(), 0u);
  EXPECT_EQ(x.slice(0, 12, 20).numel(), 0u);
  const TensorVar m = iota(t, {3, 4});
  EXPECT_TRUE(maya::allclose(m.slice(1, 1, 4, 2).value(),
                             Tensor::from_data({1, 3, 5, 7, 9, 11}, {3, 2}), 0, 0));
}

TEST(ShapeOps, SelectRemovesTheAxis) {
  TensorTape t;
  const TensorVar x = iota(t, {3, 4});
  EXPECT_TRUE(maya::allclose(x.select(0, 1).value(), Tensor::from_data({4, 5, 6, 7}, {4}), 0, 0));
  EXPECT_TRUE(maya::allclose(x.select(1, -1).value(), Tensor::from_data({3, 7, 11}, {3}), 0, 0));
  EXPECT_EQ(shape_of(x.select(0, 2).select(0, 3)), (Shape{}));
}

TEST(ShapeOps, ConcatAndStack) {
  TensorTape t;
  const TensorVar a = iota(t, {2, 2});
  const TensorVar b = t.var(Tensor::from_data({10, 11}, {2, 1}));
  EXPECT_TRUE(maya::allclose(maya::concat({a, b}, 1).value(),
                             Tensor::from_data({0, 1, 10, 2, 3, 11}, {2, 3}), 0, 0));
  EXPECT_TRUE(maya::allclose(maya::concat({a, a}, 0).value(),
                             Tensor::from_data({0, 1, 2, 3, 0, 1, 2, 3}, {4, 2}), 0, 0));
  const TensorVar c = t.var(Tensor::from_data({5, 6, 7, 8}, {2, 2}));
  EXPECT_TRUE(maya::allclose(maya::stack({a, c}, 0).value(),
                             Tensor::from_data({0, 1, 2, 3, 5, 6, 7, 8}, {2, 2, 2}), 0, 0));
  EXPECT_TRUE(maya::allclose(maya::stack({a, c}, -1).value(),
                             Tensor::from_data({0, 5, 1, 6, 2, 7, 3, 8}, {2, 2, 2}), 0, 0));
  EXPECT_TRUE(maya::allclose(maya::stack({a, c}, 1).value(),
                             Tensor::from_data({0, 1, 5, 6, 2, 3, 7, 8}, {2, 2, 2}), 0, 0));
}

TEST(ShapeOps, BroadcastToRepeatsAndSumsGradientBack) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({1, 2}, {2, 1}));
  const TensorVar b = maya::broadcast_to(x, {3, 2, 2});
  EXPECT_EQ(shape_of(b), (Shape{3, 2, 2}));
  EXPECT_EQ(b.value().at({2, 1, 0}), 2.0);
  const auto g = t.grad(maya::sum(b));
  EXPECT_TRUE(maya::allclose(g[x], Tensor::full({2, 1}, 6.0), 0, 0));
}

TEST(ShapeOps, GradientsMatchCentralDifferences) {
  struct Case {
    const char* name;
    Shape shape;
    std::function<TensorVar(TensorVar)> op;
  };
  const std::vector<Case> cases = {
      {"reshape",
       {2, 3, 2},
       [](TensorVar x) {
         return x.reshape({3, 4});
       }},
      {"squeeze", {3, 1, 2}, [](TensorVar x) { return maya::squeeze(x, 1); }},
      {"unsqueeze", {3, 2}, [](TensorVar x) { return maya::unsqueeze(x, 1); }},
      {"transpose", {2, 3, 4}, [](TensorVar x) { return x.transpose(); }},
      {"transpose(0,2)", {2, 3, 4}, [](TensorVar x) { return maya::transpose(x, 0, 2); }},
      {"permute",
       {2, 3, 4},
       [](TensorVar x) {
         return maya::permute(x, {1, 2, 0});
       }},
      {"slice", {3, 7}, [](TensorVar x) { return x.slice(1, -6, 7, 2); }},
      {"slice rows", {5, 2}, [](TensorVar x) { return x.slice(0, 1, 4); }},
      {"select", {3, 4, 2}, [](TensorVar x) { return x.select(1, -2); }},
      {"broadcast_to",
       {3, 1},
       [](TensorVar x) {
         return maya::broadcast_to(x, {2, 3, 4});
       }},
      {"concat self",
       {2, 3},
       [](TensorVar x) {
         return maya::concat({x, x * x, x}, 1);
       }},
      {"stack self",
       {2, 3},
       [](TensorVar x) {
         return maya::stack({x, x * x}, 1);
       }},
      // Overlapping reads of the same leaf accumulate.
      {"slice + slice", {6}, [](TensorVar x) { return x.slice(0, 0, 4) * x.slice(0, 2, 6); }},
  };
  std::uint64_t seed = 31;
  for (const Case& c : cases) EXPECT_LT(worst_error(c.shape, seed++, c.op), 1e-7) << c.name;
}

TEST(ShapeOps, ConcatAndStackGradientsReachEveryPart) {
  // Parts of every row width the row copies treat apart: 1 to 4, and wider.
  const Tensor inputs[] = {Tensor::uniform({2, 3}, -1, 1, 1), Tensor::uniform({2, 1}, -1, 1, 2),
                           Tensor::uniform({2, 2}, -1, 1, 3), Tensor::uniform({2, 4}, -1, 1, 6),
                           Tensor::uniform({2, 6}, -1, 1, 7)};
  const auto concat_report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) {
        return weighted_sum(maya::square(maya::concat(x, -1)));
      },
      inputs);
  EXPECT_LT(concat_report.max_error(), 1e-7);

  const Tensor same[] = {Tensor::uniform({3, 2}, -1, 1, 4), Tensor::uniform({3, 2}, -1, 1, 5)};
  for (long axis = -3; axis < 3; ++axis) {
    const auto stack_report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          return weighted_sum(maya::square(maya::stack(x, axis)));
        },
        same);
    EXPECT_LT(stack_report.max_error(), 1e-7) << "axis " << axis;
  }
}

TEST(ShapeOps, ConstantPartsOfAConcatGetNoGradient) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::ones({2}));
  const TensorVar c = t.constant(Tensor::ones({3}));
  const auto g = t.grad(maya::sum(maya::concat({c, a}, 0)));
  EXPECT_TRUE(maya::allclose(g[a], Tensor::ones({2}), 0, 0));
}

TEST(ShapeOps, ReshapeToADifferentSizeNamesBothShapes) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3}));
  const std::string message = error_of<maya::ShapeError>([&] { (void)x.reshape({4, 2}); });
  EXPECT_TRUE(contains(message, "reshape")) << message;
  EXPECT_TRUE(contains(message, "[2, 3]")) << message;
  EXPECT_TRUE(contains(message, "[4, 2]")) << message;
}

TEST(ShapeOps, BadAxesNameTheOp) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3}));
  using E = maya::ShapeError;
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::transpose(x, 0, 2); }), "transpose: axis 2"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::permute(x, {0, 0}); }), "permute: axis 0"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::permute(x, {0, 0}); }), "[2, 3]"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::permute(x, {1, 0, 2}); }), "3 axes"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::permute(x, {0, 5}); }), "permute: axis 5"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::squeeze(x, 0); }), "squeeze: axis 0"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::squeeze(x, 0); }), "[2, 3]"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::squeeze(x, 2); }), "squeeze: axis 2"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::unsqueeze(x, 3); }), "unsqueeze: axis 3"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::unsqueeze(x, -4); }), "unsqueeze: axis -4"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)x.slice(2, 0, 1); }), "slice: axis 2"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)x.select(-3, 0); }), "select: axis -3"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::concat({x, x}, 2); }), "concat: axis 2"));
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::stack({x, x}, 3); }), "stack: axis 3"));
}

TEST(ShapeOps, SliceRejectsNonPositiveStep) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({4}));
  const std::string message = error_of<maya::ValueError>([&] { (void)x.slice(0, 0, 4, 0); });
  EXPECT_TRUE(contains(message, "slice: step must be positive, got 0")) << message;
  EXPECT_TRUE(contains(message, "[4]")) << message;
  EXPECT_TRUE(contains(error_of<maya::ValueError>([&] { (void)x.slice(0, 3, 0, -1); }), "-1"));
}

TEST(ShapeOps, SelectOutOfRangeNamesIndexAndShape) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const std::string message = error_of<maya::ShapeError>([&] { (void)x.select(0, 3); });
  EXPECT_TRUE(contains(message, "select: index 3")) << message;
  EXPECT_TRUE(contains(message, "extent 3")) << message;
  EXPECT_TRUE(contains(message, "[3, 2]")) << message;
  EXPECT_TRUE(contains(error_of<maya::ShapeError>([&] { (void)x.select(1, -3); }), "index -3"));
}

TEST(ShapeOps, ConcatAndStackMismatchesNameThePartsShapes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({2, 3}));
  const TensorVar b = t.var(Tensor::zeros({3, 3}));
  const TensorVar v = t.var(Tensor::zeros({6}));
  using E = maya::ShapeError;
  const std::string concat_message = error_of<E>([&] { (void)maya::concat({a, b}, 1); });
  EXPECT_TRUE(contains(concat_message, "concat: part 1 has shape [3, 3]")) << concat_message;
  EXPECT_TRUE(contains(concat_message, "[2, 3]")) << concat_message;
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::concat({a, v}, 0); }), "[6]"));
  const std::string stack_message = error_of<E>([&] { (void)maya::stack({a, b}, 0); });
  EXPECT_TRUE(contains(stack_message, "stack: part 1 has shape [3, 3]")) << stack_message;
  EXPECT_TRUE(contains(stack_message, "[2, 3]")) << stack_message;
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::concat(std::span<const TensorVar>{}, 0); }),
                       "concat"));
  EXPECT_TRUE(
      contains(error_of<E>([&] { (void)maya::stack(std::span<const TensorVar>{}, 0); }), "stack"));
}

TEST(ShapeOps, BroadcastToIncompatibleShapeNamesBoth) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3}));
  using E = maya::ShapeError;
  const std::string message = error_of<E>([&] { (void)maya::broadcast_to(x, {3, 3}); });
  EXPECT_TRUE(contains(message, "broadcast_to")) << message;
  EXPECT_TRUE(contains(message, "[2, 3]")) << message;
  EXPECT_TRUE(contains(message, "[3, 3]")) << message;
  EXPECT_TRUE(contains(error_of<E>([&] { (void)maya::broadcast_to(x, {3}); }), "[3]"));
}
