#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::IndexTensor;
using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

// The message of the ShapeError `body` throws (fails the test when it throws none).
std::string shape_error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const maya::ShapeError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected maya::ShapeError";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(IndexSelect, TakesSlicesAlongAnAxisWithRepeats) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::arange(0, 6).reshape({3, 2}));
  const std::vector<std::int64_t> rows = {2, 0, 2};
  EXPECT_TRUE(maya::allclose(maya::index_select(x, 0, rows).value(),
                             Tensor::from_data({4, 5, 0, 1, 4, 5}, {3, 2}), 0, 0));
  const std::vector<std::int64_t> cols = {1};
  EXPECT_TRUE(maya::allclose(maya::index_select(x, -1, cols).value(),
                             Tensor::from_data({1, 3, 5}, {3, 1}), 0, 0));
}

TEST(IndexSelect, GradientAccumulatesRepeatedIndices) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::arange(0, 6).reshape({3, 2}));
  const std::vector<std::int64_t> rows = {2, 0, 2};
  const auto g = t.grad(maya::index_select(x, 0, rows).sum());
  EXPECT_TRUE(maya::allclose(g[x], Tensor::from_data({1, 1, 0, 0, 2, 2}, {3, 2}), 0, 0));
}

TEST(IndexSelect, GradientsMatchCentralDifferences) {
  const std::vector<std::int64_t> indices = {1, 3, 1, 0, 2};
  std::uint64_t seed = 3;
  for (const Shape& shape : {Shape{4}, Shape{4, 3}, Shape{2, 4, 3}}) {
    for (long axis = 0; axis < static_cast<long>(shape.size()); ++axis) {
      if (shape[static_cast<std::size_t>(axis)] != 4) continue;
      const Tensor inputs[] = {Tensor::uniform(shape, -1, 1, seed++)};
      const auto report = maya::gradcheck(
          [&](TensorTape&, std::span<const TensorVar> x) {
            return weighted_sum(maya::index_select(x[0], axis, indices));
          },
          inputs);
      EXPECT_LT(report.max_error(), 1e-7) << maya::shape_string(shape) << " axis " << axis;
    }
  }
}

TEST(IndexAdd, AssemblesPerSpringForcesIntoParticles) {
  // Two springs (0-1, 1-2) in 2-D: each adds its force to one endpoint.
  TensorTape t;
  const TensorVar particles = t.var(Tensor::zeros({3, 2}));
  const TensorVar forces = t.var(Tensor::from_data({1, 2, 3, 4}, {2, 2}));
  const std::vector<std::int64_t> ends = {1, 1};
  const TensorVar total = maya::index_add(particles, 0, ends, forces);
  EXPECT_TRUE(maya::allclose(total.value(), Tensor::from_data({0, 0, 4, 6, 0, 0}, {3, 2}), 0, 0));
}

TEST(IndexAdd, GradientsMatchCentralDifferences) {
  const std::vector<std::int64_t> indices = {2, 0, 2, 1};
  std::uint64_t seed = 17;
  const std::pair<Shape, Shape> cases[] = {
      {{3}, {4}}, {{3, 2}, {4, 2}}, {{2, 3}, {2, 4}}, {{2, 3, 2}, {2, 4, 2}}};
  for (const auto& [sx, ss] : cases) {
    long axis = 0;
    while (sx[static_cast<std::size_t>(axis)] == ss[static_cast<std::size_t>(axis)]) ++axis;
    const Tensor inputs[] = {Tensor::uniform(sx, -1, 1, seed++),
                             Tensor::uniform(ss, -1, 1, seed++)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          return weighted_sum(maya::square(maya::index_add(x[0], axis, indices, x[1])));
        },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7) << maya::shape_string(sx) << " axis " << axis;
  }
}

TEST(IndexSelect, OutOfRangeIndexNamesOpPositionAndBound) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({5, 3}));
  const std::vector<std::int64_t> too_big = {0, 5};
  const std::string message = shape_error_of([&] { (void)maya::index_select(x, 0, too_big); });
  EXPECT_TRUE(contains(message, "index_select")) << message;
  EXPECT_TRUE(contains(message, "index 5 at position 1")) << message;
  EXPECT_TRUE(contains(message, "extent 5")) << message;
  EXPECT_TRUE(contains(message, "[5, 3]")) << message;
  const std::vector<std::int64_t> negative = {-1};
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::index_select(x, 1, negative); }),
                       "index -1 at position 0"));
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::index_select(x, 2, too_big); }),
                       "index_select: axis 2"));
}

TEST(IndexAdd, BadIndexOrSourceShapeNamesOpAndShapes) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const TensorVar source = t.var(Tensor::zeros({2, 2}));
  const std::vector<std::int64_t> bad = {0, 3};
  const std::string index_message =
      shape_error_of([&] { (void)maya::index_add(x, 0, bad, source); });
  EXPECT_TRUE(contains(index_message, "index_add: index 3 at position 1")) << index_message;
  const std::vector<std::int64_t> three = {0, 1, 2};
  const std::string shape_message =
      shape_error_of([&] { (void)maya::index_add(x, 0, three, source); });
  EXPECT_TRUE(contains(shape_message, "index_add")) << shape_message;
  EXPECT_TRUE(contains(shape_message, "[2, 2]")) << shape_message;
  EXPECT_TRUE(contains(shape_message, "[3, 2]")) << shape_message;
}

TEST(Gather, ReadsAlongAnAxisAsTorchGather) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({1, 2, 3, 4, 5, 6}, {3, 2}));
  // out[i][j] = x[index[i][j]][j].
  const IndexTensor rows = IndexTensor::from_data({2, 0, 1, 1}, {2, 2});
  EXPECT_TRUE(maya::allclose(maya::gather(x, 0, rows).value(),
                             Tensor::from_data({5, 2, 3, 4}, {2, 2}), 0, 0));
  // out[i][j] = x[i][index[i][j]]; the index may be narrower than x on the other axes.
  const IndexTensor cols = IndexTensor::from_data({1, 1, 0}, {3, 1});
  EXPECT_TRUE(
      maya::allclose(maya::gather(x, 1, cols).value(), Tensor::from_data({2, 4, 5}, {3, 1}), 0, 0));
}

TEST(Gather, GradientsMatchCentralDifferences) {
  const IndexTensor index = IndexTensor::from_data({0, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1}, {2, 3, 2});
  std::uint64_t seed = 51;
  for (long axis = 0; axis < 3; ++axis) {
    const Tensor inputs[] = {Tensor::uniform({3, 3, 3}, -1, 1, seed++)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          return weighted_sum(maya::gather(x[0], axis, index));
        },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7) << "axis " << axis;
  }
}

TEST(ScatterAdd, AddsSourceAtIndicesAsTorchScatterAdd) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const TensorVar source = t.var(Tensor::from_data({1, 2, 3, 4, 5, 6}, {3, 2}));
  // out[index[i][j]][j] += source[i][j]; the index covers the first two source rows only.
  const IndexTensor index = IndexTensor::from_data({2, 0, 2, 2}, {2, 2});
  const TensorVar out = maya::scatter_add(x, 0, index, source);
  EXPECT_TRUE(maya::allclose(out.value(), Tensor::from_data({0, 2, 0, 0, 4, 4}, {3, 2}), 0, 0));
  const auto g = t.grad(maya::sum(out));
  EXPECT_TRUE(maya::allclose(g[source], Tensor::from_data({1, 1, 1, 1, 0, 0}, {3, 2}), 0, 0));
  EXPECT_TRUE(maya::allclose(g[x], Tensor::ones({3, 2}), 0, 0));
}

TEST(ScatterAdd, GradientsMatchCentralDifferences) {
  const IndexTensor index = IndexTensor::from_data({1, 0, 1, 1, 1, 0, 0, 0}, {2, 2, 2});
  std::uint64_t seed = 61;
  for (long axis = -3; axis < 3; ++axis) {
    const Tensor inputs[] = {Tensor::uniform({3, 3, 2}, -1, 1, seed++),
                             Tensor::uniform({2, 3, 2}, -1, 1, seed++)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          return weighted_sum(maya::square(maya::scatter_add(x[0], axis, index, x[1])));
        },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7) << "axis " << axis;
  }
}

TEST(Gather, OutOfRangeIndexNamesOpPositionAndBound) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const IndexTensor index = IndexTensor::from_data({0, 1, 3, 0}, {2, 2});
  const std::string message = shape_error_of([&] { (void)maya::gather(x, 0, index); });
  EXPECT_TRUE(contains(message, "gather: index 3 at position [1, 0]")) << message;
  EXPECT_TRUE(contains(message, "extent 3")) << message;
  EXPECT_TRUE(contains(message, "[3, 2]")) << message;
  const IndexTensor negative = IndexTensor::from_data({-2}, {1, 1});
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::gather(x, 1, negative); }),
                       "gather: index -2 at position [0, 0]"));
}

TEST(Gather, IndexShapeThatDoesNotFitNamesBothShapes) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const IndexTensor flat = IndexTensor::from_data({0, 1}, {2});
  const std::string rank_message = shape_error_of([&] { (void)maya::gather(x, 0, flat); });
  EXPECT_TRUE(contains(rank_message, "gather")) << rank_message;
  EXPECT_TRUE(contains(rank_message, "[2]")) << rank_message;
  EXPECT_TRUE(contains(rank_message, "[3, 2]")) << rank_message;
  const IndexTensor wide = IndexTensor::from_data({0, 0, 0}, {1, 3});
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::gather(x, 0, wide); }), "[1, 3]"));
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::gather(x, 2, wide); }), "gather: axis 2"));
}

TEST(ScatterAdd, BadIndexOrShapesNameOpAndShapes) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3, 2}));
  const TensorVar source = t.var(Tensor::zeros({2, 2}));
  const IndexTensor bad = IndexTensor::from_data({0, 3}, {1, 2});
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::scatter_add(x, 0, bad, source); }),
                       "scatter_add: index 3 at position [0, 1]"));
  const IndexTensor tall = IndexTensor::from_data({0, 0, 0, 0, 0, 0}, {3, 2});
  const std::string message = shape_error_of([&] { (void)maya::scatter_add(x, 0, tall, source); });
  EXPECT_TRUE(contains(message, "scatter_add")) << message;
  EXPECT_TRUE(contains(message, "[3, 2]")) << message;
  EXPECT_TRUE(contains(message, "source of shape [2, 2]")) << message;
}

TEST(Indexing, IndicesAreSavedSoTheCallersBufferMayChange) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({3}));
  std::vector<std::int64_t> indices = {0, 0};
  const TensorVar y = maya::index_select(x, 0, indices);
  IndexTensor index = IndexTensor::from_data({2}, {1});
  const TensorVar z = maya::gather(x, 0, index);
  indices = {1, 1};
  index.values[0] = 1;
  const auto g = t.grad(maya::sum(y) + maya::sum(z));
  EXPECT_TRUE(maya::allclose(g[x], Tensor::from_data({2, 0, 1}, {3}), 0, 0));
}
